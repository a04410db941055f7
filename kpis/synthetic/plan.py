"""What a synthetic data set is drawn from: the plan (how many employees, contacts and events,
over how many months, from which seed) and its span, the months before ``now`` with three
festival launch weeks a year, where moments are drawn by the seed's random generator."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from shop.database import utcnow

FESTIVAL_BOOST = 3.0


@dataclass(frozen=True)
class Plan:
    employees: int
    contacts: int
    events: int
    months: int
    seed: int


class Span:
    """The plan's months up to ``now`` (default: today, midnight UTC) and the festivals' launch
    weeks in them. ``random`` is the seed's generator: every draw of the data set comes from it,
    in a fixed order, so that the same seed gives the same rows. ``prefix`` starts the names
    of the rows written for the seed."""

    def __init__(self, plan: Plan, now: datetime | None = None):
        self.plan = plan
        self.random = random.Random(plan.seed)
        self.now = now or utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        self.start = self.now - timedelta(days=30 * plan.months)
        self.prefix = f"syn{plan.seed}"
        self.windows = self._festivals()

    def _festivals(self) -> list[tuple[datetime, datetime]]:
        """Three a year: launch weeks spread over the span, most recent first to be kept."""
        span = self.now - self.start
        count = max(1, round(3 * span.days / 365))
        windows = []
        for k in range(count):
            launch = self.start + span * (k + 0.6) / count
            windows.append((launch, launch + timedelta(days=7)))
        return windows

    def moment(self, after: datetime | None = None) -> datetime:
        """A moment in the span, three times as likely inside a festival's launch week."""
        low = max(after or self.start, self.start)
        if low >= self.now:
            return self.now - timedelta(seconds=1)
        windows = [(a, b) for a, b in self.windows if b > low]
        festival_share = sum(((b - max(a, low)) for a, b in windows), timedelta()) * FESTIVAL_BOOST
        total = festival_share + (self.now - low)
        if windows and self.random.random() < festival_share / total:
            a, b = self.random.choice(windows)
            a = max(a, low)
            return a + (b - a) * self.random.random()
        return low + (self.now - low) * self.random.random()
