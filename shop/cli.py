"""`flask shop ...` commands: admin bootstrap, HR roster, the periodic jobs (each alone, for cron, or all
of them in the worker), payroll settlement, demo data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from shop import demo
from shop.accounts import roster, roster_imports
from shop.accounts.services import AccountError
from shop.accounts.services import create_admin as make_admin
from shop.catalog.models import ProductImage
from shop.catalog.services import bound_image
from shop.database import write_intent
from shop.extensions import db
from shop.payments.payroll import parse_month
from shop.payments.reconcile import default_since, reconcile
from shop.payments.stripe_client import card_payments_enabled
from shop.settlement import services as settlement_services
from shop.spreadsheets import with_bom, write_csv
from shop.worker import registry, runner, tasks

shop_cli = AppGroup("shop", help="neigou administration commands.")


@shop_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True, default="Administrator")
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create the first admin (or promote an existing account)."""

    with write_intent():
        try:
            user = make_admin(email, name, password)
        except AccountError as exc:
            raise click.ClickException(exc.message) from exc
        db.session.commit()
    click.echo(f"Admin ready: {user.email}")


@shop_cli.command("import-employees")
@click.argument("csv_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--deactivate-missing", is_flag=True, help="Deactivate employees who are not in the file.")
def import_employees(csv_path: Path, deactivate_missing: bool) -> None:
    """Import the HR roster (columns: employee_no, email, name, department): a CSV in UTF-8 or
    GB18030 (GBK), or an Excel .xlsx workbook."""

    data = csv_path.read_bytes()
    with write_intent():
        try:
            rows, read_as = roster.read_file(data, csv_path.name)
        except roster.RosterError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"read as {roster.read_as_label(read_as)}", err=True)
        with click.progressbar(length=len(rows), label="Importing employees", file=sys.stderr) as bar:
            report = roster.import_file(
                data, filename=csv_path.name, actor=None, deactivate_missing=deactivate_missing, progress=bar.update
            )
        db.session.commit()  # the roster whole, then the invitations a batch at a time
        new_ids = [user.id for user in report.new_users]
        invited = 0
        with click.progressbar(length=len(new_ids), label="Inviting new employees", file=sys.stderr) as bar:
            for start in range(0, len(new_ids), roster_imports.BATCH):
                batch = new_ids[start : start + roster_imports.BATCH]
                invited += roster_imports.invite(batch, actor_id=None)
                db.session.commit()  # the batch's mail goes out now
                bar.update(len(batch))
    click.echo(
        f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
        f"reactivated {report.reactivated}, deactivated {report.deactivated}, rejected {len(report.rejected)}, "
        f"invited {invited}"
    )
    for line, value, reason in report.rejected:
        click.echo(f"  line {line}: {value}: {reason}")


@shop_cli.command("expire-orders")
def expire_orders() -> None:
    """Expire unpaid orders past their deadline and give their stock back (safe from cron)."""

    click.echo(tasks.expire_orders())


@shop_cli.command("bound-pictures")
def bound_pictures() -> None:
    """Replace stored product pictures larger than IMAGE_MAX_EDGE by bounded copies (once after
    upgrading; safe to run again: bounded pictures are kept)."""

    ids = list(db.session.scalars(select(ProductImage.id).order_by(ProductImage.id)))
    replaced = 0
    for number, image_id in enumerate(ids, start=1):
        with write_intent():
            image = db.session.get(ProductImage, image_id)
            if image is None:  # deleted meanwhile
                continue
            result = bound_image(image)
            db.session.commit()  # one picture at a time: an interrupted run keeps what it did
        if result is None:
            click.echo(f"[{number}/{len(ids)}] picture {image_id}: kept")
        else:
            replaced += 1
            click.echo(
                f"[{number}/{len(ids)}] picture {image_id}: {result.before[0]}x{result.before[1]} -> "
                f"{result.after[0]}x{result.after[1]}"
            )
    click.echo(f"bounded {replaced} of {len(ids)} picture(s)")


@shop_cli.command("festival-close")
def festival_close() -> None:
    """Give ended festivals' unsold allocation back to general stock (safe from cron, twice or at once)."""

    click.echo(tasks.festival_close())


@shop_cli.command("festival-notify")
@click.option(
    "--batch", default=100, show_default=True, type=click.IntRange(min=1), help="Reminders mailed per transaction."
)
def festival_notify(batch: int) -> None:
    """E-mail everyone who asked to be reminded of a festival that is now selling, once each
    (safe from cron, twice or at once)."""

    def progress(due):
        return click.progressbar(due, label="Launch reminders", file=sys.stderr)

    click.echo(tasks.festival_notify(batch, progress=progress))


