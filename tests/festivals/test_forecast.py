"""The demand forecast: the maths on its own, then the counts it is fed from the database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shop.catalog.festival_models import Phase
from shop.checkout.placing import place_order
from shop.extensions import db
from shop.festivals import reminders
from shop.festivals.forecast import Demand, Forecast, PastFestival, conversion_of, demand, forecast, history_before
from shop.payments.payroll import pay_by_payroll


def test_without_history_the_default_conversion_is_used_and_said_to_be():
    assert conversion_of([], 0.25) == (0.25, True, 0)
    assert conversion_of([PastFestival(0, 0)], 0.25) == (0.25, True, 0)  # a festival without reminders says nothing
    predicted = forecast(7, [], 0.25)
    assert (predicted.conversion, predicted.is_default, predicted.expected_orders) == (0.25, True, 2)  # 1.75


def test_past_festivals_are_pooled_by_their_reminders():
    history = [PastFestival(10, 5), PastFestival(30, 3), PastFestival(0, 0)]
    assert conversion_of(history, 0.25) == (pytest.approx(8 / 40), False, 2)
    predicted = forecast(50, history, 0.25)
    assert (predicted.expected_orders, predicted.is_default, predicted.festivals_measured) == (10, False, 2)


def test_expected_orders_round_half_up_and_the_share_of_forecast():
    assert forecast(2, [], 0.25).expected_orders == 1  # 0.5
    assert forecast(1, [], 0.25).expected_orders == 0  # 0.25
    assert Demand(Forecast(8, 0.5, False, 1), paid_orders=6, buyers=5).share_of_forecast == 1.5
    assert Demand(Forecast(0, 0.25, True, 0), paid_orders=3, buyers=3).share_of_forecast is None


def _paid(buyer, item, make_address, at):
    order = place_order(buyer.id, make_address(buyer).id, item_id=item.id, quantity=1, now=at)
    pay_by_payroll(buyer, order, now=at + timedelta(minutes=1))
    db.session.commit()
    return order


def test_demand_counts_reminded_buyers_who_paid_in_past_festivals_and_this_festivals_sales(
    app, make_user, make_festival, make_festival_item, make_product, make_address
):
    past = make_festival(phase=Phase.ended, name="Summer Fair")
    past_item = make_festival_item(past, make_product(stock=50).variants[0], 20)
    make_festival(phase=Phase.ended, name="Spring Fair")  # no reminders: not measured
    reminded = [make_user() for _ in range(4)]
    for user in reminded:
        reminders.remind_me(user, past, now=past.preheat_at)
    during = past.launch_at + timedelta(minutes=5)
    _paid(reminded[0], past_item, make_address, during)
    _paid(reminded[0], past_item, make_address, during + timedelta(minutes=2))  # one buyer, counted once
    _paid(reminded[1], past_item, make_address, during)
    place_order(
        reminded[2].id, make_address(reminded[2]).id, item_id=past_item.id, quantity=1, now=during
    )  # never paid
    _paid(make_user(), past_item, make_address, during)  # bought without a reminder
    db.session.commit()

    current = make_festival(phase=Phase.launch, name="Autumn Fair")
    assert history_before(current, past.ends_at - timedelta(seconds=1)) == []  # the summer had not ended yet
    assert history_before(current, past.ends_at) == [PastFestival(reminders=4, converted=2)]

    item = make_festival_item(current, make_product(stock=50).variants[0], 20)
    for _ in range(10):
        reminders.remind_me(make_user(), current, now=current.preheat_at)
    db.session.commit()
    buyer, other = make_user(), make_user()
    _paid(buyer, item, make_address, current.launch_at + timedelta(minutes=1))
    _paid(buyer, item, make_address, current.launch_at + timedelta(minutes=3))
    _paid(other, item, make_address, current.launch_at + timedelta(minutes=4))
    late = make_user()
    place_order(late.id, make_address(late).id, item_id=item.id, quantity=1)  # pending: not counted
    db.session.commit()

    found = demand(current)
    assert (found.forecast.reminders, found.forecast.conversion, found.forecast.is_default) == (10, 0.5, False)
    assert (found.forecast.expected_orders, found.paid_orders, found.buyers) == (5, 3, 2)
    assert found.share_of_forecast == pytest.approx(0.6)
    assert demand(past).forecast.is_default  # its own history is not used to forecast it
