"""Consultation tickets: the requester's list and thread; operators reply, assign, resolve, and
turn a resolved ticket into a draft FAQ article. Other users get 404."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from community.forms import ActionForm, AssignForm, ReplyForm
from community.models import Ticket
from community.services import tickets as services
from community.services.common import operators
from community.views import bp
from shop.accounts.models import User
from shop.accounts.session import operator_required
from shop.extensions import db
from shop.markdown import render_markdown
from shop.web import unit_of_work


def _ticket(ticket_id: int) -> Ticket:
    return services.ticket_for(current_user, ticket_id) or abort(404)


def _assign_form() -> AssignForm:
    form = AssignForm()
    form.assignee_id.choices = [SelectChoice(0, _("— nobody —"))] + [
        SelectChoice(user.id, user.name) for user in operators()
    ]
    return form


def _page(ticket: Ticket, reply_form: ReplyForm):
    assign_form = _assign_form() if current_user.is_operator else None
    if assign_form is not None and not assign_form.is_submitted():
        assign_form.assignee_id.data = ticket.assignee_id or current_user.id
    return render_template(
        "community/ticket.html",
        ticket=ticket,
        render=render_markdown,
        reply_form=reply_form,
        assign_form=assign_form,
        action_form=ActionForm(),
    )


@bp.route("/tickets")
@login_required
def tickets():
    return render_template("community/tickets.html", tickets=services.my_tickets(current_user))


@bp.route("/tickets/<int:ticket_id>")
@login_required
def ticket(ticket_id: int):
    return _page(_ticket(ticket_id), ReplyForm())


@bp.route("/tickets/<int:ticket_id>/reply", methods=["POST"])
@login_required
def reply_ticket(ticket_id: int):
    found = _ticket(ticket_id)
    form = ReplyForm()
    if form.validate_on_submit():
        with unit_of_work(_("Sent."), flash_refusal=False) as work:
            services.reply(current_user, found, form.body_md.data)
        if not work.refused:
            return redirect(url_for("community.ticket", ticket_id=ticket_id))
        form.form_errors.append(work.refusal.message)
    return _page(found, form), 422


def _step(ticket_id: int, step, success: str):
    found = _ticket(ticket_id)
    if ActionForm().validate_on_submit():
        with unit_of_work(success):
            step(found)
    return redirect(url_for("community.ticket", ticket_id=ticket_id))


@bp.route("/tickets/<int:ticket_id>/assign", methods=["POST"])
@operator_required
def assign_ticket(ticket_id: int):
    found = _ticket(ticket_id)
    form = _assign_form()
    if not form.validate_on_submit():
        flash(_("Choose an operator."), "error")
        return redirect(url_for("community.ticket", ticket_id=ticket_id))
    assignee = db.session.get(User, form.assignee_id.data) if form.assignee_id.data else None
    with unit_of_work(_("Assigned.")):
        services.assign(current_user, found, assignee)
    return redirect(url_for("community.ticket", ticket_id=ticket_id))


@bp.route("/tickets/<int:ticket_id>/resolve", methods=["POST"])
@operator_required
def resolve_ticket(ticket_id: int):
    return _step(ticket_id, lambda t: services.resolve(current_user, t), _("The ticket is resolved."))


@bp.route("/tickets/<int:ticket_id>/reopen", methods=["POST"])
@login_required
def reopen_ticket(ticket_id: int):
    return _step(ticket_id, lambda t: services.reopen(current_user, t), _("The ticket is open again."))


@bp.route("/tickets/<int:ticket_id>/article", methods=["POST"])
@operator_required
def ticket_to_article(ticket_id: int):
    found = _ticket(ticket_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("community.ticket", ticket_id=ticket_id))
    done = _("A draft FAQ article was made from the ticket: edit out anything personal, then publish it.")
    with unit_of_work(done) as work:
        article = services.article_from_ticket(current_user, found)
    if work.refused:
        return redirect(url_for("community.ticket", ticket_id=ticket_id))
    return redirect(url_for("community.edit_article", article_id=article.id))
