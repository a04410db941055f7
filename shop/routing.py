"""URL converters. ``<int:...>`` in every route is a database id: a whole number from 1 to the
largest 64-bit integer. Anything else (``/orders/9223372036854775808``, ``/orders/0``) matches
no route and is answered with 404, before a view could hand it to the database, which refuses
integers beyond 64 bits with an error instead of "not found"."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1  # BIGINT, and SQLite's INTEGER


class IdConverter(IntegerConverter):
    """``int`` with the range of a database id unless a rule says otherwise."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max)


def init_converters(app: Flask) -> None:
    """Before any blueprint adds its rules: rules take their converters when they are added."""
    app.url_map.converters["int"] = IdConverter
