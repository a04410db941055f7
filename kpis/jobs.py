"""The KPI aggregation as a periodic job of `flask shop worker` (shop/worker/registry.py names it
by its import path, so the core imports nothing from here)."""

from __future__ import annotations

from kpis import medians
from kpis.aggregation import aggregate


def aggregate_kpis() -> str:
    run = aggregate()
    medians.refresh()
    return f"{run.days} days recounted in {run.seconds:.2f} s, as of {run.as_of.isoformat()}"
