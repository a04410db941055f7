"""Cart pages: view, add, change quantity, remove."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shop.cart import services
from shop.cart.forms import AddToCartForm, QuantityForm, RemoveForm
from shop.database import utcnow
from shop.extensions import db
from shop.quotas.engine import Take
from shop.quotas.left import items_left
from shop.urls import safe_local_path

bp = Blueprint("cart", __name__, url_prefix="/cart")


@bp.route("/")
@login_required
def view():
    lines = services.cart_lines(current_user)
    summary = services.summarise(current_user, lines)
    left, breaches = (
        items_left(
            current_user, [(line.id, Take.of(line.variant, line.quantity, summary.tier)) for line in lines], utcnow()
        )
        if lines
        else ([], [])
    )
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
    try:
        services.add_to_cart(current_user, form.variant_id.data, form.quantity.data)
    except services.CartError as exc:
        flash(exc.message, "error")
        return redirect(back)
    db.session.commit()
    flash(_("Added to your cart."), "success")
    return redirect(url_for("cart.view"))


@bp.route("/lines/<int:line_id>", methods=["POST"])
@login_required
def update(line_id: int):
    line = services.line_for(current_user, line_id) or abort(404)
    form = QuantityForm()
    if not form.validate_on_submit():
        flash(_("Enter a whole number of units (0 removes the line)."), "error")
        return redirect(url_for("cart.view"))
    try:
        services.set_quantity(line, form.quantity.data)
    except services.CartError as exc:
        flash(exc.message, "error")
        return redirect(url_for("cart.view"))
    db.session.commit()
    return redirect(url_for("cart.view"))


@bp.route("/lines/<int:line_id>/remove", methods=["POST"])
@login_required
def remove(line_id: int):
    line = services.line_for(current_user, line_id) or abort(404)
    if RemoveForm().validate_on_submit():
        services.remove_line(line)
        db.session.commit()
    return redirect(url_for("cart.view"))
