"""The worker's loop: APScheduler runs each job on its own interval in a thread pool, under the
job's lock, and the heartbeat beside them; SIGTERM or SIGINT stops it.

Why APScheduler (3.x): interval triggers, "never two runs of one job in this process"
(``max_instances``), missed runs folded into one (``coalesce``) and a thread pool, all kept and
tested upstream; the parts that are ours are the cross-process lock and the heartbeat.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from shop.extensions import db
from shop.worker.heartbeat import beat, worker_name
from shop.worker.locks import job_lock
from shop.worker.registry import Job

logger = logging.getLogger("shop.worker")


class Running:
    """How many jobs are running now in this process (so that a stop can wait for them)."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    def __enter__(self):
        with self._idle:
            self._count += 1

    def __exit__(self, *exc):
        with self._idle:
            self._count -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout=timeout)


def run_job(app: Flask, job: Job, running: Running | None = None) -> str | None:
    """Run ``job`` once under its lock. Returns what it did, None when another worker held
    the lock or the job failed (logged; the worker goes on)."""
    with running or Running(), app.app_context():
        lease = timedelta(seconds=app.config["WORKER_LOCK_LEASE_SECONDS"])
        started = time.monotonic()
        try:
            with job_lock(job.name, lease=lease) as held:
                if not held:
                    logger.info("%s: skipped, another worker is running it", job.name)
                    return None
                summary = job.load()()
            logger.info("%s: %s (%.1f s)", job.name, summary, time.monotonic() - started)
            return summary
        except Exception:  # one job's failure must not stop the others
            logger.exception("%s: failed after %.1f s", job.name, time.monotonic() - started)
            return None
        finally:
            db.session.rollback()
            db.session.remove()


def heartbeat(app: Flask, worker: str, started_at: datetime) -> None:
    with app.app_context():
        try:
            beat(worker, started_at)
        except Exception:  # the database may be away for a moment; the next beat tries again
            logger.exception("heartbeat failed")
        finally:
            db.session.remove()


def run_worker(
    app: Flask,
    scheduled: Iterable[tuple[Job, int]],
    *,
    stop: threading.Event | None = None,
) -> bool:
    """Run the jobs until SIGTERM or SIGINT (or ``stop`` is set): each first at once, then every
    its interval. Returns once the running jobs finished (True) or after
    ``WORKER_STOP_GRACE_SECONDS`` without them (False)."""
    scheduled = list(scheduled)
    for noisy in ("apscheduler", "stripe"):  # our own lines say what ran; not every request it made
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stop = stop or threading.Event()
    running = Running()
    worker, started_at = worker_name(), datetime.now(UTC)
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(max_workers=len(scheduled) + 1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    beat_every = app.config["WORKER_HEARTBEAT_SECONDS"]
    scheduler.add_job(
        heartbeat,
        "interval",
        seconds=beat_every,
        args=[app, worker, started_at],
        id="heartbeat",
        next_run_time=started_at,
    )
    for job, every in scheduled:
        scheduler.add_job(
            run_job, "interval", seconds=every, args=[app, job, running], id=job.name, next_run_time=started_at
        )

    def on_signal(signum, _frame):
        logger.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():  # only there can signals be handled
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    logger.info(
        "worker %s started: %s; heartbeat every %s s",
        worker,
        ", ".join(f"{job.name} every {every} s" for job, every in scheduled) or "no jobs",
        beat_every,
    )
    scheduler.start()
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        grace = app.config["WORKER_STOP_GRACE_SECONDS"]
        finished = running.wait_idle(grace)
        if not finished:
            logger.warning("jobs still running after %s s; stopping without them (their transactions roll back)", grace)
        heartbeat(app, worker, started_at)  # the last one: the age in /healthz counts from the stop
        logger.info("worker %s stopped", worker)
    return finished


def run_once(app: Flask, jobs: Iterable[Job]) -> dict[str, str | None]:
    """Run each job once, one after the other, under its lock (``flask shop worker --once``)."""
    return {job.name: run_job(app, job) for job in jobs}
