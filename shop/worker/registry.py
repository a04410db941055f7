"""The periodic jobs: name, what runs, how often by default. One line adds a job.

A job's target is ``"module:function"``, imported when the job first runs: a function that
takes no arguments, runs in an app context, commits its own transactions, returns one line
saying what it did (logged by the worker) and raises when it failed. It must be safe to run
twice at once (the worker's lock makes that rare, not impossible: a lease can run out).
Each job is also a ``flask shop <name>`` command for those who prefer cron.

Intervals can be changed without code: ``WORKER_INTERVALS="expire-orders=30,retry-refunds=600"``
(``0`` switches a job off), or ``flask shop worker --every expire-orders=30``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class Job:
    name: str
    target: str  # "module:function"
    every: int  # seconds between runs, by default

    def load(self) -> Callable[[], str]:
        module, _, function = self.target.partition(":")
        return getattr(import_module(module), function)


JOBS: tuple[Job, ...] = (
    Job("expire-orders", "shop.worker.tasks:expire_orders", every=60),
    Job("stripe-reconcile", "shop.worker.tasks:stripe_reconcile", every=60),
    Job("festival-notify", "shop.worker.tasks:festival_notify", every=60),
    Job("festival-close", "shop.worker.tasks:festival_close", every=60),
    Job("retry-refunds", "shop.worker.tasks:retry_refunds", every=300),
    # An uploaded HR roster starts within seconds; its page shows the progress.
    Job("roster-import", "shop.accounts.roster_imports:run_pending", every=5),
    # The KPI figures are at most 60 s behind the facts (DESIGN.md): a run every 20 s, plus its own time.
    Job("kpi-aggregate", "kpis.jobs:aggregate_kpis", every=20),
)


def parse_intervals(text: str | Iterable[str] | None) -> dict[str, int]:
    """``"a=30,b=600"`` (or ``["a=30", "b=600"]``) as ``{"a": 30, "b": 600}``; ValueError when malformed."""
    if not text:
        return {}
    parts = text.split(",") if isinstance(text, str) else list(text)
    intervals = {}
    for part in (p.strip() for p in parts):
        if not part:
            continue
        name, sep, seconds = part.partition("=")
        if not sep or not seconds.strip().isdigit():
            raise ValueError(f"{part!r}: use NAME=SECONDS, e.g. expire-orders=60")
        intervals[name.strip()] = int(seconds)
    return intervals


def schedule(jobs: Iterable[Job], intervals: dict[str, int], *, only: Iterable[str] = ()) -> list[tuple[Job, int]]:
    """Each job to run with its interval in seconds: the default unless ``intervals`` says
    otherwise; jobs set to 0, or not in ``only`` when it is given, are left out. Names that
    are not jobs raise ValueError (a typo must not silently switch nothing)."""
    jobs, only = list(jobs), set(only)
    known = {job.name for job in jobs}
    unknown = (set(intervals) | only) - known
    if unknown:
        raise ValueError(f"no such job: {', '.join(sorted(unknown))} (jobs: {', '.join(sorted(known))})")
    chosen = [(job, intervals.get(job.name, job.every)) for job in jobs if not only or job.name in only]
    return [(job, every) for job, every in chosen if every > 0]
