"""One run of a job at a time, across every worker process on every host.

On PostgreSQL a job holds a session-level advisory lock (``pg_try_advisory_lock``) on a
connection of its own for as long as it runs: the server drops it with the connection, so a
worker that dies mid-job never leaves the job locked. SQLite (the demo, one host) has no such
lock, so a job takes a lease row instead: a conditional update that succeeds for one worker
only while nobody holds an unexpired lease. A lease of a dead process on this host is taken
over at once; one on another host runs out after ``WORKER_LOCK_LEASE_SECONDS``.

The lock only stops two workers from doing the same job's work side by side; each job is
also safe to run twice at once on its own (see ``tasks.py``).
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from shop.database import utcnow, write_intent
from shop.extensions import db
from shop.worker.models import JobLease

HOST = socket.gethostname()


@contextmanager
def job_lock(name: str, *, lease: timedelta) -> Iterator[bool]:
    """Yields True when this caller holds the job's lock (until the block ends), False when
    another run holds it."""
    if db.engine.dialect.name == "postgresql":
        with _advisory_lock(name) as held:
            yield held
    else:
        with _lease(name, lease) as held:
            yield held


def advisory_key(name: str) -> int:
    """A stable 64-bit key for the job's name (Python's hash() changes between processes)."""
    return int.from_bytes(hashlib.blake2b(f"neigou.job.{name}".encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def _advisory_lock(name: str) -> Iterator[bool]:
    key = advisory_key(name)
    with db.engine.connect() as conn:
        held = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
        conn.commit()
        try:
            yield held
        finally:
            if held:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()


@contextmanager
def _lease(name: str, lease: timedelta) -> Iterator[bool]:
    holder = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    held = _take_lease(name, holder, lease)
    try:
        yield held
    finally:
        if held:
            db.session.rollback()  # whatever the job left open
            with write_intent():
                db.session.execute(
                    update(JobLease)
                    .where(JobLease.name == name, JobLease.holder == holder)
                    .values(holder=None, held_until=None)
                    .execution_options(synchronize_session=False)
                )
                db.session.commit()


def _take_lease(name: str, holder: str, lease: timedelta) -> bool:
    now = utcnow()
    db.session.rollback()  # a fresh transaction, so that the lease is committed on its own
    with write_intent():
        insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
        db.session.execute(insert(JobLease).values(name=name).on_conflict_do_nothing())
        taken = _claim(name, holder, now + lease, or_(JobLease.held_until.is_(None), JobLease.held_until <= now))
        if not taken:
            current = db.session.scalar(select(JobLease.holder).where(JobLease.name == name))
            if current and _is_dead_here(current):
                taken = _claim(name, holder, now + lease, JobLease.holder == current)
        db.session.commit()
    return taken


def _claim(name: str, holder: str, until, condition) -> bool:
    return (
        db.session.execute(
            update(JobLease)
            .where(JobLease.name == name, condition)
            .values(holder=holder, held_until=until)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def _is_dead_here(holder: str) -> bool:
    """True for a lease of a process on this host that no longer runs (killed, crashed)."""
    host, _, rest = holder.partition(":")
    pid = rest.split(":", 1)[0]
    if host != HOST or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
