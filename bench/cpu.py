"""Where a benchmark's CPU goes: the CPU time of every process on the machine, read from /proc
before and after a measured phase, summed by what the process is (the app's gunicorn, the
KPI worker, PostgreSQL, the benchmark's own load generator, the rest).

    before = cpu.snapshot()
    ...                                  # the measured phase
    split = cpu.split_ms(before, cpu.snapshot(), per=requests)   # {"app": 8.7, "postgres": 3.5, ...}

A process that starts during the phase counts from zero; one that ends during it is not
counted, so take the second snapshot while the servers still run. Without /proc (not Linux)
the split is empty.
"""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _group(pid: int, cmdline: str) -> str:
    if pid == os.getpid():
        return "load_generator"
    if "gunicorn" in cmdline:
        return "app"
    if "shop worker" in cmdline:
        return "worker"
    if cmdline.startswith("postgres"):
        return "postgres"
    return "other"


def snapshot() -> dict[int, tuple[str, float]]:
    """Each process's group and CPU seconds (user and system) so far."""
    found: dict[int, tuple[str, float]] = {}
    if not PROC.is_dir():
        return found
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile, or not ours to read
            continue
        pid = int(entry.name)
        found[pid] = (_group(pid, cmdline), (int(fields[11]) + int(fields[12])) / TICKS)
    return found


def split_ms(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], per: int) -> dict[str, float]:
    """CPU milliseconds by group between two snapshots, divided by ``per`` (requests, posts)."""
    totals: dict[str, float] = {}
    for pid, (group, seconds) in after.items():
        earlier = before.get(pid)
        spent = seconds - earlier[1] if earlier is not None and earlier[0] == group else seconds
        totals[group] = totals.get(group, 0.0) + spent
    return {group: round(seconds * 1000 / max(per, 1), 2) for group, seconds in sorted(totals.items())}
