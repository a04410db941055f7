"""Consultation tickets ("ask an operator"), the VIP counter beside the self-service shelves.

Steps (community.models.TICKET_STEPS):
  an operator replies     open, answered -> answered (the first reply is the first response)
  the requester replies   open, answered -> open (back in the operators' queue)
  an operator resolves    open, answered -> resolved
  the requester reopens   resolved -> open
Anything else is refused with IllegalTransition. A ticket is private to its requester and the
operators; the requester gets an e-mail for every operator reply. A resolved ticket becomes a
draft FAQ article with one click (once).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import case, select
from sqlalchemy.orm import selectinload

from community import events
from community.errors import AlreadyPosted, CommunityError, IllegalTransition
from community.models import (
    TICKET_STEPS,
    Article,
    ArticleKind,
    ArticleStatus,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from community.services.common import REPOST_WINDOW, active_product, same_text
from shop.accounts.models import User
from shop.accounts.services import lock_person
from shop.audit.services import record
from shop.database import utcnow
from shop.errors import NotAllowed
from shop.extensions import db
from shop.i18n import in_language_of
from shop.mail import queue_mail
from shop.urls import public_url

SUBJECT_MAX = 200


def ticket_for(viewer: User, ticket_id: int) -> Ticket | None:
    """The ticket if ``viewer`` is its requester or an operator; anyone else: not found."""
    ticket = db.session.scalar(
        select(Ticket)
        .where(Ticket.id == ticket_id)
        .options(
            selectinload(Ticket.messages).selectinload(TicketMessage.author),
            selectinload(Ticket.requester),
            selectinload(Ticket.assignee),
            selectinload(Ticket.product),
        )
    )
    if ticket is None or not (viewer.is_operator or ticket.requester_id == viewer.id):
        return None
    return ticket


def _move(actor: User, ticket: Ticket, step: str, now: datetime, **changes) -> None:
    """Take one step of the state machine (with the columns that change with it) and audit it."""
    to = TICKET_STEPS[step].get(ticket.status)
    if to is None:
        raise IllegalTransition(
            _(
                "A ticket that is %(status)s cannot be %(step)s.",
                status=_status_label(ticket.status),
                step=_step_label(step),
            )
        )
    before = ticket.status
    ticket.status = to
    ticket.updated_at = now
    for column, value in changes.items():
        setattr(ticket, column, value)
    action = "reply" if step.startswith("reply") else step
    record(f"ticket.{action}", ticket, actor=actor, before={"status": before.value}, after={"status": to.value})


def _status_label(status: TicketStatus) -> str:
    return {TicketStatus.open: _("open"), TicketStatus.answered: _("answered"), TicketStatus.resolved: _("resolved")}[
        status
    ]


def _step_label(step: str) -> str:
    return {
        "reply_by_operator": _("replied to"),
        "reply_by_requester": _("replied to"),
        "resolve": _("resolved"),
        "reopen": _("reopened"),
    }[step]


def open_ticket(
    user: User, *, subject: str, body_md: str, product_id: int | None = None, now: datetime | None = None
) -> Ticket:
    """Open a consultation. It is a consultation event of the requester's chain.

    The same title and text again by the same requester within ``REPOST_WINDOW`` is the first
    ticket sent twice: AlreadyPosted, with that ticket."""
    now = now or utcnow()
    subject = " ".join((subject or "").split())
    if not subject:
        raise CommunityError(_("Say in a few words what you need."))
    if len(subject) > SUBJECT_MAX:
        raise CommunityError(_("A title can have at most %(n)d characters.", n=SUBJECT_MAX))
    if not (body_md or "").strip():
        raise CommunityError(_("Describe your question for the operator."))
    product = active_product(product_id)
    lock_person(user)
    earlier = db.session.scalars(
        select(Ticket)
        .where(Ticket.requester_id == user.id, Ticket.subject == subject, Ticket.created_at >= now - REPOST_WINDOW)
        .options(selectinload(Ticket.messages))
        .order_by(Ticket.id)
    )
    repeated = next((t for t in earlier if t.messages and same_text(t.messages[0].body_md, body_md)), None)
    if repeated is not None:
        raise AlreadyPosted(_("You already sent this question to an operator."), repeated)
    ticket = Ticket(
        requester_id=user.id,
        subject=subject,
        product=product,
        status=TicketStatus.open,
        created_at=now,
        updated_at=now,
    )
    ticket.messages.append(TicketMessage(author_id=user.id, body_md=body_md, from_operator=False, created_at=now))
    db.session.add(ticket)
    record("ticket.open", ticket, actor=user, after={"status": "open"})  # flushes: the ticket has its id
    events.record_consultation(user, product_id=ticket.product_id, source="ticket", key=ticket.id)
    return ticket


def reply(
    actor: User, ticket: Ticket, body_md: str, *, now: datetime | None = None, notify: bool = True
) -> TicketMessage:
    """An operator's reply answers the ticket and e-mails the requester (unless ``notify`` is
    false: the demo's past tickets); the requester's own reply puts it back in the operators'
    queue. A resolved ticket must be reopened first."""
    now = now or utcnow()
    if not (body_md or "").strip():
        raise CommunityError(_("Write a message first."))
    staff = actor.is_operator and actor.id != ticket.requester_id
    if not staff and actor.id != ticket.requester_id:
        raise NotAllowed(_("Only the requester and the operators take part in a ticket."))
    _move(actor, ticket, "reply_by_operator" if staff else "reply_by_requester", now)
    message = TicketMessage(ticket=ticket, author_id=actor.id, body_md=body_md, from_operator=staff, created_at=now)
    db.session.add(message)
    if staff:
        ticket.first_response_at = ticket.first_response_at or now
        ticket.assignee_id = ticket.assignee_id or actor.id
    if staff and notify:
        link = public_url("community.ticket", ticket_id=ticket.id)
        with in_language_of(ticket.requester):
            queue_mail(
                ticket.requester.email,
                _("An operator answered: %(subject)s", subject=ticket.subject),
                _(
                    "%(operator)s replied to your question.\n\nRead the answer and reply: %(link)s",
                    operator=actor.name,
                    link=link,
                ),
            )
    db.session.flush()
    return message


def assign(actor: User, ticket: Ticket, assignee: User | None) -> Ticket:
    """An operator takes a ticket, gives it to another operator, or (None) puts it back."""
    if not actor.is_operator:
        raise NotAllowed(_("Only operators assign tickets."))
    if assignee is not None and not (assignee.is_operator and assignee.is_active):
        raise CommunityError(_("Tickets go to active operators only."))
    if ticket.status == TicketStatus.resolved:
        raise IllegalTransition(_("A resolved ticket is not assigned any more."))
    before = ticket.assignee_id
    ticket.assignee_id = assignee.id if assignee else None
    record(
        "ticket.assign", ticket, actor=actor, before={"assignee_id": before}, after={"assignee_id": ticket.assignee_id}
    )
    return ticket


def resolve(actor: User, ticket: Ticket, *, now: datetime | None = None) -> Ticket:
    now = now or utcnow()
    if not actor.is_operator:
        raise NotAllowed(_("Only operators resolve tickets."))
    _move(
        actor,
        ticket,
        "resolve",
        now,
        resolved_at=now,
        resolved_by_id=actor.id,
        assignee_id=ticket.assignee_id or actor.id,
    )
    return ticket


def reopen(actor: User, ticket: Ticket, *, now: datetime | None = None) -> Ticket:
    """The requester (or an operator) reopens a resolved ticket: it is back in the queue."""
    now = now or utcnow()
    if not (actor.is_operator or actor.id == ticket.requester_id):
        raise NotAllowed(_("Only the requester and the operators take part in a ticket."))
    _move(actor, ticket, "reopen", now, resolved_at=None, resolved_by_id=None)
    return ticket


def article_from_ticket(actor: User, ticket: Ticket, *, now: datetime | None = None) -> Article:
    """Turn a resolved ticket into a draft FAQ article (the operator edits out anything personal
    before publishing). One article per ticket."""
    now = now or utcnow()
    if not actor.is_operator:
        raise NotAllowed(_("Only operators write FAQ articles from tickets."))
    if ticket.status != TicketStatus.resolved:
        raise IllegalTransition(_("Only a resolved ticket can become an FAQ article."))
    if db.session.scalar(select(Article.id).where(Article.source_ticket_id == ticket.id)) is not None:
        raise CommunityError(_("This ticket has an FAQ article already."))
    question = next((m.body_md for m in ticket.messages if not m.from_operator), "")
    answers = [m.body_md.strip() for m in ticket.messages if m.from_operator]
    body = "\n\n".join([_("**Question**"), question.strip(), _("**Answer**"), *answers])
    article = Article(
        kind=ArticleKind.faq,
        title=ticket.subject,
        body_md=body,
        status=ArticleStatus.draft,
        author_id=actor.id,
        source_ticket_id=ticket.id,
        created_at=now,
        updated_at=now,
    )
    if ticket.product is not None:
        article.products = [ticket.product]
    db.session.add(article)
    db.session.flush()
    record("ticket.article", ticket, actor=actor, after={"article_id": article.id})
    return article


# ---- lists ----------------------------------------------------------------------------------


def my_tickets(user: User) -> list[Ticket]:
    return list(
        db.session.scalars(select(Ticket).where(Ticket.requester_id == user.id).order_by(Ticket.id.desc()).limit(200))
    )


QUEUE_FILTERS = ("active", "open", "answered", "resolved", "all")


def queue(*, show: str = "active", assignee: str = "any", viewer: User | None = None) -> list[Ticket]:
    """The operators' queue. ``active`` (open and answered), oldest waiting first; ``assignee``
    is ``any``, ``me`` or ``none``."""
    query = select(Ticket).options(selectinload(Ticket.requester), selectinload(Ticket.assignee))
    if show == "active":
        query = query.where(Ticket.status != TicketStatus.resolved)
    elif show in ("open", "answered", "resolved"):
        query = query.where(Ticket.status == TicketStatus(show))
    if assignee == "me" and viewer is not None:
        query = query.where(Ticket.assignee_id == viewer.id)
    elif assignee == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    waiting_first = case((Ticket.status == TicketStatus.open, 0), (Ticket.status == TicketStatus.answered, 1), else_=2)
    return list(db.session.scalars(query.order_by(waiting_first, Ticket.created_at, Ticket.id).limit(500)))
