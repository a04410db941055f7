"""Domain errors raised by services, and the friendly error pages."""

from __future__ import annotations

from flask import Response, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, SecurityError


class DomainError(Exception):
    """A rule refused an action. ``message`` is safe to show to the user; ``reason`` is
    hashable and equal for refusals that show the same message (pages are kept by it)."""

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def reason(self) -> tuple:
        return (type(self).__name__, self.message)


class NotAllowed(DomainError):
    """The action is not allowed in the object's current state."""


def init_error_pages(app) -> None:
    def _render(code: int, title: str):

        if request.path.startswith("/healthz") or request.accept_mimetypes.best == "application/json":
            return jsonify(error=code), code
        return render_template("error.html", code=code, title=_(title)), code

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        if exc.response is not None:  # a page made for this refusal (the log-in's per-account limit)
            return exc.response
        titles = {
            400: "Bad request",
            403: "You may not see this page",
            404: "Page not found",
            405: "Method not allowed",
            413: "File too large",
            429: "Too many attempts, please wait",
        }
        return _render(exc.code, titles.get(exc.code, exc.name))

    @app.errorhandler(SecurityError)
    def _unknown_host(exc: SecurityError):
        # A Host not in TRUSTED_HOSTS: no URL can be built for it, so no page either.
        from flask_babel import gettext as _

        return Response(_("This site does not answer for this host name.") + "\n", status=400, mimetype="text/plain")

    @app.errorhandler(500)
    def _server_error(exc):
        return _render(500, "Something went wrong on our side")
