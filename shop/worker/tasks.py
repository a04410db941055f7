"""What each periodic job does, shared by the worker and the cron commands (``flask shop
<name>``). Each runs in an app context, commits its own transactions and returns one line
saying what it did. Each is safe to run twice at once, by the services' own locks and
conditional updates: an expired order gives its stock back once (``expire_overdue`` skips
orders another run holds and closes each with a conditional update), a launch mail goes to each
subscriber once (the reminder is claimed before its mail is queued), an allocation returns once
(the item is locked and stamped returned with a conditional update).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta

from shop.database import utcnow, write_intent
from shop.extensions import db
from shop.festivals import reminders
from shop.festivals.services import return_allocations
from shop.orders.expiry import expire_overdue
from shop.payments.reconcile import default_since, reconcile
from shop.payments.stripe_client import card_payments_enabled
from shop.refunds import services


class JobFailed(Exception):
    """A job ran but could not do all of its work (the worker logs it as failed)."""


def expire_orders() -> str:

    with write_intent():
        count = expire_overdue()
        db.session.commit()
    return f"expired {count} order(s)"


def festival_close() -> str:

    with write_intent():
        units = return_allocations()
        db.session.commit()
    return f"returned {units} unit(s) to general stock"


def festival_notify(
    batch: int = 100, progress: Callable[[list[int]], AbstractContextManager[Iterable[int]]] = nullcontext
) -> str:
    """Mail each subscriber of a festival now selling, ``batch`` reminders per transaction."""

    now = utcnow()
    with write_intent():
        due = reminders.reminders_due(now)
        db.session.commit()  # end the read: each batch below is a transaction of its own
        sent = 0
        with progress(due) as claimed:
            for n, reminder_id in enumerate(claimed, start=1):
                sent += reminders.send_launch_reminder(reminder_id, now=now)
                if n % batch == 0:
                    db.session.commit()  # the batch's mail goes out now
        finished = reminders.mark_festivals_notified(now)
        db.session.commit()
    return (
        f"sent {sent} reminder(s), {len(due) - sent} already sent by another run; {finished} festival(s) fully notified"
    )


def retry_refunds(older_than: int = 5, echo: Callable[[str], None] | None = None) -> str:
    """Ask Stripe again about card refunds pending for ``older_than`` minutes."""

    requests = services.pending_card_refunds(older_than=timedelta(minutes=older_than))
    db.session.commit()
    statuses = []
    for request in requests:
        with write_intent():
            refund = services.send_card_refund(request, actor=None, retry=True)
            statuses.append(f"refund {request.refund_id}: {refund.status.value}")
            db.session.commit()
        if echo:
            echo(statuses[-1])
    summary = f"{len(requests)} pending card refund(s) retried"
    return "; ".join([*statuses, summary]) if statuses and not echo else summary


def stripe_reconcile() -> str:

    if not card_payments_enabled():
        return "skipped: card payments are not configured"
    report = reconcile(since=default_since())
    if report.errors:
        raise JobFailed(f"{report.summary()}; errors: {'; '.join(report.errors)}")
    return report.summary()
