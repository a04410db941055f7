"""`make run` as a new user runs it: web, fake Stripe and worker as children of one supervisor,
on the ports asked for, files under the instance path, and nothing left behind after Ctrl-C (SIGINT
to make's process group, as a terminal sends it) or SIGTERM to make; a port already taken stops
it with a message naming the port.

Each run gets a temporary instance path and free ports, every wait is bounded, and every
process the run started is killed at the end even when the test fails. The database is
migrated and given one account beforehand, so that `make run` skips the demo data (seeding is
tested in test_demo), and SYNTHETIC=0 skips the KPI dashboard's synthetic data (tests/kpis), so
that the run takes seconds."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import flask_migrate
import pytest

from shop import create_app
from shop.accounts.services import create_admin
from shop.database import write_intent
from shop.extensions import db
from shop.payments.fake_stripe import free_port, is_up

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("make") is None, reason="needs make"),
]


@pytest.fixture
def demo_env(tmp_path, is_postgres):
    if is_postgres:
        pytest.skip("make run serves the demo on SQLite; the SQLite run of the suite covers it")
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "TEST_DATABASE_URL", "REDIS"))}
    env.update(NEIGOU_INSTANCE_PATH=str(instance), FLASK_APP="wsgi", NEIGOU_ENV="development")
    env.pop("MAKEFLAGS", None)
    return env


def prepare_database(env) -> None:
    """Migrated, with one account: `make run` finds data and skips the demo seed. Done in this
    process (two commands fewer to start)."""
    os.environ["NEIGOU_INSTANCE_PATH"] = env["NEIGOU_INSTANCE_PATH"]
    try:
        demo = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": None})
    finally:
        os.environ.pop("NEIGOU_INSTANCE_PATH")
    with demo.app_context():
        flask_migrate.upgrade()
        with write_intent():
            create_admin("admin@neigou.example", "Admin", "demo-pass-1")
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


def process_tree(root: int) -> dict[int, str]:
    """Every live descendant of ``root``: pid -> its start time (to tell a reused pid apart)."""
    children: dict[int, list[int]] = {}
    started: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        started[int(entry.name)] = fields[19]
    found, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = started[child]
            todo.append(child)
    return found


def still_running(pids: dict[int, str]) -> list[int]:
    alive = []
    for pid, start in pids.items():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[19] == start and fields[0] != "Z":
            alive.append(pid)
    return alive


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def healthz(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


def wait_for(condition, timeout: float, what: str, output: Path):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; make printed:\n{output.read_text()[-4000:]}")
        time.sleep(0.2)


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_make_run_serves_web_fake_stripe_and_worker_and_a_stop_leaves_nothing(stop, demo_env, tmp_path):
    prepare_database(demo_env)
    web, stripe = free_port(), free_port()
    output = tmp_path / "make.out"
    seen: dict[int, str] = {}
    with output.open("w") as out:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={web}", f"FAKE_STRIPE_PORT={stripe}", "SYNTHETIC=0"],
            cwd=ROOT,
            env=demo_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
    try:
        health = wait_for(
            lambda: (h := healthz(web)) and h["worker"]["status"] == "ok" and h,
            120,
            "/healthz with a heartbeat",
            output,
        )
        assert health["database"] == "ok" and health["worker"]["heartbeat_age_seconds"] < 60
        assert is_up(f"http://127.0.0.1:{stripe}")
        instance = Path(demo_env["NEIGOU_INSTANCE_PATH"])
        assert int((instance / "localstripe.pid").read_text()) > 0 and (instance / "neigou.db").exists()
        seen.update(process_tree(make.pid))
        printed = output.read_text()
        assert f"http://127.0.0.1:{web}" in printed and f"http://127.0.0.1:{stripe}" in printed
        assert "lily.zhao.0@friends.example" in printed  # the demo log-ins, contacts included

        if stop == "ctrl-c":
            os.killpg(make.pid, signal.SIGINT)  # as a terminal does: to the whole foreground group
        else:
            make.send_signal(signal.SIGTERM)  # to make alone, which passes it on to the supervisor
        make.wait(timeout=30)
        wait_for(lambda: not still_running(seen), 10, "every child to stop", output)
        assert not listening(web) and not listening(stripe)
        assert not (instance / "localstripe.pid").exists()
    finally:
        for pid in still_running({**seen, **process_tree(make.pid)}) + [make.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        make.wait(timeout=10)
    assert len(seen) >= 4, seen  # honcho and the three it runs (at least)


def test_make_run_refuses_a_port_already_taken(demo_env, tmp_path):
    web = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        stripe = taken.getsockname()[1]
        done = subprocess.run(
            ["make", "--no-print-directory", "run", f"PORT={web}", f"FAKE_STRIPE_PORT={stripe}"],
            cwd=ROOT,
            env=demo_env,
            capture_output=True,
            text=True,
            timeout=120,
            start_new_session=True,
        )
    assert done.returncode != 0
    assert f"Port {stripe} (fake Stripe) is not free: already in use" in done.stderr
    assert not listening(web)
    assert not Path(demo_env["NEIGOU_INSTANCE_PATH"], "neigou.db").exists()  # stopped before anything ran
