"""Festival pages for buyers: the list, one festival (countdown, prices, remind me, buy now,
results), and a shipping address to buy with."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shop.catalog.festival_models import SELLING_PHASES, Festival, FestivalItem, Phase
from shop.catalog.services import tier_for
from shop.checkout.placing import place_order
from shop.database import utcnow
from shop.errors import DomainError
from shop.festivals import reminders
from shop.festivals.banner import countdown_text
from shop.festivals.forms import BuyForm, RemindForm
from shop.festivals.services import festival_by_slug, festival_item_by_slug, festivals_visible, items_of
from shop.orders.addresses import AddressInvalid, add_address, address_for, addresses_of
from shop.orders.errors import NotYourAddress
from shop.orders.forms import AddressForm
from shop.orders.signals import order_refused
from shop.quotas.left import festival_item_take, items_left
from shop.web import unit_of_work

bp = Blueprint("festivals", __name__)

LISTED_PHASES = (Phase.launch, Phase.continuation, Phase.preheat, Phase.ended)


def _festival(slug: str) -> Festival:
    """A festival past its draft; operators may also preview drafts."""
    festival = festival_by_slug(slug)
    if festival is None or (festival.phase() == Phase.draft and not current_user.is_operator):
        abort(404)
    return festival


@bp.route("/festivals")
@login_required
def index():
    now = utcnow()
    found = festivals_visible(now)
    groups = [(phase, [f for f in found if f.phase(now) == phase]) for phase in LISTED_PHASES]
    return render_template("festivals/index.html", groups=[(p, fs) for p, fs in groups if fs], now=now)


def _page(festival: Festival, *, form: BuyForm | None = None, form_item: FestivalItem | None = None):
    now = utcnow()
    phase = festival.phase(now)
    next_change = festival.next_change(now)
    items, tier = items_of(festival), tier_for(current_user)
    selling = phase in SELLING_PHASES
    # What is left for this buyer of each item under every rule (per buyer, per chain, per
    # order; one query), and so how many the buy-now form offers. A hint: placing the order
    # decides under its locks.
    left = {}
    if selling and items:
        found = items_left(current_user, [(item.id, festival_item_take(item, tier)) for item in items], now)[0]
        left = {found_item.key: found_item for found_item in found}
    room = {item.id: min(item.available, left[item.id].units) if item.id in left else item.available for item in items}
    return render_template(
        "festivals/festival.html",
        festival=festival,
        phase=phase,
        items=items,
        left=left,
        room=room,
        buyable=any(units > 0 for units in room.values()),
        tier=tier,
        next_change=next_change,
        countdown=countdown_text(int((next_change - now).total_seconds())) if next_change else None,
        selling=selling,
        remindable=phase in reminders.REMINDABLE,
        reminded=phase in reminders.REMINDABLE and reminders.is_reminded(current_user, festival),
        addresses=addresses_of(current_user) if selling else [],
        remind_form=RemindForm(),
        form=form or BuyForm(formdata=None),
        form_item=form_item,
    )


@bp.route("/festivals/<slug>")
@login_required
def festival(slug: str):
    return _page(_festival(slug))


@bp.route("/festivals/<slug>/remind", methods=["POST"])
@login_required
def remind(slug: str):
    found = _festival(slug)
    if RemindForm().validate_on_submit():
        with unit_of_work():  # the page says so itself from now on: no second message
            reminders.remind_me(current_user, found)
    return redirect(url_for("festivals.festival", slug=slug))


@bp.route("/festivals/<slug>/items/<int:item_id>/buy", methods=["GET", "POST"])
@login_required
def buy(slug: str, item_id: int):
    """Buy now: 303 to the new order; 409 with the page when a rule refuses; 422 when the form
    is invalid. Placed by the one way of placing an order (shop/checkout/placing.py). A GET (a
    refusal's page reopened: a restored tab, back and forward) goes to the festival."""
    if request.method == "GET":
        return redirect(url_for("festivals.festival", slug=slug))
    item = festival_item_by_slug(slug, item_id)
    if item is None or (item.festival.phase() == Phase.draft and not current_user.is_operator):
        abort(404)
    form = BuyForm()
    if not form.validate_on_submit():
        return _page(item.festival, form=form, form_item=item), 422
    keys = dict(buyer_id=current_user.id, festival_id=item.festival_id, product_id=item.variant.product_id)
    # A refusal's page is rendered before the rollback, from the rows the transaction read
    # (no query); the rollback then releases the locks.
    with unit_of_work(flash_refusal=False, refusal_page=lambda refusal: _refused(refusal, item, form)) as work:
        try:
            order_id = place_order(
                current_user.id, form.address_id.data, item_id=item.id, quantity=form.quantity.data
            ).id  # before the commit expires the order
        except NotYourAddress:
            abort(404)  # another user's address is not found
    if work.refused:
        order_refused.send(work.refusal, **keys)  # counted by reason (kpis), in a transaction of its own
        return work.page, 409
    return redirect(url_for("orders.detail", order_id=order_id), code=303)


def _refused(refusal: DomainError, item: FestivalItem, form: BuyForm) -> str:
    """The page of a refusal: the reason, and the same purchase to try again."""
    address = address_for(current_user, form.address_id.data)
    return render_template(
        "festivals/refused.html",
        refusal=refusal,
        form=BuyForm(formdata=None, quantity=form.quantity.data, address_id=form.address_id.data),
        festival_name=item.festival.name,
        slug=item.festival.slug,
        item_id=item.id,
        quantity=form.quantity.data,
        item_name=f"{item.variant.product.name} ({item.variant.name})",
        address_id=address.id if address is not None else None,
        address_line=address.one_line(mask_phone=True) if address is not None else None,
    )


@bp.route("/festivals/<slug>/address", methods=["GET", "POST"])
@login_required
def new_address(slug: str):
    found = _festival(slug)
    form = AddressForm()
    form.offer_choices()
    if request.method == "POST" and form.asks_for_regions:
        return render_template("festivals/address.html", festival=found, form=form)
    if form.validate_on_submit():
        with unit_of_work(_("Address saved."), flash_refusal=False) as work:
            add_address(current_user, form.address_input())
        if not work.refused:
            return redirect(url_for("festivals.festival", slug=slug))
        if isinstance(work.refusal, AddressInvalid):
            form.show_errors(work.refusal.errors)  # beside the fields
        else:
            flash(work.refusal.message, "error")
    return render_template("festivals/address.html", festival=found, form=form), (
        200 if request.method == "GET" else 422
    )
