"""Text that no page accepts, refused where it enters: NUL characters in the path, the query
string or a posted form. PostgreSQL refuses NUL in text ("A string literal cannot contain NUL
(0x00) characters"), SQLite stores it and cuts strings at it, and no field of this shop needs
it, so one check before any view answers 400 with a clear message instead of each view failing
differently (or with a 500) when the value reaches the database.

And ``parse_id``, the one reading of an id typed in a query string, a form or an uploaded file
(``?order_id=``, ``NG00000042``, ``Order #42``) that no route converter or form field reads."""

from __future__ import annotations

from flask import Flask, abort, request
from flask_babel import gettext as _

# Ids are INTEGER columns: 32 bits on PostgreSQL. A larger number is no id of ours (and SQLite
# refuses one beyond 64 bits with an OverflowError instead of "not found").
MAX_ID = 2**31 - 1

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def has_nul(values) -> bool:
    return any("\x00" in value for value in values)


def parse_id(text: str | None) -> int | None:
    """The id written in ``text``, or None: ASCII digits only (no sign, no spaces, none of the
    other characters ``str.isdigit`` accepts, such as '²' or '٣', which ``int`` refuses or reads
    as another digit), leading zeros allowed, from 1 to ``MAX_ID``. Callers answer None with
    404, a form error or "no match"."""
    if not text or not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0")
    if not digits or len(digits) > len(str(MAX_ID)):  # never ``int`` of a thousand digits
        return None
    number = int(digits)
    return number if number <= MAX_ID else None


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
