"""The worker's heartbeat: each worker process stamps its row every few seconds, in the
database every web host already shares, so ``/healthz`` on any host can tell how long ago a
worker was last alive (and so that a stopped worker is noticed)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from shop.database import utcnow, write_intent
from shop.extensions import db
from shop.worker.locks import HOST
from shop.worker.models import WorkerHeartbeat

FORGET_AFTER = timedelta(days=1)  # rows of workers gone this long are deleted


def worker_name() -> str:
    return f"{HOST}:{os.getpid()}"


def beat(worker: str, started_at: datetime, *, now: datetime | None = None) -> None:
    """Stamp ``worker``'s heartbeat (its own transaction) and forget long-gone workers."""
    now = now or utcnow()
    db.session.rollback()
    with write_intent():
        stamped = db.session.execute(
            update(WorkerHeartbeat)
            .where(WorkerHeartbeat.worker == worker)
            .values(beat_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not stamped:
            db.session.add(WorkerHeartbeat(worker=worker, started_at=started_at, beat_at=now))
        db.session.execute(
            delete(WorkerHeartbeat)
            .where(WorkerHeartbeat.beat_at < now - FORGET_AFTER)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


@dataclass(frozen=True)
class WorkerHealth:
    status: str  # ok, stale (no heartbeat for a while), missing (never seen)
    heartbeat_age_seconds: float | None
    workers: int  # workers whose heartbeat is fresh

    def as_json(self) -> dict:
        return {
            "status": self.status,
            "heartbeat_age_seconds": self.heartbeat_age_seconds,
            "workers": self.workers,
        }


def worker_health(stale_after: timedelta | None = None, *, now: datetime | None = None) -> WorkerHealth:
    """How long ago the freshest worker's heartbeat was, read in one query; a heartbeat older
    than ``stale_after`` (by default ``WORKER_STALE_SECONDS``) is stale."""
    now = now or utcnow()
    if stale_after is None:
        stale_after = timedelta(seconds=current_app.config["WORKER_STALE_SECONDS"])
    latest, fresh = db.session.execute(
        select(
            func.max(WorkerHeartbeat.beat_at),
            func.count().filter(WorkerHeartbeat.beat_at > now - stale_after),
        )
    ).one()
    if latest is None:
        return WorkerHealth("missing", None, 0)
    if latest.tzinfo is None:  # an aggregate is not run through the column's type
        latest = latest.replace(tzinfo=now.tzinfo)
    age = max(0.0, round((now - latest).total_seconds(), 1))
    return WorkerHealth("ok" if fresh else "stale", age, fresh)
