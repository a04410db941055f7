"""The buyer's order pages (blueprint ``orders``): checkout, my orders, one order, pay by payroll, cancel."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from shop.cart.services import cart_lines, summarise
from shop.checkout.placing import place_order
from shop.database import utcnow
from shop.extensions import db
from shop.orders import regions
from shop.orders.addresses import AddressInvalid, add_address, address_for, addresses_of
from shop.orders.forms import NEW_ADDRESS, CancelForm, CheckoutForm, PayrollPayForm
from shop.orders.lifecycle import cancel_order, order_for_buyer
from shop.orders.models import Order, OrderStatus
from shop.orders.signals import order_refused
from shop.payments.payroll import deduction_month, pay_by_payroll, payroll_left
from shop.refunds.services import refunds_of
from shop.web import unit_of_work

bp = Blueprint("orders", __name__)


@bp.route("/checkout", methods=["GET", "POST"])
@login_required
def checkout():
    lines = cart_lines(current_user)
    if not lines:
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("cart.view"))
    addresses = addresses_of(current_user)
    form = CheckoutForm()
    form.offer_choices()
    form.address_id.choices = [SelectChoice(a.id, a.one_line(mask_phone=True)) for a in addresses] + [
        SelectChoice(NEW_ADDRESS, _("A new address"))
    ]
    if request.method == "GET" and addresses:
        form.address_id.data = addresses[0].id
    if request.method == "POST" and form.asks_for_regions:
        form.address_id.data = NEW_ADDRESS  # the buyer is filling in a new address
        return _checkout_page(form, lines, [], 200)
    shortages = []
    status = 200 if request.method == "GET" else 422
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            if form.address_id.data == NEW_ADDRESS:
                address_id = add_address(current_user, form.address_input()).id
            else:
                address_id = (address_for(current_user, form.address_id.data) or abort(404)).id
            order_id = place_order(current_user.id, address_id).id  # before the commit expires the order
        if not work.refused:
            return redirect(url_for("orders.detail", order_id=order_id))
        if isinstance(work.refusal, AddressInvalid):
            form.show_errors(work.refusal.errors)  # beside the fields; not an order refused
        else:
            flash(work.refusal.message, "error")
            shortages = getattr(work.refusal, "shortages", [])
            order_refused.send(work.refusal, buyer_id=current_user.id, festival_id=None, product_id=None)
        lines = cart_lines(current_user)
    return _checkout_page(form, lines, shortages, status)


def _checkout_page(form: CheckoutForm, lines, shortages, status: int):
    return render_template(
        "orders/checkout.html", form=form, summary=summarise(current_user, lines), shortages=shortages
    ), status


@bp.route("/addresses/regions")
@login_required
def regions_below():
    """The cities of a province or the districts of a city, for the address form's script
    (the form works without it; the server checks what is sent either way)."""
    below = regions.children(request.args.get("parent", ""))
    response = jsonify([{"code": r.code, "name": r.name} for r in below])
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.route("/orders")
@login_required
def mine():
    orders = db.session.scalars(
        select(Order).where(Order.buyer_id == current_user.id).order_by(Order.id.desc()).limit(200)
    ).all()
    return render_template("orders/list.html", orders=orders)


@bp.route("/orders/<int:order_id>")
@login_required
def detail(order_id: int):
    order = order_for_buyer(current_user, order_id) or abort(404)
    return render_template(
        "orders/detail.html",
        order=order,
        pay_form=PayrollPayForm(),
        cancel_form=CancelForm(),
        refunds=refunds_of(order),
        # What paying by payroll now would mean, stated before the one click that confirms it.
        payroll_month=deduction_month(utcnow()),
        payroll_left=payroll_left(current_user)
        if current_user.is_employee and order.can_become(OrderStatus.paid)
        else None,
        paid_month=deduction_month(order.paid_at) if order.paid_at else None,
        just_paid=request.args.get("paid") == "1" or bool(request.args.get("confirming")),
    )


@bp.route("/orders/<int:order_id>/pay", methods=["POST"])
@login_required
def pay(order_id: int):
    order = order_for_buyer(current_user, order_id) or abort(404)
    if PayrollPayForm().validate_on_submit():
        with unit_of_work() as work:
            pay_by_payroll(current_user, order)
        if work.refused:
            return redirect(url_for("orders.detail", order_id=order_id))
        if order.status == OrderStatus.expired:
            flash(_("This order expired before it was paid; its items went back to stock."), "error")
        else:
            flash(_("Paid by payroll deduction. Thank you!"), "success")
            return redirect(url_for("orders.detail", order_id=order_id, paid=1))
    return redirect(url_for("orders.detail", order_id=order_id))


@bp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@login_required
def cancel(order_id: int):
    order = order_for_buyer(current_user, order_id) or abort(404)
    if CancelForm().validate_on_submit():
        with unit_of_work() as work:
            status = cancel_order(current_user, order)
        if work.refused:
            return redirect(url_for("orders.detail", order_id=order_id))
        if status == OrderStatus.expired:
            flash(_("This order had already expired; its items went back to stock."), "info")
        else:
            flash(_("Order cancelled; its items went back to stock."), "success")
    return redirect(url_for("orders.detail", order_id=order_id))
