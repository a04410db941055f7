"""`flask shop kpi-aggregate`: bring the KPI rollups up to date (cron, or the worker)."""

from __future__ import annotations

import click

from kpis.aggregation import aggregate
from shop.cli import shop_cli


@shop_cli.command("kpi-aggregate")
@click.option("--full", is_flag=True, help="Recount every day instead of the days that changed.")
def kpi_aggregate(full: bool) -> None:
    """Recount the KPI rollups for the days whose facts changed since the last run."""
    run = aggregate(full=full)
    click.echo(f"kpi-aggregate: {run.days} days recounted in {run.seconds:.2f} s, as of {run.as_of.isoformat()}")
