"""Leads: a chain member refers a customer for a lead-mode product; leads go round-robin to the
sales reps, who move them through the pipeline. A won lead credits the referrer's chain."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from referrals.models import Lead, LeadCursor, LeadNote, LeadStatus
from referrals.models.leads import Timeline
from referrals.services import ReferralError
from referrals.services.events import insert_ignoring_duplicates, record_consultation
from shop.accounts import services as accounts
from shop.accounts import signals
from shop.accounts.models import Role, User
from shop.audit.services import record
from shop.catalog.models import Product, SalesMode
from shop.database import utcnow
from shop.errors import AlreadySubmitted, NotAllowed
from shop.extensions import db
from shop.i18n import in_language_of
from shop.labels import label
from shop.mail import queue_mail
from shop.phones import mainland_mobile, other_phone
from shop.urls import public_url

PHONE_RE = re.compile(r"\+?[0-9][0-9 ()\-]{4,38}")
OPEN_STATUSES = (LeadStatus.new, LeadStatus.contacted, LeadStatus.qualified)


class LeadError(ReferralError):
    pass


class AlreadyReferred(AlreadySubmitted, LeadError):
    """The referrer has an open lead for this customer and product already: ``existing``."""


@dataclass(frozen=True)
class LeadInput:
    customer_name: str
    customer_phone: str
    customer_email: str
    company: str
    need: str
    budget: int | None  # minor units
    timeline: Timeline
    consent: bool


def _clean(data: LeadInput) -> dict:
    name, phone = data.customer_name.strip(), data.customer_phone.strip()
    email, need = data.customer_email.strip(), data.need.strip()
    if not data.consent:
        raise LeadError(_("Tick the box to confirm that the customer agreed to be contacted."))
    if not name:
        raise LeadError(_("Enter the customer's name."))
    if not phone and not email:
        raise LeadError(_("Give the customer's phone number or e-mail address."))
    if phone and not PHONE_RE.fullmatch(phone):
        raise LeadError(_("This is not a phone number."))
    if email:
        try:
            email = accounts.normalise_email(email)
        except accounts.AccountError as exc:
            raise LeadError(exc.message) from exc
    if not need:
        raise LeadError(_("Describe what the customer needs."))
    if data.budget is not None and data.budget < 0:
        raise LeadError(_("The budget cannot be negative."))
    return dict(
        customer_name=name,
        customer_phone=phone,
        customer_email=email,
        company=data.company.strip(),
        need=need,
        budget=data.budget,
        timeline=data.timeline,
    )


def _phone_key(phone: str) -> str:
    """One form of a number however it was typed (``+86 139 1234 5678``, ``13912345678``)."""
    return mainland_mobile(phone) or other_phone(phone) or phone


def open_lead_for(referrer: User, product: Product, phone: str, email: str) -> Lead | None:
    """The referrer's open lead for this product whose customer has this phone number or this
    e-mail address (either one is the same customer), if any."""
    leads = db.session.scalars(
        select(Lead)
        .where(Lead.referrer_id == referrer.id, Lead.product_id == product.id, Lead.status.in_(OPEN_STATUSES))
        .order_by(Lead.id)
    )
    phone = _phone_key(phone) if phone else ""
    email = email.lower()
    return next(
        (
            lead
            for lead in leads
            if (phone and lead.customer_phone and _phone_key(lead.customer_phone) == phone)
            or (email and lead.customer_email.lower() == email)
        ),
        None,
    )


def sales_reps() -> list[User]:
    return list(
        db.session.scalars(select(User).where(User.role == Role.sales, User.is_active_flag.is_(True)).order_by(User.id))
    )


def next_assignee() -> User | None:
    """The rep after the one who got the last lead, in id order, wrapping round. The cursor row
    is locked until the caller's transaction ends, so concurrent leads take turns."""
    db.session.execute(
        insert_ignoring_duplicates(LeadCursor).values(id=1, last_assignee_id=None).on_conflict_do_nothing()
    )
    cursor = db.session.scalar(
        select(LeadCursor).where(LeadCursor.id == 1).with_for_update().execution_options(populate_existing=True)
    )
    reps = sales_reps()
    if not reps:
        return None
    last = cursor.last_assignee_id or 0
    chosen = next((rep for rep in reps if rep.id > last), reps[0])
    cursor.last_assignee_id = chosen.id
    return chosen


