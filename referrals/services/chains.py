"""Chains change only by rule: an operator moves a departed employee's contacts to another
employee, and a contact verified as staff becomes a root keeping their own contacts. Orders
and funnel events keep the attribution they were written with; every move is audited."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from referrals.services import ReferralError
from shop.accounts.models import Kind, User
from shop.audit.services import record
from shop.extensions import db


class ChainError(ReferralError):
    pass


def _chain(user: User) -> dict:
    return {
        "kind": str(user.kind),
        "level": user.level,
        "referrer_id": user.referrer_id,
        "root_employee_id": user.root_employee_id,
        "l1_contact_id": user.l1_contact_id,
    }


def _locked(query) -> list[User]:
    return list(db.session.scalars(query.order_by(User.level, User.id).with_for_update()))


def move_contacts(actor: User, departed: User, target: User, *, reason: str) -> int:
    """Give every contact in ``departed``'s chain to ``target``; returns how many moved."""
    reason = (reason or "").strip()
    if not reason:
        raise ChainError(_("Give a reason for the move."))
    if departed.kind != Kind.employee or departed.level != 0:
        raise ChainError(_("Only an employee's chain can be moved."))
    if departed.is_active_flag:
        raise ChainError(
            _("%(name)s is still active: only a departed employee's contacts can be moved.", name=departed.name)
        )
    if target.id == departed.id or target.kind != Kind.employee or not target.is_active_flag:
        raise ChainError(_("Choose another, active employee to take the contacts."))
    contacts = _locked(select(User).where(User.root_employee_id == departed.id))
    if not contacts:
        raise ChainError(_("%(name)s has no contacts to move.", name=departed.name))
    for contact in contacts:
        before = _chain(contact)
        contact.root_employee_id = target.id
        record("chain.move", contact, actor=actor, before=before, after=_chain(contact), reason=reason)
    record(
        "chain.move_all",
        departed,
        actor=actor,
        before={"root_employee_id": departed.id},
        after={"root_employee_id": target.id, "contacts": [c.id for c in contacts]},
        reason=reason,
    )
    return len(contacts)


def promote_to_employee(actor: User, user: User, *, reason: str, employee_no: str | None = None) -> int:
    """A contact verified as staff becomes an employee at level 0, the root of a chain of their
    own: their L2 contacts become their L1 contacts. Returns how many contacts came along."""
    reason = (reason or "").strip()
    employee_no = (employee_no or "").strip() or None
    if not reason:
        raise ChainError(_("Say how the staff status was verified."))
    if user.kind != Kind.contact:
        raise ChainError(_("%(name)s is an employee already.", name=user.name))
    if not user.is_active_flag:
        raise ChainError(_("Reactivate the account first."))
    if employee_no and db.session.scalar(select(User.id).where(User.employee_no == employee_no)) is not None:
        raise ChainError(_("Another account has this employee number."))
    contacts = _locked(select(User).where(User.l1_contact_id == user.id, User.level == 2))
    before = _chain(user)
    user.kind, user.level = Kind.employee, 0
    user.referrer_id = user.root_employee_id = user.l1_contact_id = None
    user.employee_no = employee_no or user.employee_no
    record("user.promote_employee", user, actor=actor, before=before, after=_chain(user), reason=reason)
    for contact in contacts:
        before = _chain(contact)
        contact.level, contact.root_employee_id, contact.l1_contact_id = 1, user.id, None
        record(
            "chain.move",
            contact,
            actor=actor,
            before=before,
            after=_chain(contact),
            reason=_("%(name)s became an employee", name=user.name),
        )
    return len(contacts)
