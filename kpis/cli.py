"""`flask shop kpi-aggregate`: bring the KPI rollups up to date (cron, or the worker)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import click
from sqlalchemy import text

from kpis import medians
from kpis.aggregation import aggregate
from kpis.synthetic import is_seeded, seed_synthetic
from kpis.synthetic.plan import Plan
from shop.cli import shop_cli
from shop.database import write_intent
from shop.extensions import db

# The tables the synthetic data and a full aggregation write in bulk.
BULK_LOADED = "funnel_events, users, orders, leads, kpi_event_gaps, kpi_gap_days, kpi_gap_weeks, kpi_chain_days"


@shop_cli.command("kpi-aggregate")
@click.option("--full", is_flag=True, help="Recount every day instead of the days that changed.")
def kpi_aggregate(full: bool) -> None:
    """Recount the KPI rollups for the days whose facts changed since the last run."""
    run = aggregate(full=full)
    medians.refresh()
    click.echo(f"kpi-aggregate: {run.days} days recounted in {run.seconds:.2f} s, as of {run.as_of.isoformat()}")


@shop_cli.command("seed-synthetic")
@click.option("--employees", default=20_000, show_default=True, type=click.IntRange(min=1))
@click.option("--contacts", default=100_000, show_default=True, type=click.IntRange(min=0))
@click.option("--events", default=1_000_000, show_default=True, type=click.IntRange(min=0))
@click.option("--months", default=12, show_default=True, type=click.IntRange(min=1, max=60))
@click.option("--seed", default=1, show_default=True, help="The same seed gives the same data.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day of the data (default: today, UTC).")
@click.option("--if-absent", is_flag=True, help="Do nothing when this seed's data is there already.")
def seed_synthetic_command(
    employees: int, contacts: int, events: int, months: int, seed: int, until: datetime | None, if_absent: bool
) -> None:
    """Write a synthetic data set at scale (long-tailed chains, festival spikes, repeat buyers,
    refunds), then count the KPIs. Log in as syn<seed>-e0@neigou.example / synthetic-pass-1."""
    plan = Plan(employees=employees, contacts=contacts, events=events, months=months, seed=seed)
    if if_absent and is_seeded(plan):
        click.echo(f"seed-synthetic: seed {seed} is there already; skipped")
        return
    with write_intent():
        written = seed_synthetic(
            plan,
            progress=lambda label, total: click.progressbar(length=total, label=label, file=sys.stderr),
            now=until.replace(tzinfo=UTC) + timedelta(days=1) if until else None,
        )
        db.session.commit()
    click.echo(
        f"seed-synthetic: {written['employees']} employees, {written['contacts']} contacts, "
        f"{len(written['orders'])} paid orders, {written['events']} events"
    )
    run = aggregate(full=True)
    medians.refresh()
    click.echo(f"kpi-aggregate: {run.days} days counted in {run.seconds:.1f} s")
    if db.engine.dialect.name == "postgresql":
        # Mark the bulk-loaded pages all-visible (autovacuum would, later), so that counts over
        # an index (a chain's events and kept gaps on /network) need not visit the table.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"VACUUM (ANALYZE) {BULK_LOADED}"))
