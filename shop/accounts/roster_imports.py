"""The HR roster uploaded by an admin, imported by the worker with its progress on a page.

A roster of a large company (tens of thousands of rows) takes minutes to import, nearly all of
it the invitations: one e-mail each, built, audited and sent. The upload page only checks that
the file can be read and queues it; the worker's ``roster-import`` job then

1. applies the whole roster in one transaction (``roster.import_file``: the people created,
   updated, reactivated and deactivated, and its audit entry): all of it or nothing;
2. invites the new employees ``batch`` at a time, a transaction each, counting them on the
   import's row in the same transaction, so the count on the page is what was sent.

A worker that stops at any point leaves the import to the next run: an unapplied roster is
applied again from the file (nothing of it was committed); the invitations go on from the
count. Two runs at once (the worker's lock makes that rare) do each step once: applying ends
only for the run holding the latest claim, and a batch counts only if the count is still the
one it started from.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Mapped, deferred, joinedload, mapped_column, relationship

from shop.accounts import invitations, roster
from shop.accounts.models import User
from shop.database import UTCDateTime, utcnow, write_intent
from shop.errors import DomainError
from shop.extensions import db
from shop.i18n import in_language_of
from shop.labels import register as register_labels

log = logging.getLogger(__name__)

BATCH = 200  # invitations per transaction
RECENT = 10  # imports listed on the upload page


class Status(enum.StrEnum):
    queued = "queued"
    applying = "applying"
    inviting = "inviting"
    done = "done"
    failed = "failed"


UNFINISHED = (Status.queued, Status.applying, Status.inviting)
register_labels(
    {
        Status.queued: _l("Waiting for the worker"),
        Status.applying: _l("Applying the roster"),
        Status.inviting: _l("Sending invitations"),
        Status.done: _l("Done"),
        Status.failed: _l("failed"),  # as a refund's: the audit log reads a stored "failed" alike
    }
)


class RosterImport(db.Model):
    """One uploaded roster file and how far its import has gone."""

    __tablename__ = "roster_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    # The file itself, until the import is over (then only its SHA-256 is kept).
    data: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    deactivate_missing: Mapped[bool] = mapped_column(default=False)
    status: Mapped[Status] = mapped_column(
        sa.Enum(Status, name="roster_import_status", native_enum=False, length=16), index=True
    )
    claim: Mapped[str | None] = mapped_column(sa.String(32))  # the run applying it
    rows: Mapped[int]  # rows in the file, header not counted
    report: Mapped[dict | None] = mapped_column(sa.JSON)  # ``report_of``, once applied
    to_invite: Mapped[list | None] = mapped_column(sa.JSON)  # the new employees' ids
    invited: Mapped[int] = mapped_column(default=0)  # of ``to_invite``: done with
    error: Mapped[str | None] = mapped_column(sa.Text)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor: Mapped[User | None] = relationship(User)

    @property
    def finished(self) -> bool:
        return self.status not in UNFINISHED


def report_of(report: roster.RosterReport) -> dict:
    """What the import page shows of a report: the counts, the rejected rows, the encoding."""
    return {
        "read_as": report.read_as,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "reactivated": report.reactivated,
        "deactivated": report.deactivated,
        "invited": 0,
        "rejected": [list(r) for r in report.rejected],
    }


def queue(data: bytes, *, filename: str, actor: User | None, deactivate_missing: bool) -> RosterImport:
    """Queue a roster file for the worker, in the caller's transaction. Raises RosterError,
    queueing nothing, when the file cannot be read: the admin hears it at once."""
    rows, _read_as = roster.read_file(data, filename)
    found = RosterImport(
        actor_id=actor.id if actor else None,
        filename=filename[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        deactivate_missing=deactivate_missing,
        status=Status.queued,
        rows=len(rows),
    )
    db.session.add(found)
    db.session.flush()
    return found


def recent(limit: int = RECENT) -> list[RosterImport]:
    """The latest imports with who uploaded them (one query: the list names each uploader)."""
    query = select(RosterImport).options(joinedload(RosterImport.actor)).order_by(RosterImport.id.desc())
    return list(db.session.scalars(query.limit(limit)))


# ---- the worker's side ----------------------------------------------------------------------


def run_pending(*, batch: int = BATCH) -> str:
    """The worker's job: carry every unfinished import to its end, oldest first."""
    applied = sent = 0
    with write_intent():
        while (oldest := _oldest_unfinished()) is not None:
            job_id, status = oldest
            if status in (Status.queued, Status.applying):
                token = claim(job_id)
                db.session.commit()  # the page shows "applying" from now on
                if token is None:  # another run applied it meanwhile: look again
                    continue
                outcome = apply(job_id, token)
                if outcome is None:  # another run claimed it meanwhile and goes on with it
                    break
                applied += outcome
            else:
                count = invite_batch(job_id, batch=batch)
                if count is None:  # another run is at it
                    break
                sent += count
    return f"{applied} roster(s) applied, {sent} invitation(s) sent"


