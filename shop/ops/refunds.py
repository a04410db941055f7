"""Operators refund an order from its page: in full, or some items, or an amount."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.accounts.session import operator_required
from shop.i18n import format_money
from shop.ops.fulfilment import find_order, render_order
from shop.ops.views import bp
from shop.refunds import services
from shop.refunds.forms import refund_form_for
from shop.refunds.models import RefundStatus
from shop.web import unit_of_work


@bp.route("/orders/<int:order_id>/refund", methods=["POST"])
@operator_required
def refund(order_id: int):
    """Record the refund and commit; a card refund then goes to Stripe with the order's lock
    released, and its answer is committed on its own (shop.refunds.services explains why)."""
    found = find_order(order_id)
    form = refund_form_for(found)
    if not form.validate_on_submit():
        if _changed_meanwhile(found, form):
            flash(
                _(
                    "Those items were refunded meanwhile (the form was sent twice, or by another operator): nothing more was refunded."
                ),
                "error",
            )
        return render_order(found, refund_form=form, status=422)
    with unit_of_work(flash_refusal=False) as work:
        made = services.refund_order(
            current_user,
            found,
            reason=form.reason.data,
            quantities=form.quantities(),
            amount=form.amount_minor(found.currency),
            restock=form.restock.data,
            full=form.full.data,
        )
        card_request = services.card_request(made) if made.status == RefundStatus.pending else None
    if work.refused:
        found = find_order(order_id)
        if found.open_to_refunds:
            form.form_errors.append(work.refusal.message)
        else:  # nothing left to refund: the page has no form to show it on
            flash(work.refusal.message, "error")
        return render_order(found, refund_form=form, status=422)
    if card_request is not None:
        with unit_of_work():  # Stripe's answer, in a transaction of its own
            made = services.send_card_refund(card_request, actor=current_user)
    amount = format_money(made.amount, made.currency)
    if made.status == RefundStatus.succeeded:
        flash(_("Refunded %(amount)s.", amount=amount), "success")
    elif made.status == RefundStatus.failed:
        flash(
            _(
                "Stripe refused the refund of %(amount)s: %(message)s Nothing was refunded.",
                amount=amount,
                message=made.failure_message,
            ),
            "error",
        )
    else:
        flash(
            _(
                "The refund of %(amount)s is waiting for Stripe's confirmation; it is retried until Stripe answers.",
                amount=amount,
            ),
            "info",
        )
    return redirect(url_for("ops.order", order_id=order_id))


def _changed_meanwhile(order, form) -> bool:
    """The form was refused for items that have nothing left to refund, whose fields the page no
    longer shows (or no form at all): their errors would be seen nowhere."""
    hidden = any(field.errors for line, field in form.line_fields if not line.refundable_quantity)
    return hidden or (not order.open_to_refunds and bool(form.errors))
