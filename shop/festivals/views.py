"""Festival pages for buyers: the list, one festival (countdown, prices, remind me, buy now,
results), and a shipping address to buy with."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from shop.accounts.session import buyer_facts, keep_buyer_facts
from shop.catalog.page_cache import cached_fragment
from shop.catalog.services import tier_for
from shop.database import utcnow
from shop.errors import DomainError
from shop.extensions import db
from shop.festivals import item_facts, reminders
from shop.festivals.forms import AddressForm, BuyForm, RemindForm
from shop.festivals.models import SELLING_PHASES, Festival, FestivalItem, Phase
from shop.festivals.services import check_known, festival_by_slug, festival_item_by_slug, festivals_visible, items_of
from shop.orders.services import FactsChanged, add_address, address_for, addresses_of, place_festival_order_id
from shop.web import commit_or_refuse, render_without_user

bp = Blueprint("festivals", __name__)

LISTED_PHASES = (Phase.launch, Phase.continuation, Phase.preheat, Phase.ended)


def _festival(slug: str) -> Festival:
    """A festival past its draft; operators may also preview drafts."""
    festival = festival_by_slug(slug)
    if festival is None or (festival.phase() == Phase.draft and not current_user.is_operator):
        abort(404)
    return festival


def countdown_text(seconds: int) -> str:
    """``3 d 04:05:06`` or ``04:05:06``; static/festival.js counts down in the same form."""
    days, rest = divmod(max(seconds, 0), 86_400)
    hours, rest = divmod(rest, 3_600)
    clock = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{days} d {clock}" if days else clock


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
    return render_template(
        "festivals/festival.html",
        festival=festival,
        phase=phase,
        items=items_of(festival),
        tier=tier_for(current_user),
        next_change=next_change,
        countdown=countdown_text(int((next_change - now).total_seconds())) if next_change else None,
        selling=phase in SELLING_PHASES,
        remindable=phase in reminders.REMINDABLE,
        reminded=phase in reminders.REMINDABLE and reminders.is_reminded(current_user, festival),
        addresses=addresses_of(current_user) if phase in SELLING_PHASES else [],
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
        commit_or_refuse(lambda: reminders.remind_me(current_user, found), _("We will e-mail you when buying opens."))
    return redirect(url_for("festivals.festival", slug=slug))


@bp.route("/festivals/<slug>/items/<int:item_id>/buy", methods=["POST"])
def buy(slug: str, item_id: int):
    """Buy now: 303 to the new order; 409 with the page when a rule refuses; 422 when the form is invalid.
    Most posts of a flash sale are refusals that are certain already: they are answered from
    what is known (shop/quotas/known_use.py) and the buyer's facts in the session cookie,
    before the user or anything else is read from the database. The others are placed from
    those facts and the item's facts kept by the worker: the buyer's row, the item and the
    address are read with the lock, and nothing before it. CSRFProtect has
    checked the post's token before the view runs, so the form reads what was sent without
    signing a token of its own; the rare page that shows the form again gets a form that does."""
    form, checked = BuyForm(meta={"csrf": False}), None
    valid = form.validate_on_submit()
    facts = buyer_facts()
    if facts is not None and valid:
        checked = check_known(facts, slug, item_id, form.quantity.data)
        if checked is not None and not checked.known.holds(facts):
            checked = None  # the buyer changed since the cookie was written: check with the row
        if checked is not None and checked.refusal is not None:
            return _refused_from_known(checked)
        if checked is not None and (placed := _place_from_kept(form, checked, facts)) is not None:
            return placed
        checked = None
    return _buy(slug, item_id, form, valid, checked)


def _place_from_kept(form: BuyForm, checked, buyer):
    """Place from what was kept: the session's facts about the buyer and the worker's about the
    item, checked against the rows the lock reads. None when the rows differ (rolled back:
    the caller places from the rows, with the user loaded)."""
    try:
        order_id = place_festival_order_id(
            buyer, checked.facts, form.quantity.data, form.address_id.data, known=checked.known
        )
    except FactsChanged:
        db.session.rollback()
        return None
    except DomainError as exc:
        db.session.rollback()  # releases the locks at once; the page shows the address, read again
        address = address_for(buyer, form.address_id.data)
        if address is None:
            abort(404)
        return _refused_by_the_rows(exc, checked.facts, form, address)
    return _placed(order_id)


def _refused_from_known(checked):
    """The page for a refusal from what is known. It names nobody and holds no form, so buyers
    refused for the same reason get the same page: it is rendered once per reason and kept
    with the storefront fragments (not while a flash message waits to be shown)."""
    facts, refusal = checked.facts, checked.refusal

    def render() -> str:
        return render_without_user(
            "festivals/refused.html",
            refusal=refusal,
            known=True,
            festival_name=facts.festival_name,
            slug=facts.festival_slug,
            item_id=facts.item_id,
            item_name=facts.name,
        )

    if session.get("_flashes"):
        return render(), 409
    shortages = tuple((s.name, s.wanted, s.available) for s in getattr(refusal, "shortages", None) or ())
    key = (
        "known-refusal",
        str(get_locale()),
        facts.festival_slug,
        facts.item_id,
        facts.festival_name,
        facts.name,
        refusal.reason,
        shortages,
    )
    return cached_fragment(key, render), 409


@login_required
def _buy(slug: str, item_id: int, form: BuyForm, valid: bool, checked):
    """``checked``: what is known, already read with the cookie's buyer facts (or None)."""
    buyer = current_user._get_current_object()  # the row itself: placing reads it often
    if valid and checked is None:
        checked = check_known(buyer, slug, item_id, form.quantity.data)
        if checked is not None:
            keep_buyer_facts(buyer, checked.known.generation_of(buyer.id))
            if checked.refusal is not None:
                return _refused_from_known(checked)
    if not valid:
        item = festival_item_by_slug(slug, item_id)
        if item is None or (item.festival.phase() == Phase.draft and not buyer.is_operator):
            abort(404)
        form = BuyForm()
        form.validate()
        return _page(item.festival, form=form, form_item=item), 422
    return _place(slug, item_id, form, checked, buyer)


