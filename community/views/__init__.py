"""Community pages under /community: members read, ask and answer; operators run the queues.

Anonymous visitors see nothing (every route needs a log-in). Routes live in one module per
area (articles, questions, tickets, search, ops) and register on ``bp``."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import login_required
from wtforms.fields.choices import SelectChoice

from community.services import articles as article_services
from community.services import questions as question_services
from community.services.common import can_write_articles, product_choices

bp = Blueprint("community", __name__, url_prefix="/community", template_folder="../templates")  # community/templates

# The product page's "Know before you share" box (community/_product_articles.html) calls this.
bp.add_app_template_global(article_services.articles_for_product, "community_articles_for_product")


@bp.context_processor
def _community_helpers() -> dict:
    return {"can_write_articles": can_write_articles, "format_age": _format_age}


def _format_age(delta) -> str:
    return format_timedelta(delta, threshold=1.5)


def fill_product_choices(field, *, optional: bool = True) -> None:
    choices = [SelectChoice(pid, name) for pid, name in product_choices()]
    field.choices = ([SelectChoice(0, _("— none —"))] if optional else []) + choices


@bp.route("/")
@login_required
def home():
    return render_template(
        "community/home.html",
        articles=article_services.public_articles(per_page=8).items,
        questions=question_services.list_questions(per_page=8).items,
        unanswered=question_services.list_questions(show="unanswered", per_page=5).items,
    )


from community.views import articles, ops, questions, search, tickets  # noqa: E402,F401  (routes register on bp)
