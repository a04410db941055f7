"""Signed, expiring tokens for e-mail verification and password reset."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shop.accounts.models import User
from shop.extensions import db

VERIFY = "email-verify"
RESET = "password-reset"
INVITE = "invitation"


class TokenError(Exception):
    """The link is broken, expired or already used."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"neigou-{purpose}")


def _fingerprint(user: User) -> str:
    # Changes when the password or verification state changes, so a used link stops working.
    material = f"{user.password_hash}|{user.email_verified_at}|{user.email}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def make_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"uid": user.id, "fp": _fingerprint(user)})


def read_token(token: str, purpose: str, max_age: timedelta) -> User:
    try:
        data = _serializer(purpose).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise TokenError("expired") from exc
    except BadSignature as exc:
        raise TokenError("invalid") from exc
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or data.get("fp") != _fingerprint(user):
        raise TokenError("used")
    return user
