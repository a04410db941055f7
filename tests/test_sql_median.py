"""``shop.database.median``: ``statistics.median`` as an SQL aggregate, on SQLite and PostgreSQL."""

from __future__ import annotations

import statistics

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Float, Integer, literal, select, union_all

from shop.database import median
from shop.extensions import db


def medians(groups: dict[int, list[float | None]]) -> dict[int, float | None]:
    """Each group's median, counted by the database."""
    rows = [
        select(literal(group, Integer).label("g"), literal(value, Float).label("v"))
        for group, values in groups.items()
        for value in values
    ]
    table = union_all(*rows).subquery()
    return dict(db.session.execute(select(table.c.g, median(table.c.v)).group_by(table.c.g)).all())


def test_the_middle_value_or_the_mean_of_the_two_middle_ones_without_nulls():
    found = medians({1: [3.0, 1.0, 2.0], 2: [4.0, 1.0, 3.0, 2.0], 3: [None, 5.0, None, 7.0], 4: [None], 5: [0.25]})
    assert found == {1: 2.0, 2: 2.5, 3: 6.0, 4: None, 5: 0.25}


def test_a_whole_table_without_rows_has_no_median():
    table = select(literal(1.0, Float).label("v")).where(literal(False)).subquery()
    assert db.session.execute(select(median(table.c.v))).scalar() is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=25))
def test_the_same_float_as_statistics_median(values):
    assert medians({1: values}) == {1: statistics.median(values)}
