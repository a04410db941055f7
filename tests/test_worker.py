"""The worker (flask shop worker): the job registry, one run of a job at a time across workers,
each job's work done once when two runs race, the heartbeat behind /healthz, and a real worker
process that runs due jobs, survives a failing one and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from shop.audit.models import AuditEntry
from shop.catalog.festival_models import FestivalItem, Phase
from shop.catalog.models import Variant
from shop.database import utcnow
from shop.extensions import db
from shop.festivals import reminders
from shop.orders.models import Order, OrderStatus
from shop.worker import locks, registry, runner, tasks
from shop.worker.heartbeat import beat, worker_health
from shop.worker.models import JobLease, WorkerHeartbeat
from tests.conftest import outbox
from tests.test_concurrency import run_together

ROOT = Path(__file__).resolve().parents[1]
TICK = registry.Job("tick", "tests.worker_jobs:tick", every=1)
BOOM = registry.Job("boom", "tests.worker_jobs:boom", every=1)
SLOW = registry.Job("slow", "tests.worker_jobs:slow", every=60)


@pytest.fixture
def marks(tmp_path, monkeypatch):
    """Files the test jobs append to, one line per run."""
    files = {"ticks": tmp_path / "ticks", "booms": tmp_path / "booms"}
    monkeypatch.setenv("NEIGOU_TEST_TICKS", str(files["ticks"]))
    monkeypatch.setenv("NEIGOU_TEST_BOOMS", str(files["booms"]))
    return files


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


# ---- the registry ----------------------------------------------------------------------------


def test_every_job_of_the_registry_loads_and_is_a_command_for_cron(app):
    commands = app.cli.commands["shop"].commands
    for job in registry.JOBS:
        assert callable(job.load()), job
        assert job.name in commands, f"{job.name} has no `flask shop {job.name}` for cron"
    every = {job.name: job.every for job in registry.JOBS}
    defaults = {"expire-orders": 60, "stripe-reconcile": 60, "festival-notify": 60, "festival-close": 60}
    assert {name: every[name] for name in defaults} == defaults and every["retry-refunds"] == 300
    assert every["kpi-aggregate"] == 20


def test_a_job_added_to_the_registry_alone_is_a_command_too(app, marks, monkeypatch):
    from shop import cli

    monkeypatch.setattr(registry, "JOBS", (*registry.JOBS, TICK))
    monkeypatch.setattr(cli.shop_cli, "commands", dict(cli.shop_cli.commands))
    cli._add_job_commands()
    result = app.test_cli_runner().invoke(args=["shop", "tick"])
    assert result.exit_code == 0 and result.stdout == "ticked\n"
    assert lines(marks["ticks"]) == ["tick"]


def test_intervals_are_configured_by_name_and_a_typo_is_refused():
    assert registry.parse_intervals("expire-orders=30, retry-refunds=0") == {"expire-orders": 30, "retry-refunds": 0}
    assert registry.parse_intervals(["tick=5"]) == {"tick": 5}
    with pytest.raises(ValueError, match="NAME=SECONDS"):
        registry.parse_intervals("expire-orders")
    jobs = [TICK, BOOM, SLOW]
    assert registry.schedule(jobs, {"tick": 7, "boom": 0}) == [(TICK, 7), (SLOW, 60)]
    assert registry.schedule(jobs, {}, only=["slow"]) == [(SLOW, 60)]
    with pytest.raises(ValueError, match="no such job: tock"):
        registry.schedule(jobs, {"tock": 5})


def test_the_worker_command_lists_and_runs_each_job_once(app):
    runner_ = app.test_cli_runner()
    listed = runner_.invoke(args=["shop", "worker", "--list", "--every", "retry-refunds=600"])
    assert listed.exit_code == 0, listed.output
    assert "retry-refunds      every 600 s" in listed.stdout and "expire-orders      every 60 s" in listed.stdout
    once = runner_.invoke(args=["shop", "worker", "--once", "--only", "expire-orders", "--only", "festival-close"])
    assert once.exit_code == 0, once.output
    assert once.stdout.splitlines() == [
        "expire-orders: expired 0 order(s)",
        "festival-close: returned 0 unit(s) to general stock",
    ]
    wrong = runner_.invoke(args=["shop", "worker", "--every", "expire-order=5"])
    assert wrong.exit_code == 2 and "no such job: expire-order" in wrong.output


# ---- one run at a time -------------------------------------------------------------------------


def test_two_workers_starting_a_job_at_once_run_it_once(app, marks, monkeypatch):
    monkeypatch.setenv("NEIGOU_TEST_SLOW_SECONDS", "1")
    outcomes = run_together(app, [lambda: runner.run_job(app, SLOW)] * 2)
    assert sorted(outcomes, key=str) == [None, "slept"], outcomes  # None: the other held the lock
    assert lines(marks["ticks"]) == ["slow"]
    # The lock is given back: the next run goes ahead.
    assert runner.run_job(app, SLOW) == "slept"
    assert lines(marks["ticks"]) == ["slow", "slow"]


def test_a_failing_job_gives_its_lock_back(app, marks):
    assert runner.run_job(app, BOOM) is None
    assert runner.run_job(app, BOOM) is None
    assert lines(marks["booms"]) == ["boom", "boom"]  # it ran both times: the failure left no lock


def test_a_lease_runs_out_and_a_dead_holders_lease_is_taken_over(app, is_postgres):
    if is_postgres:
        pytest.skip("PostgreSQL holds advisory locks, which die with their connection")
    lease = timedelta(minutes=15)
    with locks.job_lock("x", lease=lease) as held:
        assert held
        with locks.job_lock("x", lease=lease) as again:
            assert not again  # held, even by this very process
    db.session.execute(update(JobLease).values(holder=f"{locks.HOST}:{os.getpid()}:abc", held_until=utcnow()))
    db.session.commit()
    with locks.job_lock("x", lease=lease) as held:
        assert held  # the lease had run out
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    for holder, taken in (
        (f"{locks.HOST}:{dead.stdout.strip()}:abc", True),  # a process of this host that is gone
        (f"elsewhere.example:{os.getpid()}:abc", False),  # another host's: wait for its lease
    ):
        db.session.execute(update(JobLease).values(holder=holder, held_until=utcnow() + lease))
        db.session.commit()
        with locks.job_lock("x", lease=lease) as held:
            assert held is taken, holder


# ---- each job's work is done once when two runs race (no lock) ---------------------------------


@pytest.mark.slow
def test_two_expiry_runs_at_once_give_each_orders_stock_back_once(app, make_user, make_product, place):
    variant_id = make_product(stock=10).variants[0].id
    orders = [place(make_user(), db.session.get(Variant, variant_id), 2).id for _ in range(4)]
    db.session.execute(update(Order).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert db.session.scalar(select(Variant.stock).where(Variant.id == variant_id)) == 2

    outcomes = run_together(app, [tasks.expire_orders, tasks.expire_orders])
    counts = sorted(int(o.split()[1]) for o in outcomes)
    assert sum(counts) == 4, outcomes  # each order expired by one run only
    assert db.session.scalar(select(Variant.stock).where(Variant.id == variant_id)) == 10
    assert set(db.session.scalars(select(Order.status).where(Order.id.in_(orders)))) == {OrderStatus.expired}
    expired = db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "order.expired")
    )
    assert expired == 4


@pytest.mark.slow
def test_two_notify_runs_at_once_mail_each_subscriber_once(app, make_user, make_festival):
    festival = make_festival(phase=Phase.launch)
    users = [make_user() for _ in range(8)]
    for user in users:
        reminders.remind_me(user, festival, now=festival.preheat_at)
    db.session.commit()

    outcomes = run_together(app, [lambda: tasks.festival_notify(batch=3)] * 2)
    assert all(isinstance(o, str) for o in outcomes), outcomes
    assert sum(int(o.split()[1]) for o in outcomes) == 8, outcomes
    recipients = Counter(m.split("To: ")[1].split("\n")[0] for m in outbox(app))
    assert recipients == Counter({u.email: 1 for u in users})


@pytest.mark.slow
def test_two_close_runs_at_once_return_each_allocation_once(app, make_festival, make_festival_item, make_product):
    festival = make_festival(phase=Phase.ended)
    variants = [make_product(stock=5).variants[0] for _ in range(2)]
    items = [make_festival_item(festival, variants[0], 3), make_festival_item(festival, variants[1], 4)]
    ids = [v.id for v in variants]
    assert [db.session.get(Variant, i).stock for i in ids] == [2, 1]

    outcomes = run_together(app, [tasks.festival_close, tasks.festival_close])
    assert sorted(int(o.split()[1]) for o in outcomes) in ([0, 7], [3, 4]), outcomes
    db.session.expire_all()
    assert [db.session.get(Variant, i).stock for i in ids] == [5, 5]
    assert [db.session.get(FestivalItem, item.id).returned_units for item in items] == [3, 4]
    returns = db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "festival.return_allocation")
    )
    assert returns == 2


# ---- the heartbeat and /healthz ----------------------------------------------------------------


def test_healthz_tells_how_old_the_workers_heartbeat_is(client, app):
    assert client.get("/healthz").get_json()["worker"] == {
        "status": "missing",
        "heartbeat_age_seconds": None,
        "workers": 0,
    }
    now = utcnow()
    beat("host-a:1", now - timedelta(minutes=10), now=now - timedelta(seconds=5))
    worker = client.get("/healthz").get_json()["worker"]
    assert worker["status"] == "ok" and worker["workers"] == 1 and 4 <= worker["heartbeat_age_seconds"] < 60

    stale = now - timedelta(seconds=app.config["WORKER_STALE_SECONDS"] + 30)
    db.session.execute(update(WorkerHeartbeat).values(beat_at=stale))
    db.session.commit()
    response = client.get("/healthz")
    assert response.status_code == 200  # the web host itself is fine
    worker = response.get_json()["worker"]
    assert worker["status"] == "stale" and worker["workers"] == 0 and worker["heartbeat_age_seconds"] >= 90


def test_a_beat_forgets_workers_gone_for_a_day(app):
    now = utcnow()
    beat("old:1", now - timedelta(days=3), now=now - timedelta(days=2))
    beat("new:2", now, now=now)
    assert set(db.session.scalars(select(WorkerHeartbeat.worker))) == {"new:2"}
    assert worker_health(timedelta(minutes=1), now=now).workers == 1


# ---- a real worker process ---------------------------------------------------------------------

CHILD = """
import sys
from shop import create_app
from shop.worker import registry, runner

