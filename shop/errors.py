"""Domain errors raised by services, and the friendly error pages."""

from __future__ import annotations

from flask import Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
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


class AlreadySubmitted(DomainError):
    """The same form came twice (a double tap, a page sent again): nothing new was made.
    ``existing`` is what the first submission made; the view takes the user there, as the
    first one did, and shows ``message`` as news rather than as an error."""

    def __init__(self, message: str, existing, **details):
        super().__init__(message, **details)
        self.existing = existing


def init_error_pages(app) -> None:
    def _render(code: int, title: str, message: str | None = None):
        if request.path.startswith("/healthz") or request.accept_mimetypes.best == "application/json":
            return jsonify(error=code), code
        return render_template("error.html", code=code, title=str(title), message=message), code

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        if exc.response is not None:  # a page made for this refusal (the log-in's per-account limit)
            return exc.response
        titles = {
            400: _l("Bad request"),
            403: _l("You may not see this page"),
            404: _l("Page not found"),
            405: _l("Method not allowed"),
            409: _l("This changed meanwhile; please try again"),
            413: _l("File too large")
            if request.mimetype == "multipart/form-data"
            else _l("What was sent is too large"),
            415: _l("This kind of content is not accepted"),
            422: _l("Some of what was sent cannot be used"),
            429: _l("Too many attempts, please wait"),
        }
        # A description of the app's own (abort(400, description=_(...))) says what to fix;
        # werkzeug's default ones are English only and say nothing more than the title.
        message = exc.description if exc.description != type(exc).description else None
        return _render(exc.code, titles.get(exc.code) or _("This request cannot be answered"), message)

    @app.errorhandler(CSRFError)
    def _expired_form(exc: CSRFError):
        # Flask-WTF's reasons are English and technical; what happened to the reader is one thing.
        return _render(
            400,
            _l("This page has expired"),
            _(
                "The form was open too long, or you logged in or out in another tab meanwhile. "
                "Reload the page and try again."
            ),
        )

    @app.errorhandler(SecurityError)
    def _unknown_host(exc: SecurityError):
        # A Host not in TRUSTED_HOSTS: no URL can be built for it, so no page either.
        return Response(_("This site does not answer for this host name.") + "\n", status=400, mimetype="text/plain")

    @app.errorhandler(500)
    def _server_error(exc):
        return _render(500, _("Something went wrong on our side"))
