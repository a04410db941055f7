"""The payroll settlement pages: a month's statement, recording its export, the recorded files."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.accounts.session import operator_required
from shop.company_calendar import company_zone
from shop.database import utcnow
from shop.extensions import db
from shop.i18n import local_month
from shop.ops.views import bp
from shop.orders.forms import PayrollExportForm
from shop.payments.payroll import parse_month
from shop.settlement import services
from shop.settlement.forms import SettleForm
from shop.settlement.models import PayrollSettlement
from shop.spreadsheets import csv_response
from shop.web import unit_of_work


@bp.route("/payroll")
@operator_required
def payroll():
    # Without a month asked for, the last finished month: the one HR settles next.
    form = PayrollExportForm(request.args if request.args else None, month=_last_finished_month())
    context = {"form": form, "recent": services.recent_settlements()}
    if form.validate():
        context.update(_month_context(form.month.data))
    status = 422 if request.args and form.errors else 200
    return render_template("ops/payroll.html", **context), status


def _last_finished_month() -> str:
    today = utcnow().astimezone(company_zone()).date()
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def _month_context(label: str) -> dict:
    month = parse_month(label)
    settlement = services.settlement_for(month)
    if settlement is not None:
        rows = settlement.lines
    else:
        statement = services.month_statement(month)
        rows = statement.employees
    return {
        "month": label,
        "month_shown": local_month(month),
        "settlement": settlement,
        "rows": rows,
        "departments": services.by_department(rows),
        "totals": services.totals_of(rows),
        "settle_form": SettleForm(month=label),
    }


@bp.route("/payroll/export", methods=["POST"])
@operator_required
def payroll_export():
    form = SettleForm()
    if not form.validate_on_submit():
        return render_template(
            "ops/payroll.html",
            form=PayrollExportForm(),
            recent=services.recent_settlements(),
            settle_errors=form.month.errors or form.errors,
        ), 422
    month = parse_month(form.month.data)
    with unit_of_work(_("%(month)s exported: download the files for HR below.", month=local_month(month))):
        services.record_settlement(current_user, month)
    return redirect(url_for("ops.payroll", month=form.month.data))


@bp.route("/payroll/<int:settlement_id>/<kind>.csv")
@operator_required
def payroll_file(settlement_id: int, kind: str):
    """The files as recorded at export: the same bytes every time."""
    settlement = db.session.get(PayrollSettlement, settlement_id) or abort(404)
    bodies = {"employees": settlement.employees_csv, "summary": settlement.summary_csv}
    if kind not in bodies:
        abort(404)
    return csv_response(bodies[kind], f"payroll-{settlement.label}-{kind}.csv")
