"""What every form-post view does with a service call: commit it, or show why it was refused."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash

from shop.errors import DomainError
from shop.extensions import db


def commit_or_refuse(action: Callable[[], object], done: str) -> bool:
    """Run ``action``; commit and flash ``done``, or roll back and flash the rule that refused it."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return False
    db.session.commit()
    flash(done, "success")
    return True
