"""Outgoing e-mail, sent only after the transaction that caused it commits.

With ``MAIL_SERVER`` set, messages go out by SMTP; otherwise each one is written as an
``.eml`` file under ``instance/outbox/`` and logged, so the demo and the tests can follow links.
"""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path

from flask import current_app

from shop.database import after_commit, utcnow


def queue_mail(to: str, subject: str, body: str) -> None:
    """Queue a message on the current transaction; it is sent if and when that commits."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@neigou>"
    message["Date"] = utcnow().strftime("%a, %d %b %Y %H:%M:%S +0000")
    message.set_content(body)
    app = current_app._get_current_object()

    def _send():
        with app.app_context():
            deliver(message)

    after_commit(_send)


def outbox_dir(app=None) -> Path:
    app = app or current_app
    return Path(app.instance_path) / "outbox"


def deliver(message: EmailMessage) -> None:
    config = current_app.config
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
        return
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(bytes(message))
    current_app.logger.info("mail to %s (%s) written to %s", message["To"], message["Subject"], path)
