"""Card payment pages, Stripe's webhook, and the operators' reconciliation page."""

from __future__ import annotations

import logging

import stripe
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SubmitField

from shop.accounts.session import operator_required
from shop.extensions import csrf
from shop.orders.lifecycle import order_for_buyer
from shop.orders.models import OrderStatus
from shop.payments import card, declines, reconcile, webhooks
from shop.payments.stripe_client import card_payments_enabled, client, csp_additions, js_url
from shop.security import allow_in_csp
from shop.web import unit_of_work

bp = Blueprint("payments", __name__)
logger = logging.getLogger(__name__)


class CardPayForm(FlaskForm):
    submit = SubmitField(_l("Pay by card"))


class ReconcileForm(FlaskForm):
    submit = SubmitField(_l("Check with Stripe now"))


@bp.app_template_global("card_payment_context")
def card_payment_context(order) -> dict:
    """What the order page shows about card payment."""
    return {"enabled": card_payments_enabled(), "payment": card.card_payment_for(order), "form": CardPayForm()}


@bp.route("/orders/<int:order_id>/card", methods=["POST"])
@login_required
def start(order_id: int):
    order = order_for_buyer(current_user, order_id) or abort(404)
    if CardPayForm().validate_on_submit():
        with unit_of_work() as work:
            card.start_card_payment(current_user, order)
        if not work.refused:
            return redirect(url_for("payments.card_page", order_id=order_id))
    return redirect(url_for("orders.detail", order_id=order_id))


@bp.route("/orders/<int:order_id>/card")
@login_required
def card_page(order_id: int):
    order = order_for_buyer(current_user, order_id) or abort(404)
    payment = card.card_payment_for(order)
    if payment is None or not card_payments_enabled() or order.display_status() != OrderStatus.pending_payment:
        return redirect(url_for("orders.detail", order_id=order_id))
    try:
        intent = client().v1.payment_intents.retrieve(payment.payment_intent_id)
    except stripe.StripeError as exc:
        logger.warning("Stripe call failed: %s", exc)
        flash(_("Card payment cannot be reached right now; please try again in a moment."), "error")
        return redirect(url_for("orders.detail", order_id=order_id))
    if intent.status in ("succeeded", "processing", "canceled"):
        return redirect(url_for("orders.detail", order_id=order_id, confirming=1))
    allow_in_csp(csp_additions())
    return render_template(
        "payments/card.html",
        order=order,
        client_secret=intent.client_secret,
        publishable_key=current_app.config["STRIPE_PUBLISHABLE_KEY"],
        stripe_js=js_url(),
        last_error=declines.reason(card.error_code(intent)),
        fake_stripe=bool(current_app.config.get("STRIPE_API_BASE")),
    )


@bp.route("/orders/<int:order_id>/card/fake-confirm", methods=["POST"])
@login_required
def fake_confirm(order_id: int):
    """The local fake Stripe server's bridge (see card.confirm_on_fake_stripe); JSON for the script."""
    order = order_for_buyer(current_user, order_id) or abort(404)
    if not current_app.config.get("STRIPE_API_BASE"):
        abort(404)
    token = str((request.get_json(silent=True) or {}).get("token"))
    # Two units: a declined card's PaymentIntent replaced is kept even when the new card is declined.
    with unit_of_work(flash_refusal=False) as work:
        intent_id = card.fake_intent_to_confirm(current_user, order)
    if not work.refused:
        with unit_of_work(flash_refusal=False) as work:
            intent = card.confirm_on_fake_stripe(intent_id, token)
    if work.refused:
        return {"error": {"message": work.refusal.message}}, 402
    return {"status": intent.status}


@bp.route("/stripe/webhook", methods=["POST"])
@csrf.exempt
def webhook():
    if not card_payments_enabled():
        return {"error": "card payments are not configured"}, 400
    try:
        info = webhooks.verify(request.get_data(), request.headers.get("Stripe-Signature"))
    except stripe.SignatureVerificationError as exc:
        logger.warning("Stripe webhook refused: %s", exc)
        return {"error": "invalid signature"}, 400
    except ValueError as exc:  # signed, but not a complete event (MalformedEvent, or not UTF-8)
        logger.warning("Stripe webhook refused: %s", exc)
        return {"error": "not a complete event"}, 400
    outcome_without_intent = "ignored"
    try:
        intent = webhooks.current_intent(info)
    except webhooks.IntentNotFound:
        # Stripe has no such PaymentIntent: asking again in an hour would not change that, so the
        # event is recorded and acknowledged rather than retried by Stripe for days.
        logger.warning("Stripe webhook %s: Stripe has no PaymentIntent %s", info.id, info.payment_intent_id)
        intent, outcome_without_intent = None, "intent_not_found"
    except stripe.StripeError as exc:
        logger.warning("Stripe webhook %s: cannot read the PaymentIntent: %s", info.id, exc)
        return {"error": "try again later"}, 503  # Stripe delivers it again
    with unit_of_work(flash_refusal=False) as work:
        outcome = webhooks.process(info, intent, source="webhook", outcome_without_intent=outcome_without_intent)
    if work.refused:
        return {"error": work.refusal.message}, 422
    return {"received": True, "outcome": outcome}


@bp.route("/ops/card-payments", methods=["GET", "POST"])
@operator_required
def ops_reconcile():
    form = ReconcileForm()
    if request.method == "POST":
        if form.validate_on_submit() and card_payments_enabled():
            report = reconcile.reconcile(since=reconcile.default_since())
            flash(
                _("Checked with Stripe: %(summary)s.", summary=report.summary()),
                "error" if report.errors else "success",
            )
        return redirect(url_for("payments.ops_reconcile"))
    return render_template(
        "payments/ops_reconcile.html", rows=reconcile.disagreements(), form=form, enabled=card_payments_enabled()
    )
