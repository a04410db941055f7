"""The operators' demand forecast for a festival: reminders times the reminder-to-order
conversion of past festivals, then the actual paid orders against it.

Conversion of one ended festival = reminded buyers who placed a paid order in it / its
reminders. Over several festivals the counts are pooled (a festival with many reminders
weighs more than one with a few). Without any past festival that had reminders, the
configured default (``FESTIVAL_DEFAULT_CONVERSION``) is used and said to be a default.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, func, select

from shop.catalog.festival_models import Festival
from shop.database import utcnow
from shop.extensions import db
from shop.festivals.models import FestivalReminder
from shop.orders.models import Order, OrderStatus


@dataclass(frozen=True)
class PastFestival:
    reminders: int
    converted: int  # reminded buyers who placed a paid order in that festival


@dataclass(frozen=True)
class Forecast:
    reminders: int
    conversion: float
    is_default: bool  # no history: the configured default conversion
    festivals_measured: int

    @property
    def expected_orders(self) -> int:
        """reminders x conversion, rounded half up."""
        return math.floor(self.reminders * self.conversion + 0.5)


def conversion_of(history: Iterable[PastFestival], default: float) -> tuple[float, bool, int]:
    """(conversion, is_default, festivals measured) from past festivals with reminders."""
    measured = [past for past in history if past.reminders > 0]
    if not measured:
        return default, True, 0
    return sum(p.converted for p in measured) / sum(p.reminders for p in measured), False, len(measured)


def forecast(reminders: int, history: Iterable[PastFestival], default: float) -> Forecast:
    conversion, is_default, count = conversion_of(history, default)
    return Forecast(reminders=reminders, conversion=conversion, is_default=is_default, festivals_measured=count)


@dataclass(frozen=True)
class Demand:
    forecast: Forecast
    paid_orders: int
    buyers: int

    @property
    def share_of_forecast(self) -> float | None:
        """Paid orders / forecast orders; None when nothing was expected."""
        expected = self.forecast.expected_orders
        return self.paid_orders / expected if expected else None


def history_before(festival: Festival, now: datetime) -> list[PastFestival]:
    """Every other festival that had ended by ``now``, with its reminders and conversions."""
    return [past for festival_id, past in _ended(now) if festival_id != festival.id]


def _reminder_counts(festival_ids) -> dict[int, int]:
    """Reminders asked for, per festival of ``festival_ids`` (ids, or a subquery of them)."""
    return dict(
        db.session.execute(
            select(FestivalReminder.festival_id, func.count(FestivalReminder.id))
            .where(FestivalReminder.festival_id.in_(festival_ids))
            .group_by(FestivalReminder.festival_id)
        ).all()
    )


def _ended(now: datetime) -> list[tuple[int, PastFestival]]:
    """The festivals that had ended by ``now`` and had reminders, by id."""
    ended = select(Festival.id).where(Festival.ends_at <= now)
    reminders = _reminder_counts(ended)
    converted = dict(
        db.session.execute(
            select(FestivalReminder.festival_id, func.count(func.distinct(FestivalReminder.user_id)))
            .join(
                Order,
                and_(
                    Order.festival_id == FestivalReminder.festival_id,
                    Order.buyer_id == FestivalReminder.user_id,
                    Order.paid_at.is_not(None),
                    Order.status != OrderStatus.refunded,
                ),
            )
            .where(FestivalReminder.festival_id.in_(ended))
            .group_by(FestivalReminder.festival_id)
        ).all()
    )
    return [
        (festival_id, PastFestival(count, converted.get(festival_id, 0)))
        for festival_id, count in sorted(reminders.items())
    ]


def demand(festival: Festival, now: datetime | None = None) -> Demand:
    return demands([festival], now)[festival.id]


def demands(festivals: list[Festival], now: datetime | None = None) -> dict[int, Demand]:
    """``demand`` of each festival by id, in four grouped statements however many there are
    (the festival report lists up to two dozen): the history of the festivals ended by ``now``
    is read once, each festival's forecast leaving itself out of it."""
    if not festivals:
        return {}
    now = now or utcnow()
    ids = [festival.id for festival in festivals]
    reminders = _reminder_counts(ids)
    paid = {
        festival_id: (orders, buyers)
        for festival_id, orders, buyers in db.session.execute(
            select(Order.festival_id, func.count(), func.count(func.distinct(Order.buyer_id)))
            .where(Order.festival_id.in_(ids), Order.paid_at.is_not(None), Order.status != OrderStatus.refunded)
            .group_by(Order.festival_id)
        )
    }
    history = _ended(now)
    default = current_app.config["FESTIVAL_DEFAULT_CONVERSION"]
    found = {}
    for festival in festivals:
        orders, buyers = paid.get(festival.id, (0, 0))
        past = [p for festival_id, p in history if festival_id != festival.id]
        found[festival.id] = Demand(
            forecast=forecast(reminders.get(festival.id, 0), past, default), paid_orders=orders, buyers=buyers
        )
    return found
