"""gunicorn.conf.py as gunicorn itself reads it (``--print-config`` resolves every setting and
loads the app, as a server would before forking its workers)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def resolved(tmp_path, **env) -> dict[str, str]:
    """gunicorn's settings, resolved from the project's directory with ``env`` added."""
    environment = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "GUNICORN_CMD_ARGS")}
    environment.update(
        NEIGOU_ENV="production",
        NEIGOU_INSTANCE_PATH=str(tmp_path),
        SECRET_KEY="gunicorn-config-test-secret",
        PUBLIC_URL="https://shop.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'neigou.db'}",
        **env,
    )
    done = subprocess.run(
        [str(GUNICORN), "--print-config", "wsgi:app"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    settings = {}
    for line in done.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            settings[name.strip()] = value.strip()
    return settings


def cpus() -> int:
    return len(os.sched_getaffinity(0))


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="CPU affinity is read on Linux")
def test_by_default_one_sync_process_per_cpu_and_one_more(tmp_path):
    settings = resolved(tmp_path)
    assert settings["config"] == "./gunicorn.conf.py"
    assert settings["workers"] == str(cpus() + 1)
    assert settings["worker_class"] == "sync"  # a process takes a connection only when free
    assert settings["timeout"] == "300"  # a large roster upload runs for more than a minute


def test_web_concurrency_sets_the_processes_and_the_command_line_overrides_the_rest(tmp_path):
    settings = resolved(tmp_path, WEB_CONCURRENCY="3", GUNICORN_CMD_ARGS="--worker-class gthread --threads 4")
    assert (settings["workers"], settings["worker_class"], settings["threads"]) == ("3", "gthread", "4")
