"""Text that no page accepts, refused where it enters: NUL characters in the path, the query
string or a posted form. PostgreSQL refuses NUL in text ("A string literal cannot contain NUL
(0x00) characters"), SQLite stores it and cuts strings at it, and no field of this shop needs
it, so one check before any view answers 400 with a clear message instead of each view failing
differently (or with a 500) when the value reaches the database."""

from __future__ import annotations

from flask import Flask, abort, request
from flask_babel import gettext as _

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def has_nul(values) -> bool:
    return any("\x00" in value for value in values)


def refuse_nul_characters() -> None:
    query = request.query_string
    if (
        "\x00" in request.path
        or b"%00" in query
        or b"\x00" in query
        or (
            request.mimetype in FORM_TYPES and has_nul(text for pair in request.form.items(multi=True) for text in pair)
        )
    ):
        abort(
            400, description=_("The request contains a NUL character, which no field accepts. Remove it and try again.")
        )


def init_input_checks(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
