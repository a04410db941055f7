"""Remind me: buyers subscribe before a festival opens and are e-mailed once when it does.

Subscribing is an insert that ignores a duplicate, so pressing the button twice (or in two
tabs at once) leaves one reminder. Notifying claims each reminder with a conditional update
(``notified_at`` from NULL to now) in the transaction that queues its mail, so a reminder is
mailed once however many runs of ``flask shop festival-notify`` overlap: on PostgreSQL the
second run's update waits for the first one's row lock and then finds the row claimed; on
SQLite writers take turns.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app, render_template
from flask_babel import gettext as _
from sqlalchemy import exists, select, update

from shop.accounts.models import User
from shop.catalog.festival_models import Festival, Phase
from shop.catalog.services import tier_for
from shop.database import insert_ignoring_duplicates, utcnow
from shop.extensions import db
from shop.festivals.models import FestivalReminder
from shop.festivals.services import FestivalError
from shop.i18n import in_language_of
from shop.mail import queue_mail
from shop.urls import public_url

# Phases in which a buyer may still ask to be reminded (a draft festival is seen by operators only).
REMINDABLE = frozenset({Phase.draft, Phase.preheat})


def remind_me(user: User, festival: Festival, *, now: datetime | None = None) -> bool:
    """Subscribe ``user`` to the launch e-mail. True when subscribed now, False when already."""
    now = now or utcnow()
    if festival.phase(now) not in REMINDABLE:
        raise FestivalError(_("Reminders can be asked for until buying opens."))
    statement = (
        insert_ignoring_duplicates(FestivalReminder)
        .values(festival_id=festival.id, user_id=user.id, created_at=now)
        .on_conflict_do_nothing()
    )
    return db.session.execute(statement.returning(FestivalReminder.id)).first() is not None


def is_reminded(user: User, festival: Festival) -> bool:
    return (
        db.session.scalar(
            select(FestivalReminder.id).where(
                FestivalReminder.festival_id == festival.id, FestivalReminder.user_id == user.id
            )
        )
        is not None
    )


def _due_query(now: datetime):
    return (
        select(FestivalReminder.id)
        .join(Festival, Festival.id == FestivalReminder.festival_id)
        .join(User, User.id == FestivalReminder.user_id)
        .where(
            Festival.launch_at <= now,
            Festival.ends_at > now,
            FestivalReminder.notified_at.is_(None),
            User.is_active_flag.is_(True),
        )
    )


def reminders_due(now: datetime | None = None) -> list[int]:
    """Reminders of festivals selling now whose (active) subscriber has not been mailed, by id."""
    return list(db.session.scalars(_due_query(now or utcnow()).order_by(FestivalReminder.id)))


def send_launch_reminder(reminder_id: int, *, now: datetime | None = None) -> bool:
    """Claim the reminder and queue its e-mail in the caller's transaction (the mail goes out
    when that commits). False when another run claimed it first."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(FestivalReminder)
        .where(FestivalReminder.id == reminder_id, FestivalReminder.notified_at.is_(None))
        .values(notified_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return False
    reminder = db.session.get(FestivalReminder, reminder_id)
    festival = db.session.get(Festival, reminder.festival_id)
    user = db.session.get(User, reminder.user_id)
    zone = ZoneInfo(user.timezone or current_app.config["DEFAULT_TIMEZONE"])
    with in_language_of(user) as locale:
        body = render_template(
            "festivals/launch_mail.txt",
            user=user,
            festival=festival,
            tier=tier_for(user),
            link=public_url("festivals.festival", slug=festival.slug),
            ends=format_datetime(festival.ends_at, "medium", tzinfo=zone, locale=locale),
        )
        queue_mail(user.email, _("%(festival)s is open: buy now", festival=festival.name), body)
    return True


def mark_festivals_notified(now: datetime | None = None) -> int:
    """Stamp ``Festival.notified_at`` on selling festivals with no reminder left to mail."""
    now = now or utcnow()
    pending = (
        select(FestivalReminder.id)
        .join(User, User.id == FestivalReminder.user_id)
        .where(
            FestivalReminder.festival_id == Festival.id,
            FestivalReminder.notified_at.is_(None),
            User.is_active_flag.is_(True),
        )
    )
    return db.session.execute(
        update(Festival)
        .where(Festival.launch_at <= now, Festival.ends_at > now, Festival.notified_at.is_(None), ~exists(pending))
        .values(notified_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
