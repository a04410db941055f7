"""Festival pages for buyers. So far only "buy now", which the flash-sale benchmark drives:
POST /festivals/<slug>/items/<item_id>/buy with ``quantity`` and ``address_id``."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from shop.errors import DomainError
from shop.extensions import db
from shop.festivals.forms import BuyForm
from shop.festivals.models import FestivalItem
from shop.festivals.services import festival_by_slug
from shop.orders.services import address_for, place_festival_order

bp = Blueprint("festivals", __name__)


@bp.route("/festivals/<slug>/items/<int:item_id>/buy", methods=["POST"])
@login_required
def buy(slug: str, item_id: int):
    """A pending order for the item at its festival price (303 to the order), or the rule that
    refused it (409); an invalid form is 422, someone else's address 404."""
    festival = festival_by_slug(slug) or abort(404)
    item = db.session.scalar(
        select(FestivalItem).where(FestivalItem.id == item_id, FestivalItem.festival_id == festival.id)
    ) or abort(404)
    form = BuyForm()
    if not form.validate_on_submit():
        return render_template("festivals/buy.html", festival=festival, item=item, form=form, refusal=None), 422
    address = address_for(current_user, form.address_id.data) or abort(404)
    try:
        order = place_festival_order(current_user, item, form.quantity.data, address)
    except DomainError as exc:
        db.session.rollback()
        return render_template("festivals/buy.html", festival=festival, item=item, form=form,
                               refusal=exc.message), 409
    db.session.commit()
    return redirect(url_for("orders.detail", order_id=order.id), 303)
