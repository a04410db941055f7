"""The leaderboards page of a festival, for every logged-in member."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from shop.catalog.festival_models import Phase
from shop.festivals import leaderboards
from shop.festivals.services import festival_by_slug

bp = Blueprint("leaderboards", __name__)


@bp.route("/festivals/<slug>/leaderboards")
@login_required
def show(slug: str):
    festival = festival_by_slug(slug)
    if festival is None or (festival.phase() == Phase.draft and not current_user.is_operator):
        abort(404)  # a festival in draft is not announced yet
    return render_template(
        "festivals/leaderboards.html",
        festival=festival,
        phase=festival.phase(),
        top=leaderboards.top_chains(festival, current_user),
        newcomers=leaderboards.newcomers(festival, current_user),
        departments=leaderboards.department_boards(festival, current_user),
        tail=leaderboards.long_tail(festival, current_user),
        top_size=leaderboards.TOP_CHAINS,
        department_size=leaderboards.PER_DEPARTMENT,
    )
