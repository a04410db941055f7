"""An HR roster uploaded on /admin/roster is imported by the worker's job (shop.accounts.roster_imports):
queued at once, applied whole in one transaction, its invitations sent a batch at a time with the
count on the import's page, carried on by the next run when a worker stops, each step done once
when two runs meet."""

from __future__ import annotations

import html
import io
from functools import partial

from sqlalchemy import func, select, update

from shop.accounts import roster_imports
from shop.accounts.models import Kind, Role, User
from shop.accounts.roster_imports import RosterImport, Status
from shop.audit.models import AuditEntry
from shop.database import utcnow
from shop.extensions import db
from shop.worker.heartbeat import beat
from tests.conftest import login, outbox
from tests.racing import race

HEADER = "employee_no,email,name,department"


def roster_file(count: int, *extra: str) -> bytes:
    lines = [HEADER, *(f"E{n:03d},new{n}@neigou.example,New Person {n},Sales" for n in range(1, count + 1)), *extra]
    return ("\n".join(lines) + "\n").encode()


def post_roster(client, content: bytes, **fields):
    data = {"roster": (io.BytesIO(content), "roster.csv"), **fields}
    response = client.post_form("/admin/roster", data, token_from="/admin/roster", content_type="multipart/form-data")
    db.session.rollback()
    return response


def employees() -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.kind == Kind.employee))


def job(job_id: int) -> RosterImport:
    db.session.expire_all()
    return db.session.get(RosterImport, job_id)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def queued(admin, content: bytes) -> int:
    found = roster_imports.queue(content, filename="roster.csv", actor=admin, deactivate_missing=False)
    db.session.commit()
    return found.id


def test_an_upload_is_queued_and_the_worker_imports_it(app, client, admin):
    login(client, admin)
    before = employees()
    response = post_roster(client, roster_file(3, "E009,not-an-address,Bad Row,"))
    assert response.status_code == 303
    page_path = response.location
    job_id = int(page_path.rsplit("/", 1)[1])

    # Queued: nothing imported yet, the page says so and reloads itself.
    assert employees() == before
    waiting = client.get(page_path)
    assert waiting.status_code == 200
    assert "Waiting for the worker" in text_of(waiting)
    assert '<meta http-equiv="refresh"' in text_of(waiting)
    assert "roster.csv" in text_of(client.get("/admin/roster"))  # listed among the latest imports

    assert roster_imports.run_pending() == "1 roster(s) applied, 3 invitation(s) sent"
    assert employees() == before + 3
    done = text_of(client.get(page_path))
    assert "Done" in done and '<meta http-equiv="refresh"' not in done
    assert "created: <strong>3</strong>" in done and "invited: <strong>3</strong>" in done
    assert "<td>5</td><td>not-an-address</td><td>bad e-mail</td>" in done
    finished = job(job_id)
    assert (finished.status, finished.invited, finished.finished_at is not None) == (Status.done, 3, True)
    assert finished.data is None and len(finished.sha256) == 64  # the file is not kept once imported
    [audited] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "roster.import")).all()
    assert (audited.actor_id, audited.after["created"], audited.after["to_invite"]) == (admin.id, 3, 3)
    assert roster_imports.run_pending() == "0 roster(s) applied, 0 invitation(s) sent"  # nothing left to do


def test_invitations_go_out_a_batch_at_a_time_and_the_page_counts_them(app, client, admin):
    login(client, admin)
    job_id = queued(admin, roster_file(5))
    token = roster_imports.claim(job_id)
    db.session.commit()
    assert "Applying the roster" in text_of(client.get(f"/admin/roster/{job_id}"))

    assert roster_imports.apply(job_id, token) is True
    applied = job(job_id)
    assert (applied.status, applied.invited, len(applied.to_invite)) == (Status.inviting, 0, 5)
    assert employees() == 1 + 5 and outbox(app) == []  # the roster is in; nobody mailed yet
    assert "0 of 5 new employees invited." in text_of(client.get(f"/admin/roster/{job_id}"))

    assert roster_imports.invite_batch(job_id, batch=2) == 2
    assert len(outbox(app)) == 2 and job(job_id).invited == 2
    page = text_of(client.get(f"/admin/roster/{job_id}"))
    assert "2 of 5 new employees invited." in page and '<progress max="5" value="2">' in page

    assert roster_imports.run_pending(batch=2) == "0 roster(s) applied, 3 invitation(s) sent"
    assert len(outbox(app)) == 5 and len(set(outbox(app))) == 5
    finished = job(job_id)
    assert (finished.status, finished.invited, finished.report["invited"]) == (Status.done, 5, 5)


def test_a_worker_that_stopped_mid_import_is_carried_on_by_the_next_run(app, admin):
    job_id = queued(admin, roster_file(4))
    roster_imports.claim(job_id)  # a run claimed it, then its worker stopped before committing the roster
    db.session.commit()
    assert employees() == 1

    token = roster_imports.claim(job_id)
    db.session.commit()
    roster_imports.apply(job_id, token)
    roster_imports.invite_batch(job_id, batch=3)  # then this worker stops after one batch
    assert len(outbox(app)) == 3

    assert roster_imports.run_pending() == "0 roster(s) applied, 1 invitation(s) sent"
    assert employees() == 1 + 4
    assert len(outbox(app)) == 4  # everyone once
    assert job(job_id).status == Status.done


