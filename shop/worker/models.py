"""The worker's two small tables: job leases (the lock of databases without advisory locks) and
heartbeats (read by ``/healthz`` on every web host)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shop.database import UTCDateTime
from shop.extensions import db


class JobLease(db.Model):
    """Who runs a job now, until when. Used on SQLite; PostgreSQL takes an advisory lock instead."""

    __tablename__ = "worker_job_leases"

    name: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    holder: Mapped[str | None] = mapped_column(sa.String(200))
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkerHeartbeat(db.Model):
    """One row per worker process, stamped every few seconds while it runs."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(sa.String(200), primary_key=True)  # host:pid
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
