"""The community search page and the JSON suggestions the ask page fetches as the title is typed."""

from __future__ import annotations

from flask import jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from community.services import search as services
from community.views import bp
from shop.web import fact_recorded_on_read


def hit_url(hit: services.Hit) -> str:
    if hit.kind == "article":
        return url_for("community.article", article_id=hit.id)
    if hit.kind == "answer":
        return url_for("community.question", question_id=hit.question_id, _anchor=f"answer-{hit.id}")
    return url_for("community.question", question_id=hit.id)


@bp.route("/search")
@login_required
def search():
    query = request.args.get("q", "").strip()[: services.QUERY_MAX]
    results = services.search(query) if query else None
    if results is not None:
        with fact_recorded_on_read():
            services.log_search(current_user, query, len(results.hits))
    return render_template("community/search.html", query=query, results=results, hit_url=hit_url)


@bp.route("/suggest")
@login_required
def suggest():
    """Up to 3 public articles or solved questions for ``q`` (not logged: it runs per keystroke)."""
    text = request.args.get("q", "").strip()[: services.QUERY_MAX]
    hits = services.suggest(text) if len(text) >= 2 else []
    return jsonify(
        items=[
            {
                "kind": hit.kind,
                "id": hit.id,
                "title": hit.title,
                "url": hit_url(hit),
                "snippet": hit.snippet_html.striptags(),
            }
            for hit in hits
        ]
    )
