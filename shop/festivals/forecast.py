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
    ended = select(Festival.id).where(Festival.ends_at <= now, Festival.id != festival.id)
    reminders = dict(
        db.session.execute(
            select(FestivalReminder.festival_id, func.count(FestivalReminder.id))
            .where(FestivalReminder.festival_id.in_(ended))
            .group_by(FestivalReminder.festival_id)
        ).all()
    )
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
    return [PastFestival(count, converted.get(festival_id, 0)) for festival_id, count in sorted(reminders.items())]


def demand(festival: Festival, now: datetime | None = None) -> Demand:
    now = now or utcnow()
    reminders = (
        db.session.scalar(select(func.count(FestivalReminder.id)).where(FestivalReminder.festival_id == festival.id))
        or 0
    )
    orders, buyers = db.session.execute(
        select(func.count(Order.id), func.count(func.distinct(Order.buyer_id))).where(
            Order.festival_id == festival.id, Order.paid_at.is_not(None), Order.status != OrderStatus.refunded
        )
    ).one()
    predicted = forecast(reminders, history_before(festival, now), current_app.config["FESTIVAL_DEFAULT_CONVERSION"])
    return Demand(forecast=predicted, paid_orders=orders, buyers=buyers)
