"""Pages for the staff: the sales pipeline (/sales), and the operators' chain tools and abuse
flags (/ops/chains, /ops/referral-flags). Routes register on the referrals blueprint."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from wtforms.fields.choices import SelectChoice

from referrals.forms import AssignForm, FollowUpForm, LeadNoteForm, LeadStatusForm, MoveChainForm, PromoteForm
from referrals.models import LeadStatus
from referrals.models.leads import LEAD_TRANSITIONS
from referrals.services import abuse, chains
from referrals.services import leads as lead_service
from referrals.views import bp
from shop.accounts.models import Kind, User
from shop.accounts.services import AccountError, find_by_email, normalise_email
from shop.accounts.session import admin_required, operator_required, sales_required
from shop.company_calendar import company_zone
from shop.database import utcnow
from shop.extensions import db
from shop.i18n import to_minor
from shop.labels import label
from shop.web import unit_of_work

# ---- sales pipeline ------------------------------------------------------------------------


@bp.route("/sales")
@sales_required
def sales():
    return render_template(
        "referrals/sales.html",
        stages=lead_service.pipeline(current_user),
        due_count=len(lead_service.due(current_user, _today())),
    )


def _today():
    return utcnow().astimezone(company_zone()).date()


@bp.route("/sales/due")
@sales_required
def sales_due():
    """The leads whose follow-up day has come (today or overdue): the rep's list for the day."""
    today = _today()
    return render_template("referrals/sales_due.html", leads=lead_service.due(current_user, today), today=today)


def _lead_page(lead, form: LeadStatusForm, *, status: int = 200, **forms):
    form.status.choices = [SelectChoice(s.value, label(s)) for s in LeadStatus if s in LEAD_TRANSITIONS[lead.status]]
    assign_form = forms.get("assign_form")
    if current_user.is_admin:
        assign_form = assign_form or AssignForm(formdata=None, assignee=lead.assignee_id)
        assign_form.assignee.choices = [SelectChoice(rep.id, rep.name) for rep in lead_service.sales_reps()]
    return render_template(
        "referrals/sales_lead.html",
        lead=lead,
        form=form,
        note_form=forms.get("note_form") or LeadNoteForm(formdata=None),
        follow_up_form=forms.get("follow_up_form") or FollowUpForm(formdata=None, follow_up_on=lead.follow_up_on),
        assign_form=assign_form,
    ), status


@bp.route("/sales/leads/<int:lead_id>/note", methods=["POST"])
@sales_required
def lead_note(lead_id: int):
    lead = lead_service.lead_for_sales(current_user, lead_id) or abort(404)
    form = LeadNoteForm()
    if form.validate_on_submit():
        with unit_of_work(_("Note added.")):
            lead_service.add_note(current_user, lead, form.body.data)
        return redirect(url_for("referrals.sales_lead", lead_id=lead_id))
    return _lead_page(lead, LeadStatusForm(formdata=None), status=422, note_form=form)


@bp.route("/sales/leads/<int:lead_id>/follow-up", methods=["POST"])
@sales_required
def lead_follow_up(lead_id: int):
    lead = lead_service.lead_for_sales(current_user, lead_id) or abort(404)
    form = FollowUpForm()
    if form.validate_on_submit():
        with unit_of_work(_("Saved.")):
            lead_service.set_follow_up(current_user, lead, form.follow_up_on.data)
        return redirect(url_for("referrals.sales_lead", lead_id=lead_id))
    return _lead_page(lead, LeadStatusForm(formdata=None), status=422, follow_up_form=form)


@bp.route("/sales/leads/<int:lead_id>/assign", methods=["POST"])
@admin_required
def lead_assign(lead_id: int):
    lead = lead_service.lead_for_sales(current_user, lead_id) or abort(404)
    form = AssignForm()
    form.assignee.choices = [SelectChoice(rep.id, rep.name) for rep in lead_service.sales_reps()]
    if form.validate_on_submit():
        with unit_of_work(_("Reassigned."), flash_refusal=False) as work:
            lead_service.reassign(current_user, lead, db.session.get(User, form.assignee.data))
        if not work.refused:
            return redirect(url_for("referrals.sales_lead", lead_id=lead_id))
        form.assignee.errors.append(work.refusal.message)
    return _lead_page(lead, LeadStatusForm(formdata=None), status=422, assign_form=form)