def submit_lead(
    referrer: User, product: Product, data: LeadInput, *, now: datetime | None = None, notify: bool = True
) -> Lead:
    """Refer a customer: a new lead for the next sales rep (told by mail unless ``notify`` is
    false, as for demo data), and a consultation event.

    A customer the referrer has an open lead for, for this product (the same phone number or
    e-mail address), is not referred twice, whenever the form comes again: AlreadyReferred,
    with that lead. Sales would otherwise call the customer twice."""
    now = now or utcnow()
    if product.sales_mode != SalesMode.lead or not product.is_active:
        raise LeadError(_("This product is not sold through our sales consultants."))
    values = _clean(data)
    accounts.lock_person(referrer)  # before the round-robin cursor: a repeat takes no rep's turn
    repeated = open_lead_for(referrer, product, values["customer_phone"], values["customer_email"])
    if repeated is not None:
        raise AlreadyReferred(
            _("You already referred this customer for %(product)s, and the lead is still open.", product=product.name),
            repeated,
        )
    assignee = next_assignee()
    lead = Lead(
        product_id=product.id,
        referrer_id=referrer.id,
        referrer_level=referrer.level,
        root_employee_id=referrer.chain_root_id,
        l1_contact_id=referrer.l1_of_order,
        currency=current_app.config["CURRENCY"],
        consent_at=now,
        status=LeadStatus.new,
        assignee_id=assignee.id if assignee else None,
        created_at=now,
        updated_at=now,
        **values,
    )
    db.session.add(lead)
    db.session.flush()
    record(
        "lead.create",
        lead,
        actor=referrer,
        after={"status": "new", "assignee_id": lead.assignee_id, "product_id": product.id},
    )
    record_consultation(referrer, product_id=product.id, source="lead", key=lead.id, lead_id=lead.id, at=now)
    if assignee is not None and notify:
        _tell_rep(assignee, lead)
    return lead


def lead_for_sales(user: User, lead_id: int) -> Lead | None:
    """A lead the user works on (admins see all); anyone else's is not found."""
    query = select(Lead).where(Lead.id == lead_id)
    if not user.is_admin:
        query = query.where(Lead.assignee_id == user.id)
    return db.session.scalar(query)


def pipeline(user: User) -> dict[LeadStatus, list[Lead]]:
    query = select(Lead).order_by(Lead.created_at.desc(), Lead.id.desc())
    if not user.is_admin:
        query = query.where(Lead.assignee_id == user.id)
    stages: dict[LeadStatus, list[Lead]] = {status: [] for status in LeadStatus}
    for lead in db.session.scalars(query):
        stages[lead.status].append(lead)
    return stages


def move_lead(
    actor: User,
    lead: Lead,
    status: LeadStatus,
    *,
    amount: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
    notify: bool = True,
) -> Lead:
    """One step through the pipeline: new -> contacted -> qualified -> won | lost (lost from
    any open stage). Won needs the amount, lost the reason; anything else is refused."""
    now = now or utcnow()
    db.session.execute(select(Lead.id).where(Lead.id == lead.id).with_for_update())
    db.session.refresh(lead)
    if not lead.can_become(status):
        raise NotAllowed(
            _("A lead that is %(current)s cannot become %(target)s.", current=label(lead.status), target=label(status))
        )
    reason = (reason or "").strip()
    if status == LeadStatus.won and (amount is None or amount <= 0):
        raise LeadError(_("Enter the amount the customer bought for."))
    if status == LeadStatus.lost and not reason:
        raise LeadError(_("Say why the lead was lost."))
    before = {"status": lead.status.value}
    lead.status, lead.updated_at = status, now
    after: dict = {"status": status.value}
    if status == LeadStatus.won:
        lead.amount, lead.closed_at, after["amount"] = amount, now, amount
    elif status == LeadStatus.lost:
        lead.lost_reason, lead.closed_at, after["reason"] = reason, now, reason
    record("lead.status", lead, actor=actor, before=before, after=after)
    if notify:  # the referrer follows every step, not only the end
        referrer = lead.referrer
        with in_language_of(referrer):
            queue_mail(
                referrer.email,
                _("Your referral for %(product)s", product=lead.product.name),
                _(
                    "Hello %(name)s,\n\nthe customer you referred (%(customer)s) is now: %(status)s.\n%(link)s",
                    name=referrer.name,
                    customer=lead.customer_name,
                    status=label(status),
                    link=public_url("referrals.my_leads"),
                ),
            )
    return lead


