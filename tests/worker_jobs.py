"""Jobs for the worker's tests (run in the test process and in a worker subprocess): each
appends a line to a file named by an environment variable, so the test can count the runs."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _mark(variable: str, line: str) -> None:
    with Path(os.environ[variable]).open("a") as marks:
        marks.write(line + "\n")


def tick() -> str:
    _mark("NEIGOU_TEST_TICKS", "tick")
    return "ticked"


def boom() -> str:
    _mark("NEIGOU_TEST_BOOMS", "boom")
    raise RuntimeError("this job always fails")


def slow() -> str:
    """Holds its lock a while, so that a second run at once finds it taken."""
    _mark("NEIGOU_TEST_TICKS", "slow")
    time.sleep(float(os.environ.get("NEIGOU_TEST_SLOW_SECONDS", "0.5")))
    return "slept"