def test_when_two_runs_claim_one_import_only_the_later_claim_applies_it(admin):
    job_id = queued(admin, roster_file(2))
    first = roster_imports.claim(job_id)
    db.session.commit()
    second = roster_imports.claim(job_id)  # its lease ran out, and another worker took the job
    db.session.commit()

    assert roster_imports.apply(job_id, first) is None
    assert employees() == 1  # the first run's import was rolled back
    assert roster_imports.apply(job_id, second) is True
    assert employees() == 1 + 2
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "roster.import")) == 1
    )


def test_a_batch_counted_by_another_run_first_is_not_kept(app, admin):
    job_id = queued(admin, roster_file(2))
    token = roster_imports.claim(job_id)
    db.session.commit()
    roster_imports.apply(job_id, token)
    late = job(job_id)  # this run has read the count (0) and goes on to send its batch...
    assert late.invited == 0
    # ...while another run counts the same batch first (written behind this run's back).
    db.session.execute(
        update(RosterImport).where(RosterImport.id == job_id).values(invited=1),
        execution_options={"synchronize_session": False},
    )
    assert roster_imports.invite_batch(job_id, batch=1) is None
    assert outbox(app) == []  # nothing of this run's batch is kept: no mail, no audit entry
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "user.invite")) == 0
    )


def test_runs_at_once_import_the_roster_and_invite_everyone_once(app, admin):
    """Real parallel transactions (on PostgreSQL; serialised by the write lock on SQLite): three
    runs of the job released together on one queued roster, inviting four people a batch."""
    job_id = queued(admin, roster_file(30))
    outcomes, _watch = race(app, [partial(roster_imports.run_pending, batch=4)] * 3)
    assert all(isinstance(outcome, str) for outcome in outcomes), outcomes
    assert employees() == 1 + 30
    mails = outbox(app)
    assert len(mails) == 30 and len({m.split("To: ", 1)[1].split("\n", 1)[0] for m in mails}) == 30
    finished = job(job_id)
    assert (finished.status, finished.invited, finished.report["invited"]) == (Status.done, 30, 30)
    audited = select(func.count()).select_from(AuditEntry)
    assert db.session.scalar(audited.where(AuditEntry.action == "roster.import")) == 1
    assert db.session.scalar(audited.where(AuditEntry.action == "user.invite")) == 30


def test_a_roster_that_cannot_be_read_fails_the_import_and_changes_nothing(client, admin):
    # A file the upload accepted but the worker cannot read (say, queued by an older version).
    found = RosterImport(
        actor_id=admin.id,
        filename="roster.csv",
        sha256="0" * 64,
        data=b"id,email\nE001,ann@neigou.example\n",
        deactivate_missing=True,
        status=Status.queued,
        rows=1,
    )
    db.session.add(found)
    db.session.commit()
    assert roster_imports.run_pending() == "0 roster(s) applied, 0 invitation(s) sent"
    failed = job(found.id)
    assert failed.status == Status.failed and failed.data is None
    assert failed.error == "The roster lacks the columns: employee_no, name, department."
    assert employees() == 1
    login(client, admin)
    page = text_of(client.get(f"/admin/roster/{found.id}"))
    assert "The roster lacks the columns: employee_no, name, department." in page
    assert "Nothing of this file was imported." in page and '<meta http-equiv="refresh"' not in page


def test_the_reasons_and_the_status_are_in_the_admins_language(client, make_user):
    admin = make_user(role=Role.admin, email="wang@neigou.example", preferred_locale="zh_CN")
    job_id = queued(admin, roster_file(1, "E009,not-an-address,Bad Row,"))
    roster_imports.run_pending()
    login(client, admin)
    page = text_of(client.get(f"/admin/roster/{job_id}"))
    assert "已完成" in page and "<td>3</td><td>not-an-address</td><td>邮箱无效</td>" in page


def test_the_page_says_when_no_worker_is_running(client, admin):
    job_id = queued(admin, roster_file(1))
    login(client, admin)
    no_worker = "No background worker is running"
    assert no_worker in text_of(client.get(f"/admin/roster/{job_id}"))
    beat("web-test:1", utcnow())
    assert no_worker not in text_of(client.get(f"/admin/roster/{job_id}"))


def test_an_unknown_import_is_not_found(client, admin):
    login(client, admin)
    assert client.get("/admin/roster/999").status_code == 404


def test_the_worker_runs_it_every_few_seconds_and_cron_can_too(app, admin):
    from shop.worker.registry import JOBS

    assert [job.every for job in JOBS if job.name == "roster-import"] == [5]
    queued(admin, roster_file(1))
    result = app.test_cli_runner().invoke(args=["shop", "roster-import"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 roster(s) applied, 1 invitation(s) sent"
