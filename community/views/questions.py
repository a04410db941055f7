"""Questions and answers, the ask page (self-service first), votes, acceptance, moderation."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.errors import AlreadyPosted
from community.forms import ActionForm, AnswerForm, AskForm, ModerationForm, QuestionForm, VoteForm
from community.models import Answer, Question, Ticket
from community.services import articles as article_services
from community.services import questions as services
from community.services import search as search_services
from community.services import tickets as ticket_services
from community.services.moderation import POST_KINDS, Action, moderate
from community.services.selfservice import record_self_service
from community.views import bp, fill_product_choices
from shop.accounts.session import operator_required
from shop.extensions import db
from shop.input_checks import parse_id
from shop.markdown import render_markdown
from shop.pagination import page_arg
from shop.web import unit_of_work


def _question(question_id: int) -> Question:
    return services.question_for(current_user, question_id) or abort(404)


def _answer(answer_id: int) -> Answer:
    return services.answer_for(current_user, answer_id) or abort(404)


def _to_question(question_id: int, answer_id: int | None = None):
    anchor = f"answer-{answer_id}" if answer_id else None
    return redirect(url_for("community.question", question_id=question_id, _anchor=anchor))


@bp.route("/questions")
@login_required
def questions():
    show = request.args.get("show", "all")
    show = show if show in services.FILTERS else "all"
    tag = request.args.get("tag", "").strip()[:40] or None
    page = services.list_questions(show=show, tag=tag, page=page_arg())
    return render_template(
        "community/questions.html",
        page=page,
        show=show,
        tag=tag,
        filters=services.FILTERS,
        counts=services.answer_counts(page.items),
    )


@bp.route("/questions/<int:question_id>")
@login_required
def question(question_id: int):
    return _question_page(_question(question_id), AnswerForm())


def _question_page(found: Question, answer_form: AnswerForm):
    answers = services.ranked_answers(current_user, found)
    return render_template(
        "community/question.html",
        question=found,
        answers=answers,
        render=render_markdown,
        votes=services.my_votes(current_user, found, answers),
        answer_form=answer_form,
        vote_form=VoteForm(),
        action_form=ActionForm(),
        moderation_form=ModerationForm(),
        may_accept=current_user.is_operator or current_user.id == found.author_id,
    )


@bp.route("/ask", methods=["GET", "POST"])
@login_required
def ask():
    """Self-service first: matching articles and solved questions are suggested (as the title is
    typed with JavaScript, on "Find answers" without it), each with a "this answered it" button;
    otherwise ask the community or an operator."""
    form = AskForm()
    fill_product_choices(form.product_id)
    if request.method == "GET":
        form.title.data = request.args.get("title", "")[:200]
        form.product_id.data = parse_id(request.args.get("product")) or 0
        suggestions = search_services.suggest(form.title.data) if form.title.data else []
        return render_template("community/ask.html", form=form, suggestions=suggestions)
    if request.form.get("answered_by"):
        return _self_served(request.form["answered_by"], form.title.data)
    if form.validate_on_submit():
        if not (form.post_question.data or form.open_ticket.data):
            # "Find answers" without JavaScript: show the suggestions, remember the search.
            suggestions = search_services.suggest(form.title.data)
            with unit_of_work():
                search_services.log_search(current_user, form.title.data, len(suggestions))
            return render_template("community/ask.html", form=form, suggestions=suggestions, searched=True)
        with unit_of_work(flash_refusal=False) as work:
            target = _post_question_or_ticket(form)
        if not work.refused:
            return redirect(target)
        if isinstance(work.refusal, AlreadyPosted):  # sent twice: where the first one went
            flash(work.refusal.message, "info")
            return redirect(_post_url(work.refusal.existing))
        form.form_errors.append(work.refusal.message)
    return render_template("community/ask.html", form=form, suggestions=[]), 422


def _post_question_or_ticket(form: AskForm) -> str:
    product_id = form.product_id.data or None
    if form.post_question.data:
        question = services.ask_question(
            current_user,
            title=form.title.data,
            body_md=form.body_md.data,
            product_id=product_id,
            tags=form.tags.data or "",
        )
        flash(_("Your question is posted. You will see the answers here."), "success")
        return url_for("community.question", question_id=question.id)
    ticket = ticket_services.open_ticket(
        current_user, subject=form.title.data, body_md=form.body_md.data, product_id=product_id
    )
    flash(_("An operator will answer you here and by e-mail."), "success")
    return url_for("community.ticket", ticket_id=ticket.id)


def _post_url(post: Question | Ticket) -> str:
    if isinstance(post, Ticket):
        return url_for("community.ticket", ticket_id=post.id)
    return url_for("community.question", question_id=post.id)


def _self_served(answered_by: str, query: str):
    """ "This answered it" (a button of the ask form): count a self-service resolution, then
    show the article or question that answered it."""
    kind, _sep, number = answered_by.partition(":")
    if kind not in ("article", "question"):
        abort(400)
    post_id = parse_id(number) or abort(404)
    if kind == "article":
        source = article_services.article_for(current_user, post_id) or abort(404)
        target = url_for("community.article", article_id=source.id)
    else:
        source = services.question_for(current_user, post_id) or abort(404)
        target = url_for("community.question", question_id=source.id)
    with unit_of_work(_("Glad it helped. Thank you for telling us.")):
        record_self_service(current_user, source, query=query or "")
    return redirect(target)


@bp.route("/questions/<int:question_id>/answers", methods=["GET", "POST"])
@login_required
def answer(question_id: int):
    if request.method == "GET":  # a refused answer's page reopened: the question, where the form is
        return redirect(url_for("community.question", question_id=question_id))
    found = _question(question_id)
    form = AnswerForm()
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            created = services.post_answer(current_user, found, form.body_md.data)
        if not work.refused:
            return _to_question(found.id, created.id)
        if isinstance(work.refusal, AlreadyPosted):  # sent twice: where the first one went
            flash(work.refusal.message, "info")
            return _to_question(found.id, work.refusal.existing.id)
        form.form_errors.append(work.refusal.message)
    return _question_page(found, form), 422


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
def edit_question(question_id: int):
    found = _question(question_id)
    if not (current_user.is_operator or current_user.id == found.author_id):
        abort(403)
    form = QuestionForm(obj=found)
    fill_product_choices(form.product_id)
    if request.method == "GET":
        form.product_id.data = found.product_id or 0
    if form.validate_on_submit():
        with unit_of_work(_("Saved."), flash_refusal=False) as work:
            services.edit_question(
                current_user,
                found,
                title=form.title.data,
                body_md=form.body_md.data,
                product_id=form.product_id.data or None,
                tags=form.tags.data or "",
            )
        if not work.refused:
            return _to_question(found.id)
        form.form_errors.append(work.refusal.message)
    status = 422 if form.is_submitted() else 200
    return render_template("community/question_edit.html", form=form, question=found), status


@bp.route("/answers/<int:answer_id>/edit", methods=["GET", "POST"])
@login_required
def edit_answer(answer_id: int):
    found = _answer(answer_id)
    if not (current_user.is_operator or current_user.id == found.author_id):
        abort(403)
    form = AnswerForm(obj=found)
    if form.validate_on_submit():
        with unit_of_work(_("Saved."), flash_refusal=False) as work:
            services.edit_answer(current_user, found, form.body_md.data)
        if not work.refused:
            return _to_question(found.question_id, found.id)
        form.form_errors.append(work.refusal.message)
    status = 422 if form.is_submitted() else 200
    return render_template("community/answer_edit.html", form=form, answer=found), status


def _vote(post: Question | Answer, question_id: int):
    form = VoteForm()
    if not form.validate_on_submit():
        flash(_("Nothing was changed: the form was incomplete."), "error")
    else:
        with unit_of_work():
            services.vote(current_user, post, int(form.value.data))
    return _to_question(question_id, post.id if isinstance(post, Answer) else None)


@bp.route("/questions/<int:question_id>/vote", methods=["POST"])
@login_required
def vote_question(question_id: int):
    found = _question(question_id)
    return _vote(found, found.id)


@bp.route("/answers/<int:answer_id>/vote", methods=["POST"])
@login_required
def vote_answer(answer_id: int):
    found = _answer(answer_id)
    return _vote(found, found.question_id)


@bp.route("/answers/<int:answer_id>/accept", methods=["POST"])
@login_required
def accept_answer(answer_id: int):
    found = _answer(answer_id)
    if not (current_user.is_operator or current_user.id == found.question.author_id):
        abort(403)
    if ActionForm().validate_on_submit():
        with unit_of_work(_("Answer accepted: the question is solved.")):
            services.accept_answer(current_user, found)
    return _to_question(found.question_id, found.id)


@bp.route("/moderate/<any(article, question, answer):kind>/<int:post_id>", methods=["POST"])
@operator_required
def moderate_post(kind: str, post_id: int):
    post = db.session.get(POST_KINDS[kind], post_id) or abort(404)
    back = (
        url_for("community.article", article_id=post.id)
        if kind == "article"
        else url_for("community.question", question_id=post.question_id if kind == "answer" else post.id)
    )
    form = ModerationForm()
    if not form.validate_on_submit():
        flash(_("Nothing was changed: the form was incomplete."), "error")
        return redirect(back)
    with unit_of_work(_("Done.")):
        moderate(current_user, post, Action(form.action.data), reason=form.reason.data or "")
    return redirect(back)
