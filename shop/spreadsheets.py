"""CSV files for the office: UTF-8 with a byte-order mark so that Excel opens them as they are,
and text that a spreadsheet would run as a formula kept as text."""

from __future__ import annotations

import csv
import io

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def csv_response(rows: list[list], filename: str) -> Response:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return Response(
        out.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
