"""The festival banner of the home page: the festival selling now (the one ending first), else
the next one in preheat, with its countdown. The festival is read through the storefront cache
(a plain snapshot, ``PAGE_CACHE_SECONDS`` at most); its phase and countdown come from the clock
at every request, so the page never shows a phase that is over. The banner's markup is the same
for every request with the same festival, phase, next change, language and time zone, so it is
kept in the storefront cache under those, with the countdown's text filled in per request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from flask_babel import get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import select

from shop.catalog.festival_models import SELLING_PHASES, Festival, Phase
from shop.catalog.page_cache import cached_fragment, cached_value, fill_slot
from shop.database import utcnow
from shop.extensions import db

DAYS_FORMAT = _l("{days} d {clock}")  # the countdown beyond a day
COUNTDOWN_SLOT = Markup("<countdown-slot>")  # user text is escaped, so only the banner holds this


def countdown_text(seconds: int) -> str:
    """``3 d 04:05:06`` (``3天 04:05:06``) or ``04:05:06``; static/festival.js counts down in the
    same form, with the page's ``DAYS_FORMAT``."""
    days, rest = divmod(max(seconds, 0), 86_400)
    hours, rest = divmod(rest, 3_600)
    clock = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return str(DAYS_FORMAT).format(days=days, clock=clock) if days else clock


@dataclass(frozen=True)
class FestivalSnapshot:
    """What the banner shows of a festival, detached from any database session."""

    id: int
    name: str
    slug: str
    description: str
    preheat_at: datetime
    launch_at: datetime
    continuation_at: datetime | None
    ends_at: datetime
    banner_filename: str | None
    banner_width: int | None
    banner_height: int | None

    def phase(self, now: datetime) -> Phase:
        return Festival.phase(self, now)

    def next_change(self, now: datetime) -> datetime | None:
        return Festival.next_change(self, now)


def _snapshot(festival: Festival) -> FestivalSnapshot:
    return FestivalSnapshot(**{name: getattr(festival, name) for name in FestivalSnapshot.__dataclass_fields__})


def featured_festivals(now: datetime) -> list[FestivalSnapshot]:
    """Festivals past their draft and not ended at ``now``, soonest to matter first."""
    found = db.session.scalars(
        select(Festival)
        .where(Festival.preheat_at <= now, Festival.ends_at > now)
        .order_by(Festival.launch_at)
        .limit(20)
    ).all()
    return [_snapshot(festival) for festival in found]


def banner_festival(now: datetime | None = None) -> FestivalSnapshot | None:
    """The festival to show: one selling now (ending first), else the next to open."""
    now = now or utcnow()
    # Cached as a tuple (an empty one too); the phases are worked out below, from the clock.
    candidates = cached_value(("festival-banner",), lambda: tuple(featured_festivals(now)))
    live = [f for f in candidates if f.phase(now) not in (Phase.draft, Phase.ended)]
    if not live:
        return None

    def urgency(festival: FestivalSnapshot) -> tuple[bool, datetime]:
        selling = festival.phase(now) in SELLING_PHASES
        return (not selling, festival.ends_at if selling else festival.launch_at)

    return min(live, key=urgency)


def on_home_banner(_sender=None, **_signal) -> Markup | None:
    """``shop.catalog.signals.home_banner``: the banner, or None when no festival is on."""
    now = utcnow()
    festival = banner_festival(now)
    if festival is None:
        return None
    phase = festival.phase(now)
    next_change = festival.next_change(now)
    key = ("festival-banner-html", festival, phase, next_change, str(get_locale()), str(get_timezone()))
    banner = cached_fragment(
        key,
        lambda: Markup(
            render_template(
                "festivals/_banner.html",
                festival=festival,
                phase=phase,
                selling=phase in SELLING_PHASES,
                next_change=next_change,
                countdown=COUNTDOWN_SLOT,
            )
        ),
    )
    return fill_slot(banner, COUNTDOWN_SLOT, escape(countdown_text(int((next_change - now).total_seconds()))))
