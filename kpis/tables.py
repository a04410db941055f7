"""Tables of figures: shown on the page, drawn as charts and downloaded as CSV from the same
rows, so a chart never shows a number its table does not.

A column has a kind that says how to show and export its cells: ``text``, ``int``, ``ratio``
(a share: 12.5 % on the page, 0.125 in the CSV), ``money`` (minor units: 1,234.50 on the page,
1234.50 in the CSV), ``duration`` (a timedelta: hours with one decimal) and ``date``/``month`` (as the locale writes them on
the page and in the charts, ISO in the CSV).
CSV files are UTF-8 with a byte-order mark, so that Excel opens Chinese names as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _

from shop.i18n import format_money, local_month, to_major
from shop.spreadsheets import csv_text


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "int"
    key: str = ""


@dataclass
class Table:
    name: str  # the CSV file's name and the chart's reference
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    chart: str | None = None  # funnel, bars, stacked, line, lorenz, heatmap
    series: list[int] | None = None  # the columns a bar chart draws (default: the second)
    ids: list[int] | None = None  # the user each row is about (the employees table links them)
    note: str | None = None  # shown under the title: what the figures count, cuts that do not apply

    def column(self, index: int) -> list:
        return [row[index] for row in self.rows]


def _minor(amount: int) -> str:
    return str(to_major(amount, current_app.config["CURRENCY"]))


def show(value, kind: str) -> str:
    """A cell for the page, in the user's locale."""
    if kind == "any":  # a (value, kind) pair: a table of mixed figures
        return show(*value)
    if value is None:
        return "–"
    if kind == "ratio":
        return format_percent(value, "#,##0.0%")
    if kind == "money":
        return format_money(value)
    if kind == "duration":
        return _("%(hours)s h", hours=format_decimal(value / timedelta(hours=1), "#,##0.0"))
    if kind == "float":
        return format_decimal(value, "#,##0.00")
    if kind == "int":
        return format_decimal(value)
    if kind == "month":
        return local_month(value, short=True)
    if kind == "date":
        return format_date(value, "short")
    return str(value)


def export(value, kind: str):
    """A cell for the CSV: plain numbers a spreadsheet can add up."""
    if kind == "any":
        return export(*value)
    if value is None:
        return ""
    if kind == "ratio" or kind == "float":
        return f"{value:.4f}"
    if kind == "money":
        return _minor(value)
    if kind == "duration":
        return f"{value / timedelta(hours=1):.2f}"
    if kind == "month" and isinstance(value, date):
        return value.strftime("%Y-%m")
    if isinstance(value, date):
        return value.isoformat()
    return value


def chart_value(value, kind: str):
    """A cell for the chart's data: numbers (money in major units, shares as percentages)."""
    if kind == "any":
        return chart_value(*value)
    if value is None:
        return None
    if kind == "ratio":
        return round(value * 100, 2)
    if kind == "money":
        return float(_minor(value))
    if kind == "duration":
        return round(value / timedelta(hours=1), 2)
    if kind in ("month", "date"):  # an axis's labels, as the table writes them
        return show(value, kind)
    return value


def charts_json(tables: list[Table]) -> str:
    """The charts' data for a ``<script type="application/json">`` block: ``<``, ``>`` and ``&``
    escaped, so that no name can close the block."""
    text = json.dumps([chart_data(t) for t in tables if t.chart], ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def to_csv(table: Table) -> str:
    """The table's CSV body (shop/spreadsheets.py adds the byte-order mark when handed out)."""
    header = [str(c.label) for c in table.columns]
    return csv_text(
        [header, *([export(v, c.kind) for v, c in zip(row, table.columns, strict=True)] for row in table.rows)]
    )


def chart_data(table: Table) -> dict:
    return {
        "name": table.name,
        "chart": table.chart,
        "series": table.series,
        "title": str(table.title),
        "columns": [str(c.label) for c in table.columns],
        "rows": [[chart_value(v, c.kind) for v, c in zip(row, table.columns, strict=True)] for row in table.rows],
    }
