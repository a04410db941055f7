"""Operators schedule festivals, allocate stock to them, and follow reminders, forecast and sales."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from shop.accounts.session import operator_required
from shop.catalog.festival_models import Festival, FestivalItem, Phase
from shop.extensions import db
from shop.festivals import pictures, services
from shop.festivals.forecast import demand
from shop.festivals.forms import AllocateForm, BannerForm, FestivalForm, RemoveBannerForm
from shop.festivals.models import FestivalReminder
from shop.festivals.picker import find_variants, variant_for_pick
from shop.i18n import select_timezone, to_minor
from shop.ops.views import bp
from shop.web import unit_of_work

SCHEDULE = ("preheat_at", "launch_at", "continuation_at", "ends_at")


def _zone() -> ZoneInfo:
    return ZoneInfo(select_timezone())


def to_utc(local: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A wall-clock time typed in ``zone`` (naive, from a datetime-local input) as UTC."""
    return local.replace(tzinfo=zone).astimezone(UTC) if local else None


def to_local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A stored UTC time as the naive wall-clock time a datetime-local input shows."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment else None


def _schedule(form: FestivalForm) -> dict:
    zone = _zone()
    return {name: to_utc(getattr(form, name).data, zone) for name in SCHEDULE}


def _filled_form(festival: Festival) -> FestivalForm:
    """The schedule form showing the festival as it is, times in the operator's zone."""
    zone = _zone()
    data = {name: to_local(getattr(festival, name), zone) for name in SCHEDULE}
    return FestivalForm(formdata=None, data={"name": festival.name, "description": festival.description, **data})


def _festival(festival_id: int) -> Festival:
    return db.session.get(Festival, festival_id) or abort(404)


@bp.route("/festivals")
@operator_required
def festivals():
    found = db.session.scalars(select(Festival).order_by(Festival.launch_at.desc())).all()
    reminders = dict(
        db.session.execute(
            select(FestivalReminder.festival_id, func.count(FestivalReminder.id)).group_by(FestivalReminder.festival_id)
        ).all()
    )
    items = dict(
        db.session.execute(
            select(FestivalItem.festival_id, func.count(FestivalItem.id)).group_by(FestivalItem.festival_id)
        ).all()
    )
    return render_template("ops/festivals.html", festivals=found, reminders=reminders, items=items)


@bp.route("/festivals/new", methods=["GET", "POST"])
@operator_required
def new_festival():
    form = FestivalForm()
    if form.validate_on_submit():
        with unit_of_work(_("Festival created. Allocate its items next."), flash_refusal=False) as work:
            festival = services.create_festival(
                current_user, name=form.name.data, description=form.description.data, **_schedule(form)
            )
        if not work.refused:
            return redirect(url_for("ops.festival", festival_id=festival.id))
        form.form_errors.append(work.refusal.message)
    return render_template("ops/festival_new.html", form=form, zone=select_timezone()), (
        200 if request.method == "GET" else 422
    )


def _detail(
    festival: Festival,
    form: FestivalForm,
    allocate_form: AllocateForm,
    status: int = 200,
    *,
    banner_form: BannerForm | None = None,
):
    query = request.args.get("q", "").strip()[:100]
    choices = find_variants(query)
    picked = variant_for_pick(allocate_form.variant_id.data)
    if picked is not None and picked not in choices:
        choices.insert(0, picked)  # a refused pick stays in view, with its reason
    return render_template(
        "ops/festival.html",
        festival=festival,
        form=form,
        allocate_form=allocate_form,
        banner_form=banner_form or BannerForm(formdata=None),
        remove_banner_form=RemoveBannerForm(formdata=None),
        items=services.items_of(festival),
        demand=demand(festival),
        phase=festival.phase(),
        query=query,
        choices=choices,
        picked_id=picked.id if picked is not None else None,
        zone=select_timezone(),
    ), status


@bp.route("/festivals/<int:festival_id>", methods=["GET", "POST"])
@operator_required
def festival(festival_id: int):
    found = _festival(festival_id)
    if request.method == "GET":
        return _detail(found, _filled_form(found), AllocateForm(formdata=None))
    form = FestivalForm()
    if form.validate_on_submit():
        with unit_of_work(_("Festival saved."), flash_refusal=False) as work:
            services.update_festival(
                current_user, found, name=form.name.data, description=form.description.data, **_schedule(form)
            )
        if not work.refused:
            return redirect(url_for("ops.festival", festival_id=festival_id))
        form.form_errors.append(work.refusal.message)
    return _detail(_festival(festival_id), form, AllocateForm(formdata=None), 422)


@bp.route("/festivals/<int:festival_id>/items", methods=["POST"])
@operator_required
def allocate(festival_id: int):
    found = _festival(festival_id)
    form = AllocateForm()
    if form.validate_on_submit():
        variant = variant_for_pick(form.variant_id.data)
        if variant is None:
            form.variant_id.errors.append(_("This item no longer exists: pick another from the list."))
        else:
            item = f"{variant.product.name} · {variant.name}"
            done = ngettext(
                "%(n)d unit of %(item)s (%(sku)s) allocated.",
                "%(n)d units of %(item)s (%(sku)s) allocated.",
                form.quantity.data,
                n=form.quantity.data,
                item=item,
                sku=variant.sku,
            )
            with unit_of_work(done, flash_refusal=False) as work:
                services.allocate(
                    current_user,
                    found,
                    variant,
                    form.quantity.data,
                    employee_price=to_minor(form.employee_price.data, variant.currency),
                    contact_price=to_minor(form.contact_price.data, variant.currency),
                    per_buyer_limit=form.per_buyer_limit.data,
                )
            if not work.refused:
                return redirect(url_for("ops.festival", festival_id=festival_id))
            fields = work.refusal.details.get("fields", ())
            for name in fields:  # beside the fields the rule names, else above the form
                form[name].errors.append(work.refusal.message)
            if not fields:
                form.form_errors.append(work.refusal.message)
    found = _festival(festival_id)
    if found.phase() == Phase.ended:  # ended since the page was opened: it shows no form to say why on
        flash(_("The festival has ended; nothing more can be allocated to it."), "error")
    return _detail(found, _filled_form(found), form, 422)


@bp.route("/festivals/<int:festival_id>/banner", methods=["POST"])
@operator_required
def festival_banner(festival_id: int):
    """Upload the festival's banner picture; a file we cannot use is refused with the reason."""
    found = _festival(festival_id)
    form = BannerForm()
    if form.validate_on_submit():
        with unit_of_work(_("Banner picture saved."), flash_refusal=False) as work:
            pictures.set_banner(current_user, found, form.picture.data.read())
        if not work.refused:
            return redirect(url_for("ops.festival", festival_id=festival_id))
        form.picture.errors.append(work.refusal.message)
    found = _festival(festival_id)
    return _detail(found, _filled_form(found), AllocateForm(formdata=None), 422, banner_form=form)


@bp.route("/festivals/<int:festival_id>/banner/remove", methods=["POST"])
@operator_required
def remove_festival_banner(festival_id: int):
    found = _festival(festival_id)
    if RemoveBannerForm().validate_on_submit():
        with unit_of_work(_("Banner picture removed.")):
            pictures.remove_banner(current_user, found)
    return redirect(url_for("ops.festival", festival_id=festival_id))
