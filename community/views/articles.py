"""Article pages: the list, one article, writing and editing, and the operators' review steps."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.forms import ActionForm, ArticleForm, ModerationForm, RejectForm
from community.models import Article, ArticleKind
from community.services import articles as services
from community.services.common import can_write_articles
from community.views import bp, fill_product_choices
from shop.accounts.session import operator_required
from shop.markdown import render_markdown
from shop.pagination import page_arg
from shop.web import unit_of_work


def _article(article_id: int) -> Article:
    return services.article_for(current_user, article_id) or abort(404)


@bp.route("/articles")
@login_required
def articles():
    kind = request.args.get("kind", "")
    kind = ArticleKind(kind) if kind in ArticleKind.__members__ else None
    tag = request.args.get("tag", "").strip()[:40] or None
    page = services.public_articles(kind=kind, tag=tag, page=page_arg())
    mine = services.my_articles(current_user) if can_write_articles(current_user) else []
    return render_template("community/articles.html", page=page, kind=kind, tag=tag, kinds=list(ArticleKind), mine=mine)


@bp.route("/articles/<int:article_id>")
@login_required
def article(article_id: int):
    found = _article(article_id)
    return render_template(
        "community/article.html",
        article=found,
        body=render_markdown(found.body_md),
        due=services.is_due_for_review(found),
        may_edit=services.may_edit(current_user, found),
        action_form=ActionForm(),
        reject_form=RejectForm(),
        moderation_form=ModerationForm(),
    )


def _input(form: ArticleForm) -> services.ArticleInput:
    return services.ArticleInput(
        kind=ArticleKind(form.kind.data),
        title=form.title.data,
        body_md=form.body_md.data,
        tags=form.tags.data or "",
        product_ids=tuple(form.product_ids.data or ()),
    )


@bp.route("/articles/new", methods=["GET", "POST"])
@login_required
def new_article():
    if not can_write_articles(current_user):
        abort(403)
    form = ArticleForm()
    fill_product_choices(form.product_ids, optional=False)
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            created = services.save_article(current_user, None, _input(form), publish=form.publish.data)
        if not work.refused:
            flash(_saved_message(created), "success")
            return redirect(url_for("community.article", article_id=created.id))
        form.form_errors.append(work.refusal.message)
    status = 422 if form.is_submitted() else 200
    return render_template("community/article_edit.html", form=form, article=None), status


@bp.route("/articles/<int:article_id>/edit", methods=["GET", "POST"])
@login_required
def edit_article(article_id: int):
    found = _article(article_id)
    if not services.may_edit(current_user, found):
        abort(403)
    form = ArticleForm(obj=found)
    fill_product_choices(form.product_ids, optional=False)
    if request.method == "GET":
        form.kind.data = found.kind.value
        form.product_ids.data = [p.id for p in found.products]
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            services.save_article(current_user, found, _input(form), publish=form.publish.data)
        if not work.refused:
            flash(_saved_message(found), "success")
            return redirect(url_for("community.article", article_id=found.id))
        form.form_errors.append(work.refusal.message)
    status = 422 if form.is_submitted() else 200
    return render_template("community/article_edit.html", form=form, article=found), status


def _saved_message(article: Article) -> str:
    return {
        "published": _("The article is published."),
        "pending": _("Thank you: an operator will review the article before it is published."),
    }.get(article.status.value, _("Saved."))


def _operator_step(article_id: int, step, success: str, form_class=ActionForm):
    found = _article(article_id)
    form = form_class()
    if not form.validate_on_submit():
        flash(_("Nothing was changed: the form was incomplete."), "error")
        return redirect(url_for("community.article", article_id=article_id))
    with unit_of_work(success):
        step(found, form)
    return redirect(url_for("community.article", article_id=article_id))


@bp.route("/articles/<int:article_id>/publish", methods=["POST"])
@operator_required
def publish_article(article_id: int):
    return _operator_step(
        article_id,
        lambda article, _form: services.publish_article(current_user, article),
        _("The article is published."),
    )


@bp.route("/articles/<int:article_id>/reject", methods=["POST"])
@operator_required
def reject_article(article_id: int):
    return _operator_step(
        article_id,
        lambda article, form: services.reject_article(current_user, article, form.reason.data),
        _("The article went back to its author."),
        RejectForm,
    )


@bp.route("/articles/<int:article_id>/review", methods=["POST"])
@operator_required
def review_article(article_id: int):
    return _operator_step(
        article_id, lambda article, _form: services.mark_reviewed(current_user, article), _("Marked as reviewed today.")
    )
