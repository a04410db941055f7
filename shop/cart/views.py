"""Cart pages: view, add, change quantity, remove."""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shop.cart import services
from shop.cart.forms import AddToCartForm, QuantityForm, RemoveForm
from shop.database import utcnow
from shop.quotas.engine import Take
from shop.quotas.left import items_left
from shop.urls import safe_local_path
from shop.web import unit_of_work

bp = Blueprint("cart", __name__, url_prefix="/cart")


def _cart_changed() -> None:
    """Mark the session: the product pages kept for this buyer showed what is left on top of
    the cart as it was (shop/catalog/views.py keys them by this mark)."""
    session["cart_mark"] = secrets.token_hex(4)


@bp.route("/")
@login_required
def view():
    lines = services.cart_lines(current_user)
    summary = services.summarise(current_user, lines)
    # Lines no longer for sale are not counted: checkout refuses them until they are removed.
    keyed = [(line.id, Take.of(line.variant, line.quantity, summary.tier)) for line in summary.for_sale]
    left, breaches = items_left(current_user, keyed, utcnow()) if keyed else ([], [])
    return render_template(
        "cart/cart.html",
        summary=summary,
        left={item.key: item for item in left},
        breaches=breaches,
        quantity_form=QuantityForm(),
        remove_form=RemoveForm(),
    )


@bp.route("/add", methods=["POST"])
@login_required
def add():
    form = AddToCartForm()
    back = safe_local_path(request.form.get("back"), url_for("cart.view"))
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(back)
    with unit_of_work(_("Added to your cart.")) as work:
        services.add_to_cart(current_user, form.variant_id.data, form.quantity.data)
    if not work.refused:
        _cart_changed()
    return redirect(back if work.refused else url_for("cart.view"))


@bp.route("/lines/<int:line_id>", methods=["POST"])
@login_required
def update(line_id: int):
    line = services.line_for(current_user, line_id) or abort(404)
    form = QuantityForm()
    if not form.validate_on_submit():
        flash(_("Enter a whole number of units (0 removes the line)."), "error")
        return redirect(url_for("cart.view"))
    with unit_of_work() as work:
        services.set_quantity(line, form.quantity.data)
    if not work.refused:
        _cart_changed()
    return redirect(url_for("cart.view"))


@bp.route("/lines/<int:line_id>/remove", methods=["POST"])
@login_required
def remove(line_id: int):
    line = services.line_for(current_user, line_id) or abort(404)
    if RemoveForm().validate_on_submit():
        with unit_of_work() as work:
            services.remove_line(line)
        if not work.refused:
            _cart_changed()
    return redirect(url_for("cart.view"))