def _oldest_unfinished() -> tuple[int, Status] | None:
    """The oldest import not over yet: its id and status."""
    found = db.session.execute(
        select(RosterImport.id, RosterImport.status)
        .where(RosterImport.status.in_(UNFINISHED))
        .order_by(RosterImport.id)
        .limit(1)
    ).first()
    db.session.commit()
    return None if found is None else (found.id, found.status)


def claim(job_id: int) -> str | None:
    """Mark a queued (or stalled) import as being applied by the caller: the token that says
    so, or None when it is past applying. Does not commit."""
    token = secrets.token_hex(16)
    claimed = db.session.execute(
        update(RosterImport)
        .where(RosterImport.id == job_id, RosterImport.status.in_((Status.queued, Status.applying)))
        .values(status=Status.applying, claim=token, started_at=utcnow())
    )
    return token if claimed.rowcount == 1 else None


def apply(job_id: int, token: str) -> bool | None:
    """Apply the roster in one transaction and commit it, if the caller still holds the claim
    ``token`` when done; else roll it back. A file that cannot be read, or any other error,
    fails the import with nothing changed. True when applied, False when it failed, None when
    another run claimed it meanwhile (nothing of this one is kept)."""
    job = db.session.get(RosterImport, job_id)
    actor = db.session.get(User, job.actor_id) if job.actor_id else None
    try:
        # The reasons of rejected rows are kept as text, in the language of whoever reads them.
        with in_language_of(actor):
            report = roster.import_file(
                job.data, filename=job.filename, actor=actor, deactivate_missing=job.deactivate_missing
            )
    except DomainError as exc:  # the file, or a rule of the people it changes
        db.session.rollback()
        # Worded in the actor's language, as the reasons above.
        return False if _fail(job_id, token, exc.message) else None
    except Exception:
        # A run that lost its claim meanwhile may fail on what the other run wrote (the same
        # new department, say): the import is the other run's, and this error is moot.
        db.session.rollback()
        with in_language_of(actor):
            message = _("The import stopped on an unexpected error; nothing was changed.")
        if not _fail(job_id, token, message):
            return None
        log.exception("roster import %s failed", job_id)
        raise
    new_ids = [user.id for user in report.new_users]
    finished = not new_ids
    done = db.session.execute(
        update(RosterImport)
        .where(RosterImport.id == job_id, RosterImport.claim == token, RosterImport.status == Status.applying)
        .values(
            status=Status.done if finished else Status.inviting,
            report=report_of(report),
            to_invite=new_ids,
            invited=0,
            **_closing(finished),
        )
    )
    if done.rowcount != 1:  # another run claimed it meanwhile: its import stands, not ours
        db.session.rollback()
        return None
    db.session.commit()
    return True


def _fail(job_id: int, token: str, message: str) -> bool:
    """Fail the import if the caller still holds its claim; whether it did."""
    failed = db.session.execute(
        update(RosterImport)
        .where(RosterImport.id == job_id, RosterImport.claim == token, RosterImport.status == Status.applying)
        .values(status=Status.failed, error=message, **_closing(True))
    )
    db.session.commit()
    return failed.rowcount == 1


def _closing(finished: bool) -> dict:
    """An import that is over keeps the file's SHA-256 (in its audit entry too), not the file."""
    return {"finished_at": utcnow(), "data": None} if finished else {}


def invite_batch(job_id: int, *, batch: int = BATCH) -> int | None:
    """Invite the next ``batch`` new employees of an import being invited, counting them in
    the same transaction, and commit (the mail goes out then). How many were invited; None
    when another run counted the same batch first (nothing of this one is kept)."""
    job = db.session.get(RosterImport, job_id)
    start = job.invited
    ids = job.to_invite[start : start + batch]
    sent = invite(ids, actor_id=job.actor_id)
    end = start + len(ids)
    finished = end >= len(job.to_invite)
    report = {**job.report, "invited": job.report["invited"] + sent}
    counted = db.session.execute(
        update(RosterImport)
        .where(RosterImport.id == job_id, RosterImport.status == Status.inviting, RosterImport.invited == start)
        .values(invited=end, report=report, status=Status.done if finished else Status.inviting, **_closing(finished))
    )
    if counted.rowcount != 1:
        db.session.rollback()
        return None
    db.session.commit()
    return sent


def invite(user_ids: list[int], *, actor_id: int | None) -> int:
    """Invite each of these employees who still can be (active, no password yet: one may have
    set a password through "forgot password" meanwhile), in the caller's transaction. How many."""
    actor = db.session.get(User, actor_id) if actor_id else None
    users = db.session.scalars(select(User).where(User.id.in_(user_ids)).order_by(User.id)).all()
    sent = 0
    for user in users:
        if invitations.can_be_invited(user):
            invitations.invite(user, actor=actor)
            sent += 1
    return sent
