"""CSV files for the office, the one way the shop writes them: UTF-8 with a byte-order mark, so
that Excel in a Chinese office opens Chinese names as they are, and text that a spreadsheet
would run as a formula kept as text. Every CSV the shop hands out (pages, the CLI) goes through
here; ``csv_text`` is the body alone, for files that are recorded and handed out again later.

Files coming in (the roster, shipments) are read with ``decode_text``: UTF-8 with or without
the mark, else GB18030, of which GBK is a part (what Excel's plain "CSV" is on a Chinese
Windows)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from flask import Response

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def cell(value) -> object:
    """A cell as written: None as empty; text that a spreadsheet would run as a formula behind
    an apostrophe (a plain number such as "-5" stays a number)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + value
    return "" if value is None else value


def csv_text(rows: Iterable[Sequence]) -> str:
    """The CSV body of ``rows`` (header first), every cell through ``cell``; no byte-order mark."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return out.getvalue()


def with_bom(text: str) -> str:
    """``text`` starting with exactly one byte-order mark."""
    return BOM + text.removeprefix(BOM)


def csv_bytes(text: str) -> bytes:
    return with_bom(text).encode("utf-8")


def csv_response(body: str | Iterable[Sequence], filename: str) -> Response:
    """A download of ``body``: a CSV text (from ``csv_text``, or as recorded) or the rows."""
    text = body if isinstance(body, str) else csv_text(body)
    return Response(
        csv_bytes(text),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


UTF8, UTF8_BOM, GB18030 = "utf-8", "utf-8-sig", "gb18030"


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of an uploaded file and the encoding it was read as (``UTF8``, ``UTF8_BOM`` or
    ``GB18030``); ValueError for bytes that are none of them, or binary (a NUL byte)."""
    if b"\x00" in data:
        raise ValueError("binary")
    for codec in [UTF8_BOM] if data.startswith(codecs.BOM_UTF8) else [UTF8, GB18030]:
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    raise ValueError("not UTF-8 or GB18030")


def write_csv(path: Path, text: str) -> None:
    path.write_bytes(csv_bytes(text))  # the CSV's own line ends, as written
