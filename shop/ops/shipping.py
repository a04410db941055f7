"""Fulfilment at volume: the filtered orders as a CSV with their lines, shipping a selection of
orders or an uploaded CSV of shipments (shop/orders/shipping.py), and a printable packing list."""

from __future__ import annotations

import hashlib

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.accounts.models import User
from shop.accounts.session import operator_required
from shop.audit.services import record
from shop.catalog.festival_models import Festival
from shop.extensions import db
from shop.i18n import local_datetime, to_major
from shop.input_checks import parse_id
from shop.ops.fulfilment import filtered_orders, order_filter_form
from shop.ops.views import bp
from shop.orders import shipping
from shop.orders.forms import BulkShipForm, ShipmentUploadForm
from shop.orders.models import Order
from shop.spreadsheets import csv_response
from shop.web import unit_of_work

EXPORT_LIMIT = 20_000
PACKING_LIST_LIMIT = 200
CSV_COLUMNS = (
    _l("order_number"),
    _l("placed_at"),
    _l("status"),
    _l("buyer_name"),
    _l("buyer_email"),
    _l("buyer_level"),
    _l("payment_method"),
    _l("paid_at"),
    _l("festival"),
    _l("ship_to"),
    _l("carrier"),
    _l("tracking_number"),
    _l("sku"),
    _l("product"),
    _l("option"),
    _l("unit_price"),
    _l("quantity"),
    _l("refunded_quantity"),
    _l("line_total"),
    _l("order_total"),
    _l("order_refunded"),
    _l("currency"),
)


@bp.route("/orders.csv")
@operator_required
def orders_csv():
    form = order_filter_form()
    if not form.validate():
        abort(422)
    found = db.session.scalars(filtered_orders(form).options(selectinload(Order.lines)).limit(EXPORT_LIMIT)).all()
    festival_names = dict(db.session.execute(select(Festival.id, Festival.name)).all())
    rows: list[list] = [list(CSV_COLUMNS)]
    for order in found:
        for line in order.lines:
            rows.append(
                [
                    order.number,
                    local_datetime(order.created_at, "yyyy-MM-dd HH:mm"),
                    order.status.value,
                    order.buyer.name,
                    order.buyer.email,
                    order.buyer_level,
                    order.payment_method.value if order.payment_method else "",
                    local_datetime(order.paid_at, "yyyy-MM-dd HH:mm"),
                    festival_names.get(order.festival_id, ""),
                    order.ship_to,
                    order.carrier,
                    order.tracking_number,
                    line.sku,
                    line.product_name,
                    line.variant_name,
                    to_major(line.unit_price, order.currency),
                    line.quantity,
                    line.refunded_quantity,
                    to_major(line.line_total, order.currency),
                    to_major(order.total_amount, order.currency),
                    to_major(order.refunded_amount, order.currency),
                    order.currency,
                ]
            )
    return csv_response(rows, "orders.csv")


def _selected_ids() -> list[int]:
    """The ticked orders' ids, each once; a value that is no id is left out."""
    ids = (parse_id(value) for value in request.values.getlist("order_id")[:PACKING_LIST_LIMIT])
    return list(dict.fromkeys(order_id for order_id in ids if order_id is not None))


@bp.route("/orders/ship", methods=["POST"])
@operator_required
def ship_selected():
    form = BulkShipForm()
    ids = _selected_ids()
    if not form.validate_on_submit() or not ids:
        flash(_("Tick the orders to ship and enter the carrier."), "error")
        return redirect(request.referrer or url_for("ops.orders"))
    found = {o.id: o for o in db.session.scalars(select(Order).where(Order.id.in_(ids)))}
    shipments, problems = [], []
    for position, order_id in enumerate(ids, start=1):
        order = found.get(order_id)
        tracking = (request.form.get(f"tracking_{order_id}") or "").strip()
        number = order.number if order else str(order_id)
        if not tracking or len(tracking) > shipping.FIELD_MAX:
            problems.append((position, _("%(number)s: enter its tracking number.", number=number)))
            continue
        shipments.append(shipping.Shipment(position, number, form.carrier.data.strip(), tracking))
    with unit_of_work() as work:
        report = shipping.ship_all(current_user, shipments)
    if not work.refused:
        _flash_report(report, [message for _position, message in problems])
    return redirect(request.referrer or url_for("ops.orders"))


@bp.route("/orders/shipments", methods=["GET", "POST"])
@operator_required
def upload_shipments():
    form = ShipmentUploadForm()
    report, problems = None, []
    if form.validate_on_submit():
        data = form.shipments.data.read()
        with unit_of_work(flash_refusal=False) as work:
            rows, problems = shipping.read_shipments(data)
            report = shipping.ship_all(current_user, rows)
            problems = sorted(problems + report.problems)
            uploader = db.session.get(User, current_user.id)  # the row, not the request's proxy
            record(
                "orders.shipments_uploaded",
                uploader,
                actor=uploader,
                after={
                    "file": form.shipments.data.filename,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "shipped": len(report.shipped),
                    "unchanged": len(report.unchanged),
                    "problems": len(problems),
                },
            )
        if work.refused:
            report, problems = None, []
            form.shipments.errors.append(work.refusal.message)
    status = 422 if form.errors else 200
    return render_template("ops/shipments.html", form=form, report=report, problems=problems), status


def _flash_report(report: shipping.ShipmentReport, extra: list[str]) -> None:
    if report.shipped:
        flash(
            ngettext(
                "Shipped %(count)d order: %(numbers)s.",
                "Shipped %(count)d orders: %(numbers)s.",
                len(report.shipped),
                count=len(report.shipped),
                numbers=", ".join(report.shipped),
            )
        )
    if report.unchanged:
        flash(_("Already shipped, left as they were: %(numbers)s.", numbers=", ".join(report.unchanged)), "info")
    for message in extra + [message for _line, message in report.problems]:
        flash(message, "error")


@bp.route("/orders/packing-list")
@operator_required
def packing_list():
    ids = _selected_ids()
    if not ids:
        flash(_("Tick the orders for the packing list."), "error")
        return redirect(url_for("ops.orders"))
    found = db.session.scalars(
        select(Order).where(Order.id.in_(ids)).options(selectinload(Order.lines), selectinload(Order.buyer))
    ).all()
    return render_template("ops/packing_list.html", orders=sorted(found, key=lambda o: o.id))