@shop_cli.command("payroll-export")
@click.option("--month", required=True, help="YYYY-MM")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File for the per-employee CSV (default: stdout)",
)
@click.option("--summary", type=click.Path(dir_okay=False, path_type=Path), help="File for the summary CSV")
@click.option("--preview", is_flag=True, help="Show what the export would hold now, without recording it.")
def payroll_export(month: str, output: Path | None, summary: Path | None, preview: bool) -> None:
    """Record a month's payroll settlement and write its CSVs for HR. A month already exported
    is not counted again: its recorded files are written as they were."""

    try:
        first_day = parse_month(month)
    except ValueError as exc:
        raise click.BadParameter("use YYYY-MM, e.g. 2026-11", param_hint="--month") from exc
    if preview:
        statement = settlement_services.month_statement(first_day)
        employees = settlement_services.employees_csv(statement.employees, statement.currency)
        totals = settlement_services.summary_csv(statement.employees, statement.currency)
        click.echo(f"{month}: preview, not recorded", err=True)
    else:
        with write_intent():
            settlement = settlement_services.settlement_for(first_day)
            if settlement is None:
                try:
                    settlement = settlement_services.record_settlement(None, first_day)
                except settlement_services.SettlementError as exc:
                    raise click.ClickException(exc.message) from exc
                db.session.commit()
                click.echo(f"{month}: exported and recorded", err=True)
            else:
                click.echo(
                    f"{month}: already exported at {settlement.exported_at:%Y-%m-%d %H:%M} UTC; "
                    "these are the recorded files, not a recount",
                    err=True,
                )
            employees, totals = settlement.employees_csv, settlement.summary_csv
    _write(employees, output)
    if summary:
        _write(totals, summary)


def _write(body: str, path: Path | None) -> None:
    if path:
        write_csv(path, body)
        click.echo(f"written to {path}", err=True)
    else:
        click.echo(with_bom(body), nl=False)


@shop_cli.command("retry-refunds")
@click.option("--older-than", default=5, show_default=True, help="Minutes a card refund has been waiting.")
def retry_refunds(older_than: int) -> None:
    """Ask Stripe again about card refunds left pending (no answer, or a crash); safe from cron."""
    click.echo(tasks.retry_refunds(older_than, echo=click.echo))


@shop_cli.command("stripe-reconcile")
@click.option("--hours", type=click.IntRange(min=1), help="How far back to look (default STRIPE_RECONCILE_HOURS).")
def stripe_reconcile(hours: int | None) -> None:
    """Apply the Stripe events the webhook missed and re-read open card payments (safe from cron)."""

    if not card_payments_enabled():
        raise click.ClickException(
            "card payments are not configured (STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET)"
        )
    report = reconcile(since=default_since(hours=hours))
    click.echo(f"stripe-reconcile: {report.summary()}")
    for error in report.errors:
        click.echo(f"  error: {error}", err=True)
    if report.errors:
        sys.exit(1)


@shop_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def seed_demo(if_empty: bool) -> None:
    """Load demo data: departments, people, catalog with pictures, past orders (idempotent)."""

    if if_empty and not demo.database_is_empty():
        click.echo("database has data; demo seed skipped")
        return
    with write_intent():
        demo.seed(progress=lambda label, total: click.progressbar(length=total, label=label, file=sys.stderr))
        db.session.commit()
    click.echo("demo data ready")
    for role, email, password in demo.demo_logins():
        click.echo(f"  {role:<11} {email}  /  {password}")


@shop_cli.command("demo-logins")
def demo_logins() -> None:
    """Print the demo log-ins."""

    click.echo(f"neigou demo on {current_app.config['COMPANY_NAME']}: log in with")
    for role, email, password in demo.demo_logins():
        click.echo(f"  {role:<11} {email}  /  {password}")


@shop_cli.command("worker")
@click.option(
    "--every",
    "every",
    multiple=True,
    metavar="JOB=SECONDS",
    help="Run JOB every SECONDS (0: never), over WORKER_INTERVALS and the defaults. Repeatable.",
)
@click.option("--only", multiple=True, metavar="JOB", help="Run only these jobs. Repeatable.")
@click.option("--once", is_flag=True, help="Run each job once, one after the other, and exit.")
@click.option("--list", "list_jobs", is_flag=True, help="Show the jobs and their intervals, and exit.")
def worker(every: tuple[str, ...], only: tuple[str, ...], once: bool, list_jobs: bool) -> None:
    """Run every periodic job on its own schedule until SIGTERM or Ctrl-C (one lock per job:
    any number of workers may run)."""

    try:
        intervals = registry.parse_intervals(current_app.config["WORKER_INTERVALS"])
        intervals.update(registry.parse_intervals(every))
        scheduled = registry.schedule(registry.JOBS, intervals, only=only)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if list_jobs:
        for job, seconds in scheduled:
            click.echo(f"{job.name:<18} every {seconds} s   {job.target}")
        return
    if once:
        done = runner.run_once(current_app._get_current_object(), [job for job, _ in scheduled])
        for name, summary in done.items():
            click.echo(f"{name}: {summary if summary is not None else _('not run (failed or locked; see the log)')}")
        return
    if not runner.run_worker(current_app._get_current_object(), scheduled):
        os._exit(1)  # a job is still running past the grace time: leave without it


def _job_command(job) -> click.Command:
    def run() -> None:
        click.echo(job.load()())

    return click.Command(
        job.name, callback=run, help=f"Run the periodic job {job.name} once (as the worker does; for cron)."
    )


def _add_job_commands() -> None:
    """A job of the registry without a command of its own above gets a plain one: one line in
    shop/worker/registry.py gives the worker a job and cron a command."""
    for job in registry.JOBS:
        if job.name not in shop_cli.commands:
            shop_cli.add_command(_job_command(job))


_add_job_commands()