app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": sys.argv[1], "WORKER_HEARTBEAT_SECONDS": 1})
jobs = [registry.Job("boom", "tests.worker_jobs:boom", every=1), registry.Job("tick", "tests.worker_jobs:tick", every=1)]
sys.exit(0 if runner.run_worker(app, [(job, job.every) for job in jobs]) else 1)
"""


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.slow
def test_a_worker_process_runs_due_jobs_survives_a_failing_one_and_stops_on_sigterm(app, marks, tmp_path):
    db.session.commit()
    env = {**os.environ, "NEIGOU_INSTANCE_PATH": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT)}
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, app.config["SQLALCHEMY_DATABASE_URI"]],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        # The failing job fails again and again, and the other job keeps running beside it.
        wait_for(lambda: len(lines(marks["booms"])) >= 2 and len(lines(marks["ticks"])) >= 2, 30, "two runs of each")
        wait_for(lambda: worker_health(timedelta(seconds=30)).status == "ok", 10, "a heartbeat")
        db.session.rollback()
        child.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        assert child.wait(timeout=10) == 0
        assert time.monotonic() - stopped < 5
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    output = log_path.read_text()
    assert "boom: failed" in output and "RuntimeError: this job always fails" in output
    assert "tick: ticked" in output
    assert "SIGTERM received: stopping" in output and "stopped" in output.splitlines()[-1]
