"""The signed session cookie, as Flask makes it, with its signing serializer made once.

Flask's ``SecureCookieSessionInterface`` builds a new ``URLSafeTimedSerializer`` on every
request (and itsdangerous checks the JSON serializer by dumping ``{}`` while building it): the
same keys, salt and settings each time. Here it is built once per key set and kept; a rotated
``SECRET_KEY`` or ``SECRET_KEY_FALLBACKS`` gives a new one. The cookie's format, signature,
expiry and every setting are Flask's own."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            if serializer is not None:
                self._serializers = {keys: serializer}  # the keys now in use only
        return serializer
