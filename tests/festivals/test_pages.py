"""The buyers' festival pages: list, phases by the clock, remind me, buy now (303/409/422), results."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from referrals.models import EventKind, FunnelEvent
from shop.catalog.festival_models import FestivalItem, Phase
from shop.checkout.placing import place_order
from shop.extensions import db
from shop.festivals import services as festivals
from shop.festivals.models import FestivalReminder
from shop.festivals.views import countdown_text
from shop.orders.models import Address, Order
from shop.payments.payroll import pay_by_payroll
from tests.conftest import login

T0 = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # noon in Shanghai


def html(response) -> str:
    return response.get_data(as_text=True)


@contextmanager
def frozen_at(moment, client, user):
    """Freeze the clock; log in again, since a session signed at the real time looks too old."""
    with freeze_time(moment):
        login(client, user)
        yield


@pytest.fixture
def buyer(client, employee):
    login(client, employee)
    return employee


def test_the_list_shows_visible_festivals_by_phase_and_the_header_links_to_it(client, buyer, make_festival):
    make_festival(phase=Phase.draft, name="Secret Sale")
    make_festival(phase=Phase.preheat, name="Winter Fair")
    make_festival(phase=Phase.launch, name="Autumn Fair")
    make_festival(phase=Phase.ended, name="Summer Fair")
    page = html(client.get("/festivals"))
    assert "Secret Sale" not in page
    on_sale, coming, ended = (page.index(label) for label in ("On sale", "Coming soon", "Ended"))
    assert on_sale < page.index("Autumn Fair") < coming < page.index("Winter Fair") < ended < page.index("Summer Fair")
    assert 'href="/festivals"' in html(client.get("/"))


def test_a_draft_is_not_found_by_buyers_and_previewed_by_operators(client, employee, operator, make_festival):
    draft = make_festival(phase=Phase.draft, name="Secret Sale")
    login(client, employee)
    assert client.get(f"/festivals/{draft.slug}").status_code == 404
    assert client.get("/festivals/no-such-festival").status_code == 404
    login(client, operator)
    assert "Preheat starts in" in html(client.get(f"/festivals/{draft.slug}"))


def test_preheat_shows_every_price_the_countdown_and_remind_me_but_no_buying(
    client, buyer, make_festival, make_festival_item, make_product, make_address
):
    make_address(buyer)
    variant = make_product(market=10_000, employee_price=7_000, contact_price=8_500).variants[0]
    with frozen_at(T0, client, buyer):
        festival = make_festival(phase=Phase.preheat, now=T0)  # launch one hour from T0
        make_festival_item(festival, variant, 8, employee_price=5_000, contact_price=6_000, per_buyer_limit=2)
        page = html(client.get(f"/festivals/{festival.slug}"))
    assert "Buying opens in" in page and ">01:00:00</time>" in page
    assert f'datetime="{festival.launch_at.isoformat()}"' in page
    assert "Nov 1, 2026, 1:00\u202fPM" in page  # launch at 05:00 UTC, shown in Shanghai time, to the minute
    prices = re.findall(r"CN¥[\d,.]+", page)
    assert prices[:3] == ["CN¥50.00", "CN¥70.00", "CN¥100.00"]  # festival, employee, market
    assert "0 of 8" in page and "At most 2 per buyer" in page
    assert "Remind me" in page and "Buy now" not in page
    assert "/static/festival.js" in page
    assert f'href="/festivals/{festival.slug}/leaderboards"' in page


def test_contacts_see_their_own_festival_price(
    client, employee, make_contact, make_festival, make_festival_item, make_product
):
    variant = make_product(market=10_000, employee_price=7_000, contact_price=8_500).variants[0]
    festival = make_festival(phase=Phase.preheat)
    make_festival_item(festival, variant, 5, employee_price=5_000, contact_price=6_000)
    login(client, make_contact(employee))
    prices = re.findall(r"CN¥[\d,.]+", html(client.get(f"/festivals/{festival.slug}")))
    assert prices[:3] == ["CN¥60.00", "CN¥85.00", "CN¥100.00"]


def test_remind_me_is_idempotent_and_only_before_buying_opens(client, buyer, make_festival):
    preheat = make_festival(phase=Phase.preheat, name="Winter Fair")
    for _ in range(2):
        response = client.post_form(f"/festivals/{preheat.slug}/remind")
        assert response.status_code == 302
    reminders = db.session.scalars(select(FestivalReminder)).all()
    assert [(r.festival_id, r.user_id, r.notified_at) for r in reminders] == [(preheat.id, buyer.id, None)]
    page = html(client.get(f"/festivals/{preheat.slug}"))
    assert page.count("You will be reminded by e-mail when buying opens.") == 1  # said once, not flashed too
    assert "We will e-mail you" not in page and "Remind me" not in page

    selling = make_festival(phase=Phase.launch, name="Autumn Fair")
    response = client.post_form(f"/festivals/{selling.slug}/remind", follow_redirects=True)
    assert "Reminders can be asked for until buying opens." in html(response)
    assert db.session.scalar(select(func.count(FestivalReminder.id))) == 1


def _item(make_festival, make_festival_item, make_product, *, phase=Phase.launch, allocated=5, **kwargs):
    festival = make_festival(phase=phase)
    return make_festival_item(festival, make_product(stock=20).variants[0], allocated, **kwargs)


def _buy(client, item, quantity, address_id):
    return client.post_form(
        f"/festivals/{item.festival.slug}/items/{item.id}/buy", {"quantity": quantity, "address_id": address_id}
    )


def test_buying_takes_the_allocation_and_sends_the_buyer_to_the_order(
    client, buyer, make_festival, make_festival_item, make_product, make_address
):
    item = _item(make_festival, make_festival_item, make_product)
    address = make_address(buyer)
    page = html(client.get(f"/festivals/{item.festival.slug}"))
    assert "Buy now" in page and "Remind me" not in page and address.one_line(mask_phone=True) in page
    response = _buy(client, item, 2, address.id)
    assert response.status_code == 303
    order = db.session.scalar(select(Order))
    assert response.headers["Location"].endswith(f"/orders/{order.id}")
    assert (order.buyer_id, order.festival_id, order.total_amount) == (buyer.id, item.festival_id, 10_000)
    assert db.session.get(FestivalItem, item.id).sold == 2
    assert "2 of 5" in html(client.get(f"/festivals/{item.festival.slug}"))


def test_refusals_are_409_with_the_rule_and_nothing_is_taken(
    client, buyer, make_festival, make_festival_item, make_product, make_address
):
    address = make_address(buyer)
    item = _item(make_festival, make_festival_item, make_product, allocated=5, per_buyer_limit=2)
    refused = _buy(client, item, 3, address.id)
    assert refused.status_code == 409
    page = html(refused)
    assert (
        "Refused by the rule" in page
        and "it allows 2 units in all, this order needs 3 units" in page
        and "Buy now" in page
    )
    assert db.session.get(FestivalItem, item.id).sold == 0

    scarce = _item(make_festival, make_festival_item, make_product, allocated=1)
    short = _buy(client, scarce, 2, address.id)
    assert short.status_code == 409
    assert "Not enough stock" in html(short) and "you want 2, 1 left" in html(short)

    waiting = _item(make_festival, make_festival_item, make_product, phase=Phase.preheat)
    not_yet = _buy(client, waiting, 1, address.id)
    assert not_yet.status_code == 409 and "is not selling now" in html(not_yet)
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_an_invalid_form_is_422_and_other_ids_are_not_found(
    client, buyer, make_user, make_festival, make_festival_item, make_product, make_address
):
    address = make_address(buyer)
    item = _item(make_festival, make_festival_item, make_product)
    for data in (
        {"quantity": 0, "address_id": address.id},
        {"quantity": "two", "address_id": address.id},
        {"quantity": 1},
    ):
        response = client.post_form(f"/festivals/{item.festival.slug}/items/{item.id}/buy", data)
        assert response.status_code == 422, data
    assert "Choose an address." in html(response)
    assert _buy(client, item, 1, make_address(make_user()).id).status_code == 404
    other = _item(make_festival, make_festival_item, make_product)
    assert (
        client.post_form(
            f"/festivals/{item.festival.slug}/items/{other.id}/buy", {"quantity": 1, "address_id": address.id}
        ).status_code
        == 404
    )
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_a_buyer_without_an_address_is_sent_to_add_one(client, buyer, make_festival, make_festival_item, make_product):
    item = _item(make_festival, make_festival_item, make_product)
    page = html(client.get(f"/festivals/{item.festival.slug}"))
    assert "Buy now" not in page and f"/festivals/{item.festival.slug}/address" in page
    assert client.get(f"/festivals/{item.festival.slug}/address").status_code == 200
    bad = client.post_form(f"/festivals/{item.festival.slug}/address", {"recipient": "Erin", "phone": "x"})
    assert bad.status_code == 422 and "Enter a mainland mobile number" in html(bad)
    saved = client.post_form(
        f"/festivals/{item.festival.slug}/address",
        {
            "recipient": "Erin",
            "phone": "+86 138 0000 0000",
            "province": "31",
            "city": "3101",
            "district": "310115",
            "line1": "1 Century Avenue",
            "postcode": "200120",
            "country": "CN",
        },
    )
    assert saved.status_code == 302
    [address] = db.session.scalars(select(Address).where(Address.user_id == buyer.id)).all()
    assert address.line1 == "1 Century Avenue"
    assert "Buy now" in html(client.get(f"/festivals/{item.festival.slug}"))


def test_the_page_follows_the_clock_from_preheat_to_results(
    client, buyer, make_festival, make_festival_item, make_product, make_address
):
    address = make_address(buyer)
    with freeze_time(T0):
        festival = make_festival(phase=Phase.preheat, now=T0)
        sold_out = make_festival_item(festival, make_product(stock=20).variants[0], 2)
        leftover = make_festival_item(festival, make_product(stock=20).variants[0], 5)
    url = f"/festivals/{festival.slug}"
    with frozen_at(festival.launch_at + timedelta(minutes=1), client, buyer):
        page = html(client.get(url))
        assert "On sale" in page and "Last-chance phase starts in" in page and ">00:59:00</time>" in page
        assert _buy(client, sold_out, 2, address.id).status_code == 303
        assert _buy(client, leftover, 1, address.id).status_code == 303
    with frozen_at(festival.continuation_at + timedelta(seconds=5), client, buyer):
        page = html(client.get(url))
        assert "Last chance" in page and "Ends in" in page and "Buy now" in page
    with frozen_at(festival.ends_at, client, buyer):
        page = html(client.get(url))
        assert "Buy now" not in page and "Remind me" not in page
        assert "Sold out" in page and "4 unsold, going back to general stock" in page
        festivals.return_allocations()
        db.session.commit()
        assert "4 back in general stock" in html(client.get(url))


def test_a_paid_festival_order_is_attributed_to_the_festival_in_the_funnel(
    buyer, make_festival, make_festival_item, make_product, make_address
):
    item = _item(make_festival, make_festival_item, make_product)
    order = place_order(buyer.id, make_address(buyer).id, item_id=item.id, quantity=1)
    pay_by_payroll(buyer, order)
    db.session.commit()
    event = db.session.scalar(select(FunnelEvent).where(FunnelEvent.order_id == order.id))
    assert (event.kind, event.festival_id) == (EventKind.first_order, item.festival_id)


def test_countdown_text():
    assert countdown_text(0) == "00:00:00"
    assert countdown_text(3_600 + 61) == "01:01:01"
    assert countdown_text(2 * 86_400 + 59) == "2 d 00:00:59"
    assert countdown_text(-5) == "00:00:00"
