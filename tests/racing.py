"""Threads released together by a barrier, each with its own app context, session and
connection (the project's pattern from tests/test_concurrency.py), and a watcher thread that
samples stock and allocation while they run."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import select

from shop.catalog.festival_models import FestivalItem
from shop.catalog.models import Variant
from shop.database import write_intent
from shop.extensions import db


@dataclass
class Watch:
    """What a watcher saw while the buyers ran: the lowest stock and allocation left."""

    samples: int = 0
    min_stock: int | None = None
    min_left: int | None = None


def race(app, jobs, *, variant_id: int | None = None, item_id: int | None = None) -> tuple[list, Watch]:
    """Run each job in its own thread and app context, all released together by a barrier.
    Returns each job's return value or exception, and what a watcher thread saw meanwhile."""
    db.session.commit()  # end the caller's transaction: its next read sees what the threads did
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)
    watch, done = Watch(), threading.Event()

    def worker(index, job):
        with app.app_context():
            try:
                barrier.wait(timeout=60)
                with write_intent():
                    outcomes[index] = job()
                    db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
                db.session.rollback()
                outcomes[index] = exc
            finally:
                db.session.remove()

    def watcher():
        with app.app_context():
            while not done.is_set():
                if variant_id is not None:
                    stock = db.session.scalar(select(Variant.stock).where(Variant.id == variant_id))
                    watch.min_stock = stock if watch.min_stock is None else min(watch.min_stock, stock)
                if item_id is not None:
                    left = db.session.scalar(
                        select(FestivalItem.allocated - FestivalItem.sold - FestivalItem.returned_units).where(
                            FestivalItem.id == item_id
                        )
                    )
                    watch.min_left = left if watch.min_left is None else min(watch.min_left, left)
                watch.samples += 1
                db.session.rollback()
                done.wait(0.02)
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    spy = threading.Thread(target=watcher)
    spy.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    done.set()
    spy.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a buyer hung"
    return outcomes, watch