def _place(slug: str, item_id: int, form: BuyForm, checked, buyer):
    """Place the order of a valid form, from the rows: the item and the address read first."""
    # Afresh, one query: what the order is placed from, and where it goes.
    facts, address = item_facts.read_with_address(slug, item_id, user_id=buyer.id, address_id=form.address_id.data)
    if facts is None or (facts.is_draft(utcnow()) and not current_user.is_operator) or address is None:
        abort(404)
    try:
        order_id = place_festival_order_id(
            buyer, facts, form.quantity.data, address, known=checked.known if checked is not None else None
        )
    except DomainError as exc:
        db.session.rollback()  # releases the locks at once
        return _refused_by_the_rows(exc, facts, form, address)
    return _placed(order_id)


def _placed(order_id: int):
    db.session.commit()
    return redirect(url_for("orders.detail", order_id=order_id), code=303)


def _refused_by_the_rows(refusal: DomainError, facts, form: BuyForm, address):
    """The page of a refusal counted in the database: the reason, and the same purchase to try
    again (from values read before the rollback, or outside the session: no further queries)."""
    form = BuyForm(formdata=None, quantity=form.quantity.data, address_id=form.address_id.data)
    return render_template(
        "festivals/refused.html",
        refusal=refusal,
        form=form,
        festival_name=facts.festival_name,
        slug=facts.festival_slug,
        item_id=facts.item_id,
        quantity=form.quantity.data,
        item_name=facts.name,
        address_id=address.id,
        address_line=address.one_line(),
    ), 409


@bp.route("/festivals/<slug>/address", methods=["GET", "POST"])
@login_required
def new_address(slug: str):
    found = _festival(slug)
    form = AddressForm()
    if form.validate_on_submit():
        add_address(current_user, **form.fields())
        db.session.commit()
        flash(_("Address saved."), "success")
        return redirect(url_for("festivals.festival", slug=slug))
    return render_template("festivals/address.html", festival=found, form=form), (
        200 if request.method == "GET" else 422
    )