# ---- working a lead: notes, follow-up, assignee ----------------------------------------------


def add_note(actor: User, lead: Lead, body: str, *, now: datetime | None = None) -> LeadNote:
    body = (body or "").strip()
    if not body:
        raise LeadError(_("Write the note first."))
    note = LeadNote(lead=lead, author_id=actor.id, body=body, created_at=now or utcnow())
    db.session.add(note)
    lead.updated_at = note.created_at
    return note


def set_follow_up(actor: User, lead: Lead, day: date | None) -> None:
    """The day of the rep's next step (None: no follow-up planned); audited."""
    if day == lead.follow_up_on:
        return
    before = {"follow_up_on": lead.follow_up_on.isoformat() if lead.follow_up_on else None}
    lead.follow_up_on = day
    record("lead.follow_up", lead, actor=actor, before=before, after={"follow_up_on": day.isoformat() if day else None})


def reassign(actor: User, lead: Lead, rep: User, *, notify: bool = True) -> None:
    """An admin gives the lead to another active sales rep; audited, the new rep told by mail."""
    if not actor.is_admin:
        raise NotAllowed(_("Only an admin can reassign a lead."))
    if rep.role != Role.sales or not rep.is_active:
        raise LeadError(_("Leads go to active sales reps only."))
    if rep.id == lead.assignee_id:
        return
    before = {"assigned_to": lead.assignee.name if lead.assignee else None}
    lead.assignee_id = rep.id
    record("lead.reassign", lead, actor=actor, before=before, after={"assigned_to": rep.name})
    if notify:
        _tell_rep(rep, lead)


def due(user: User, today: date) -> list[Lead]:
    """Open leads of ``user`` (all reps' for an admin) whose follow-up day has come."""
    query = (
        select(Lead)
        .where(Lead.follow_up_on.is_not(None), Lead.follow_up_on <= today, Lead.status.in_(OPEN_STATUSES))
        .order_by(Lead.follow_up_on, Lead.id)
    )
    if not user.is_admin:
        query = query.where(Lead.assignee_id == user.id)
    return list(db.session.scalars(query))


def assign_waiting(*, notify: bool = True) -> int:
    """Open leads that came in while no sales rep was active go round-robin to the reps now
    active; audited. Runs when someone becomes an active sales rep (``subscribe``)."""
    waiting = db.session.scalars(
        select(Lead).where(Lead.assignee_id.is_(None), Lead.status.in_(OPEN_STATUSES)).order_by(Lead.id)
    ).all()
    for lead in waiting:
        rep = next_assignee()
        if rep is None:
            return 0
        lead.assignee_id = rep.id
        record("lead.assign", lead, actor=None, after={"assigned_to": rep.name}, reason="a sales rep became active")
        if notify:
            _tell_rep(rep, lead)
    return len(waiting)


def _on_rep_available(rep: User, **_extra) -> None:
    db.session.flush()  # the new role or activation is what next_assignee reads
    assign_waiting()


def subscribe() -> None:
    signals.sales_rep_available.connect(_on_rep_available)


def _tell_rep(rep: User, lead: Lead) -> None:
    with in_language_of(rep):
        queue_mail(
            rep.email,
            _("New lead: %(product)s", product=lead.product.name),
            _(
                "Hello %(name)s,\n\n%(referrer)s referred a customer for %(product)s:\n%(link)s",
                name=rep.name,
                referrer=lead.referrer.name,
                product=lead.product.name,
                link=public_url("referrals.sales_lead", lead_id=lead.id),
            ),
        )
