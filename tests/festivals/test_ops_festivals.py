"""Operators' festival pages: schedule in their own time zone, validation, allocation, demand."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from shop.audit.models import AuditEntry
from shop.catalog.festival_models import Festival, FestivalItem, Phase
from shop.catalog.models import SalesMode, Variant
from shop.extensions import db
from shop.festivals import reminders
from shop.festivals import services as festivals
from shop.quotas.models import QuotaRule
from tests.conftest import login


def html(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def staff(client, operator):
    login(client, operator)
    return operator


SCHEDULE = {
    "name": "Double Twelve",
    "description": "Year-end fair",
    "preheat_at": "2030-12-01T10:00",
    "launch_at": "2030-12-12T00:00",
    "continuation_at": "",
    "ends_at": "2030-12-13T00:00",
}


def test_a_festival_is_created_with_times_typed_in_the_operators_zone(client, staff):
    assert client.get("/ops/festivals/new").status_code == 200
    response = client.post_form("/ops/festivals/new", SCHEDULE)
    festival = db.session.scalar(select(Festival))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/ops/festivals/{festival.id}")
    # Asia/Shanghai is UTC+8.
    assert festival.preheat_at == datetime(2030, 12, 1, 2, 0, tzinfo=UTC)
    assert festival.launch_at == datetime(2030, 12, 11, 16, 0, tzinfo=UTC)
    assert (festival.continuation_at, festival.slug, festival.created_by_id) == (None, "double-twelve", staff.id)
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.entity_type == "Festival")) == "festival.create"
    page = html(client.get("/ops/festivals"))
    assert "Double Twelve" in page and "Coming soon" not in page  # still a draft

    staff.timezone = "Europe/Paris"
    db.session.commit()
    client.post_form("/ops/festivals/new", SCHEDULE | {"name": "Paris Fair"})
    paris = db.session.scalar(select(Festival).where(Festival.name == "Paris Fair"))
    assert paris.preheat_at == datetime(2030, 12, 1, 9, 0, tzinfo=UTC)  # UTC+1 in winter


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"launch_at": "2030-11-30T00:00"}, "The preheat must start before the launch."),
        ({"continuation_at": "2030-12-13T12:00"}, "The continuation must start after the launch and before the end."),
        ({"ends_at": "2030-12-11T00:00"}, "The festival must end after its launch."),
        ({"name": ""}, "This field is required."),
        ({"preheat_at": "next week"}, "Not a valid datetime value."),
    ],
)
def test_an_invalid_schedule_is_refused_with_a_clear_message(client, staff, changes, message):
    response = client.post_form("/ops/festivals/new", SCHEDULE | changes)
    assert response.status_code == 422
    assert message in html(response)
    assert db.session.scalar(select(Festival.id)) is None


def test_the_schedule_is_edited_in_local_time_and_an_ended_festival_is_history(client, staff, make_festival):
    festival = make_festival(phase=Phase.preheat)
    url = f"/ops/festivals/{festival.id}"
    shanghai = festival.launch_at + timedelta(hours=8)
    assert f'value="{shanghai:%Y-%m-%dT%H:%M}"' in html(client.get(url))
    moved = SCHEDULE | {"name": "Spring Festival, moved"}
    assert client.post_form(url, moved).status_code == 302
    db.session.refresh(festival)
    assert (festival.name, festival.ends_at) == ("Spring Festival, moved", datetime(2030, 12, 12, 16, 0, tzinfo=UTC))
    bad = client.post_form(url, moved | {"ends_at": "2030-12-01T00:00"})
    assert bad.status_code == 422 and "The festival must end after its launch." in html(bad)

    over = make_festival(phase=Phase.ended, name="Summer Fair")
    refused = client.post_form(f"/ops/festivals/{over.id}", SCHEDULE)
    assert refused.status_code == 422 and "An ended festival cannot be changed." in html(refused)
    assert client.get("/ops/festivals/999999").status_code == 404


def _allocate(client, festival, **fields):
    data = {"variant_id": "", "quantity": 4, "employee_price": "49.90", "contact_price": "59.90", "per_buyer_limit": ""}
    return client.post_form(f"/ops/festivals/{festival.id}/items", data | fields)


def test_allocation_takes_general_stock_with_prices_in_major_units(client, staff, make_festival, make_product):
    festival = make_festival(phase=Phase.preheat)
    variant = make_product(stock=10).variants[0]
    assert variant.sku in html(client.get(f"/ops/festivals/{festival.id}"))  # offered in the picker
    response = _allocate(client, festival, variant_id=variant.id, per_buyer_limit=2)
    assert response.status_code == 302
    item = db.session.scalar(select(FestivalItem))
    assert (item.allocated, item.employee_price, item.contact_price, item.per_buyer_limit) == (4, 4_990, 5_990, 2)
    assert db.session.get(Variant, variant.id).stock == 6
    assert db.session.scalar(select(QuotaRule.limit_value).where(QuotaRule.festival_item_id == item.id)) == 2
    page = html(client.get(f"/ops/festivals/{festival.id}"))
    assert "CN¥49.90" in page and "CN¥59.90" in page

    short = _allocate(client, festival, variant_id=variant.id, quantity=7)
    assert short.status_code == 422
    assert f"Only 6 units of {variant.product.name} (Option 0) are in general stock." in html(short)
    assert db.session.get(Variant, variant.id).stock == 6


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"variant_id": "999999"}, "This item no longer exists: pick another from the list."),
        ({"variant_id": ""}, "Pick an item from the list."),
        ({"quantity": 0}, "Number must be between 1 and 1000000."),
        ({"employee_price": "1.234"}, "Use at most 2 decimals."),
        ({"contact_price": ""}, "This field is required."),
        ({"per_buyer_limit": 0}, "Number must be between 1 and 1000."),
    ],
)
def test_invalid_allocations_are_refused_with_the_reason(client, staff, make_festival, make_product, fields, message):
    festival = make_festival(phase=Phase.preheat)
    variant = make_product(stock=10).variants[0]
    response = _allocate(client, festival, **({"variant_id": variant.id} | fields))
    assert response.status_code == 422
    assert message in html(response)
    assert db.session.scalar(select(FestivalItem.id)) is None


def errors_beside(page: str, name: str) -> list[str]:
    [block] = [chunk for chunk in page.split('<div class="field') if f'name="{name}"' in chunk]
    return re.findall(r'<p class="error">([^<]*)</p>', block)


ABOVE_MARKET = "Employee and contact prices cannot be above the market price."


@pytest.mark.parametrize(
    ("prices", "beside"),
    [
        ({"employee_price": "99999", "contact_price": "88888"}, ["employee_price", "contact_price"]),
        ({"employee_price": "2499.01", "contact_price": "2000"}, ["employee_price"]),
        ({"employee_price": "2000", "contact_price": "2500"}, ["contact_price"]),
    ],
)
def test_festival_prices_above_the_market_price_are_refused_beside_the_field(
    client, staff, make_festival, make_product, prices, beside
):
    festival = make_festival(phase=Phase.preheat)
    variant = make_product(stock=10, market=249_900, employee_price=199_900, contact_price=219_900).variants[0]
    response = _allocate(client, festival, variant_id=variant.id, **prices)
    assert response.status_code == 422
    page = html(response)
    for name in ("employee_price", "contact_price"):
        assert errors_beside(page, name) == ([ABOVE_MARKET] if name in beside else []), name
    assert db.session.scalar(select(FestivalItem.id)) is None
    assert db.session.get(Variant, variant.id).stock == 10
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "festival.allocate")) is None

    at_market = _allocate(client, festival, variant_id=variant.id, employee_price="2499", contact_price="2499")
    assert at_market.status_code == 302  # the market price itself is allowed


def test_the_allocation_service_refuses_prices_above_the_market_price(operator, make_festival, make_product):
    festival = make_festival(phase=Phase.preheat)
    variant = make_product(market=10_000).variants[0]
    with pytest.raises(festivals.FestivalError, match="above the market price") as refused:
        festivals.allocate(
            operator, festival, variant, 1, employee_price=9_000, contact_price=10_001, per_buyer_limit=None
        )
    assert refused.value.details["fields"] == ("contact_price",)
    db.session.rollback()
    assert db.session.scalar(select(FestivalItem.id)) is None


def test_only_direct_sale_items_can_be_allocated(client, staff, make_festival, make_product):
    festival = make_festival(phase=Phase.preheat)
    lead = make_product(sales_mode=SalesMode.lead).variants[0]
    response = _allocate(client, festival, variant_id=lead.id)
    assert response.status_code == 422 and "Only items sold directly" in html(response)


def test_the_page_shows_reminders_forecast_and_actuals(client, staff, make_user, make_festival):
    festival = make_festival(phase=Phase.preheat)
    for _ in range(6):
        reminders.remind_me(make_user(), festival)
    db.session.commit()
    page = html(client.get(f"/ops/festivals/{festival.id}"))
    assert "<dt>Reminders</dt><dd>6</dd>" in page
    assert "25.0%" in page and "the default: no past festival with reminders to learn from yet" in page
    assert "2 orders (reminders × conversion)" in page  # 6 x 0.25 = 1.5, rounded half up
    assert '<dt>Paid orders</dt><dd>0 <span class="muted">0% of the forecast</span>' in page
    listing = html(client.get("/ops/festivals"))
    assert f"/ops/festivals/{festival.id}" in listing and "Coming soon" in listing


def test_an_allocation_to_a_festival_that_ended_meanwhile_says_why(client, staff, make_festival, make_product):
    """Found playing an operator's day: the page of an ended festival has no allocation form, so
    the refusal was said nowhere (422, an empty page)."""
    over = make_festival(phase=Phase.ended, name="Summer Fair")
    response = _allocate(client, over, variant_id=make_product(stock=10).variants[0].id)
    assert response.status_code == 422
    assert "The festival has ended; nothing more can be allocated to it." in html(response)
    assert db.session.scalar(select(FestivalItem.id)) is None