@bp.route("/sales/leads/<int:lead_id>", methods=["GET", "POST"])
@sales_required
def sales_lead(lead_id: int):
    lead = lead_service.lead_for_sales(current_user, lead_id) or abort(404)
    form = LeadStatusForm()
    if form.validate_on_submit():
        amount = form.amount.data
        with unit_of_work(_("Saved."), flash_refusal=False) as work:
            lead_service.move_lead(
                current_user,
                lead,
                LeadStatus(form.status.data),
                reason=form.reason.data,
                amount=to_minor(amount, lead.currency) if amount is not None else None,
            )
        if not work.refused:
            return redirect(url_for("referrals.sales_lead", lead_id=lead_id))
        form.status.errors.append(work.refusal.message)
    return _lead_page(lead, form, status=200 if request.method == "GET" else 422)


# ---- chains --------------------------------------------------------------------------------


def _departed_with_contacts() -> list[tuple[User, int]]:
    contact = aliased(User)
    return [
        tuple(row)
        for row in db.session.execute(
            select(User, func.count(contact.id))
            .join(contact, contact.root_employee_id == User.id)
            .where(User.kind == Kind.employee, User.is_active_flag.is_(False))
            .group_by(User.id)
            .order_by(User.name, User.id)
        )
    ]


def _chain_page(move_form: MoveChainForm | None = None, promote_form: PromoteForm | None = None, status: int = 200):
    departed = _departed_with_contacts()
    move_form = move_form or MoveChainForm(formdata=None)
    _move_choices(move_form, departed)
    return render_template(
        "referrals/ops_chains.html",
        departed=departed,
        move_form=move_form,
        promote_form=promote_form or PromoteForm(formdata=None),
    ), status


def _move_choices(form: MoveChainForm, departed) -> None:
    form.departed.choices = [SelectChoice(user.id, f"{user.name} ({count})") for user, count in departed]
    active = db.session.scalars(
        select(User).where(User.kind == Kind.employee, User.is_active_flag.is_(True)).order_by(User.name, User.id)
    )
    form.target.choices = [SelectChoice(user.id, f"{user.name} <{user.email}>") for user in active]


@bp.route("/ops/chains")
@operator_required
def chains_page():
    return _chain_page()


@bp.route("/ops/chains/move", methods=["POST"])
@operator_required
def move_chain():
    form = MoveChainForm()
    _move_choices(form, _departed_with_contacts())
    if form.validate_on_submit():
        departed, target = db.session.get(User, form.departed.data), db.session.get(User, form.target.data)
        with unit_of_work(flash_refusal=False) as work:
            moved = chains.move_contacts(current_user, departed, target, reason=form.reason.data)
            done = _("%(n)d contacts now belong to %(name)s's chain.", n=moved, name=target.name)
        if not work.refused:
            flash(done, "success")
            return redirect(url_for("referrals.chains_page"))
        form.departed.errors.append(work.refusal.message)
    return _chain_page(move_form=form, status=422)


@bp.route("/ops/chains/promote", methods=["POST"])
@admin_required
def promote():
    form = PromoteForm()
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            user = find_by_email(normalise_email(form.email.data))
            if user is None:
                raise AccountError(_("No account has this e-mail address."))
            moved = chains.promote_to_employee(
                current_user, user, reason=form.reason.data, employee_no=form.employee_no.data
            )
            done = _("%(name)s is now an employee, the root of a chain of %(n)d contacts.", name=user.name, n=moved)
        if not work.refused:
            flash(done, "success")
            return redirect(url_for("referrals.chains_page"))
        form.email.errors.append(work.refusal.message)
    return _chain_page(promote_form=form, status=422)


@bp.route("/ops/referral-flags")
@operator_required
def flags():
    config = current_app.config
    bursts = abuse.signup_bursts(
        minimum=config["FLAG_SIGNUP_BURST_COUNT"], window=timedelta(minutes=config["FLAG_SIGNUP_BURST_MINUTES"])
    )
    shared = abuse.shared_addresses(minimum=config["FLAG_SHARED_ADDRESS_CONTACTS"])
    return render_template("referrals/ops_flags.html", bursts=bursts, shared=shared)
