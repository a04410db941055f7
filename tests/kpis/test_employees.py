"""The employees table as the database sorts, searches and pages it (``kpis.employees``) against
``kpis.domain`` over every employee in Python (``tests.kpis.funnel_recount.employee_funnels``, sorted by
``SORTS``: what each sort of the page means), with departments large enough to be compared
with themselves."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest

from kpis import domain, employees, medians
from kpis.aggregation import aggregate
from kpis.figures import Filters
from shop.accounts.models import Department
from shop.extensions import db
from tests.kpis import funnel_recount as recount
from tests.kpis.conftest import add_event, utc

SORTS = {
    "name": lambda r: r.name.lower(),
    # In the funnel's order, none last.
    "bottleneck": lambda r: domain.STAGES[1:].index(r.bottleneck) if r.bottleneck else len(domain.STAGES) - 1,
}
for _kind in domain.STAGES:
    SORTS[_kind] = lambda r, k=_kind: r.counts.get(k, 0)
for _kind in domain.STAGES[1:]:  # the first stage has no conversion
    SORTS[f"{_kind}_rate"] = lambda r, k=_kind: -1 if r.conversions.get(k) is None else r.conversions[k]

START = utc(2026, 3, 2)
WINDOW = Filters(start=START.date(), end=START.date() + timedelta(days=13))
KINDS = domain.STAGES


@pytest.fixture
def staff(make_user):
    """A department of 24 employees (compared with its own medians), one of 5 (compared with
    the company's), 6 without one; varied funnels in the window; one employee joined after the
    window and one left before it, both with events that must not count."""
    rng = random.Random(19)
    large, small = Department(name="Sales"), Department(name="Research")
    db.session.add_all([large, small])
    db.session.commit()
    joined = utc(2026, 1, 5)
    # ASCII: the database's collation and Python order them alike.
    names = ["ann", "Bob", "bob", "Cai Lin", "dora", "Emile", "fay"]
    people = []
    for i in range(35):
        department = large if i < 24 else small if i < 29 else None
        people.append(
            make_user(name=f"{names[i % len(names)]} {i // len(names)}", department=department, created_at=joined)
        )
    late = make_user(name="late joiner", department=large, created_at=START + timedelta(days=20))
    gone = make_user(name="gone", department=large, created_at=joined, deactivated_at=START - timedelta(days=1))
    for person in [*people, late, gone]:
        if person is people[-1]:
            continue  # an employee without events: zero counts, no bottleneck
        n = rng.randint(4, 12)
        for kind in KINDS:
            for _ in range(n):
                at = START + timedelta(days=rng.randint(0, 13), hours=rng.randint(0, 23))
                add_event(kind, at, actor=None if kind == "visit" else person, chain=person)
            n = rng.randint(0, n)
    aggregate(full=True)
    return {"large": large, "small": small, "people": people}


def _python(f: Filters, sort: str, descending: bool, q: str = "") -> list:
    rows = sorted(recount.employee_funnels(f), key=lambda r: r.id)  # ties: by id, as the page
    if q:
        rows = [r for r in rows if q in r.name.lower() or q in r.department.lower()]
    return sorted(rows, key=SORTS[sort], reverse=descending)


def _facts(rows) -> list:
    return [(r.id, +r.counts, r.conversions, r.bottleneck) for r in rows]


@pytest.mark.parametrize("sort", sorted(SORTS))
def test_every_sort_both_ways_and_its_pages(staff, sort):
    for descending in (False, True):
        expected = _python(WINDOW, sort, descending)
        found = employees.page(WINDOW, sort=sort, descending=descending)
        assert _facts(found.rows) == _facts(expected)
        assert found.total == len(expected) == 35
        window = employees.page(WINDOW, sort=sort, descending=descending, offset=10, limit=7)
        assert _facts(window.rows) == _facts(expected[10:17])
        assert window.total == 35
        assert window.bottlenecks == found.bottlenecks == recount.bottleneck_distribution(expected)


def test_search_department_cut_and_a_page_past_the_end(staff):
    cut = replace(WINDOW, department_id=staff["large"].id)
    expected = _python(cut, "visit_rate", True, q="bob")
    found = employees.page(cut, q=" BOB ", sort="visit_rate", descending=True, limit=3)
    assert _facts(found.rows) == _facts(expected[:3])
    assert found.total == len(expected) > 3
    # The distribution is the department cut's, whatever the search.
    everyone = recount.employee_funnels(cut)
    assert found.bottlenecks == recount.bottleneck_distribution(everyone)
    assert sum(found.bottlenecks.values()) == 24
    past = employees.page(cut, q="bob", offset=100, limit=25)
    assert past.rows == [] and past.total == len(expected)
    assert past.bottlenecks == found.bottlenecks
    assert employees.distribution(cut) == found.bottlenecks
    # A search by department name finds the whole department.
    assert employees.page(WINDOW, q="research").total == 5


def test_medians_by_department_equal_a_recount(staff):
    found = medians.medians_by_department(WINDOW)
    assert set(found) == {"company", str(staff["large"].id)}  # Research is small, others have none
    assert found == recount.counted_here(WINDOW)
    assert all(value is not None for value in found[str(staff["large"].id)].values())
    # Cut by a level: counted from the cut rollups, every employee of the window still rated.
    level = replace(WINDOW, level=0)
    assert medians.medians_by_department(level) == recount.counted_here(level)
    assert _facts(employees.page(level).rows) == _facts(_python(level, "name", False))


def test_stages_as_far_below_the_median_go_to_the_earliest(make_user):
    """Four employees without a department, compared with the company's medians (visit 0.75,
    sign-up 0.75, the later steps 1.0): Dan converts half at both visit and sign-up, 0.25 below
    each median, and his bottleneck is the earlier stage; Bo's is visit, Cy's sign-up, Al has
    none."""
    funnels = {  # stage counts, share to repeat order
        "Al": (2, 2, 2, 2, 2, 2),
        "Bo": (2, 1, 1, 1, 1, 1),
        "Cy": (2, 2, 1, 1, 1, 1),
        "Dan": (4, 2, 1, 1, 1, 1),
    }
    for name, counts in funnels.items():
        person = make_user(name=name, created_at=START - timedelta(days=30))
        for kind, n in zip(KINDS, counts, strict=True):
            for i in range(n):
                add_event(kind, START + timedelta(hours=i), actor=person)
    aggregate(full=True)
    found = {r.name: r.bottleneck for r in employees.page(WINDOW).rows}
    assert found == {"Al": None, "Bo": "visit", "Cy": "signup", "Dan": "visit"}
    assert _facts(employees.page(WINDOW).rows) == _facts(_python(WINDOW, "name", False))
