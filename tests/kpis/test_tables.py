"""How a table's cells read on the page and in the charts, in each language (kpis/tables.py)."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import force_locale

from kpis.tables import Column, Table, chart_data, export, show


def test_hours_and_months_read_in_the_pages_language(app):
    with app.test_request_context():
        with force_locale("en"):
            assert show(timedelta(hours=212, minutes=24), "duration") == "212.4 h"
            assert show(date(2026, 1, 1), "month") == "Jan 2026"
        with force_locale("zh_CN"):
            assert show(timedelta(hours=212, minutes=24), "duration") == "212.4 小时"
            assert show(date(2026, 1, 1), "month") == "2026年1月"


def test_charts_label_months_as_the_table_does_and_the_csv_stays_iso(app):
    table = Table("t", "T", [Column("Month", "month"), Column("Revenue", "money")], rows=[[date(2026, 3, 1), 1_000]])
    with app.test_request_context(), force_locale("zh_CN"):
        assert chart_data(table)["rows"] == [["2026年3月", 10.0]]
        assert export(date(2026, 3, 1), "month") == "2026-03"
