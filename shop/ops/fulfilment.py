"""Operators find orders, ship and complete them. Refunds: shop/ops/refunds.py."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from shop.accounts.models import User
from shop.accounts.session import operator_required
from shop.audit.models import AuditEntry
from shop.audit.readable import readable
from shop.catalog.festival_models import Festival
from shop.company_calendar import company_zone
from shop.extensions import db
from shop.input_checks import parse_id
from shop.labels import label
from shop.ops.views import bp
from shop.orders.forms import BulkShipForm, CompleteForm, OrderFilterForm, ShipForm
from shop.orders.lifecycle import mark_completed, mark_shipped
from shop.orders.models import Order, OrderStatus, PaymentMethod
from shop.refunds.forms import refund_form_for
from shop.refunds.services import refunds_of
from shop.web import unit_of_work

LIST_LIMIT = 200


def order_filter_form() -> OrderFilterForm:
    """The orders page's filters, read from the query string (the CSV export takes the same)."""
    form = OrderFilterForm(request.args)
    form.status.choices = [SelectChoice("", _("Any status"))] + [SelectChoice(s.value, label(s)) for s in OrderStatus]
    festivals = db.session.execute(select(Festival.id, Festival.name).order_by(Festival.launch_at.desc())).all()
    form.festival.choices = [SelectChoice("", _("Any festival or none")), SelectChoice("none", _("Outside festivals"))]
    form.festival.choices += [SelectChoice(str(festival_id), name) for festival_id, name in festivals]
    return form


def filtered_orders(form: OrderFilterForm) -> Select:
    """Orders matching a validated filter form, newest first."""
    query = select(Order).options(selectinload(Order.buyer))
    zone = company_zone()
    if form.status.data:
        query = query.where(Order.status == OrderStatus(form.status.data))
    if form.festival.data == "none":
        query = query.where(Order.festival_id.is_(None))
    elif form.festival.data:
        query = query.where(Order.festival_id == parse_id(form.festival.data))
    if form.payment_method.data:
        query = query.where(Order.payment_method == PaymentMethod(form.payment_method.data))
    if form.buyer_level.data:
        query = query.where(Order.buyer_level == int(form.buyer_level.data))
    if form.buyer.data:
        pattern = f"%{form.buyer.data.strip()}%"
        query = query.join(User, User.id == Order.buyer_id).where(
            or_(User.email.ilike(pattern), User.name.ilike(pattern))
        )
    if form.date_from.data:
        query = query.where(Order.created_at >= datetime.combine(form.date_from.data, time(), zone))
    if form.date_to.data:
        end = datetime.combine(form.date_to.data + timedelta(days=1), time(), zone)
        query = query.where(Order.created_at < end)
    return query.order_by(Order.id.desc())


@bp.route("/orders")
@operator_required
def orders():
    form = order_filter_form()
    if not form.validate():
        return render_template("ops/orders.html", form=form, orders=[], ship_form=BulkShipForm()), 422
    found = db.session.scalars(filtered_orders(form).limit(LIST_LIMIT)).all()
    return render_template(
        "ops/orders.html",
        form=form,
        orders=found,
        ship_form=BulkShipForm(),
        limit=LIST_LIMIT,
        OrderStatus=OrderStatus,
        export_args=request.args.to_dict(),
    )


def find_order(order_id: int) -> Order:
    return db.session.scalar(select(Order).where(Order.id == order_id).options(selectinload(Order.lines))) or abort(404)


@bp.route("/orders/<int:order_id>")
@operator_required
def order(order_id: int):
    return render_order(find_order(order_id))


def render_order(found: Order, *, refund_form=None, status: int = 200):
    """The operator's order page; the refund view re-renders it with its form's errors."""
    history = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "Order", AuditEntry.entity_id == found.id)
        .order_by(AuditEntry.id)
    ).all()
    return render_template(
        "ops/order.html",
        order=found,
        ship_form=ShipForm(),
        complete_form=CompleteForm(),
        refund_form=refund_form or refund_form_for(found, formdata=None),
        refunds=refunds_of(found),
        history=readable(history),
        OrderStatus=OrderStatus,
    ), status


@bp.route("/orders/<int:order_id>/ship", methods=["POST"])
@operator_required
def ship(order_id: int):
    found = find_order(order_id)
    form = ShipForm()
    if not form.validate_on_submit():
        flash(_("Enter the carrier and the tracking number."), "error")
        return redirect(url_for("ops.order", order_id=order_id))
    with unit_of_work(_("Marked shipped.")):
        mark_shipped(current_user, found, form.carrier.data, form.tracking_number.data)
    return redirect(url_for("ops.order", order_id=order_id))


@bp.route("/orders/<int:order_id>/complete", methods=["POST"])
@operator_required
def complete(order_id: int):
    found = find_order(order_id)
    if CompleteForm().validate_on_submit():
        with unit_of_work(_("Marked completed.")):
            mark_completed(current_user, found)
    return redirect(url_for("ops.order", order_id=order_id))
