"""The operators' community pages: the ticket queue, the article review queue, the metrics."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from community.forms import MetricsForm
from community.services import articles as article_services
from community.services import metrics as metric_services
from community.services import tickets as ticket_services
from community.views import bp
from shop.accounts.session import operator_required
from shop.company_calendar import company_zone
from shop.database import utcnow

DEFAULT_DAYS = 30


@bp.route("/ops/tickets")
@operator_required
def ticket_queue():
    show = request.args.get("show", "active")
    show = show if show in ticket_services.QUEUE_FILTERS else "active"
    assignee = request.args.get("assignee", "any")
    assignee = assignee if assignee in ("any", "me", "none") else "any"
    return render_template(
        "community/ops_tickets.html",
        tickets=ticket_services.queue(show=show, assignee=assignee, viewer=current_user),
        show=show,
        assignee=assignee,
        filters=ticket_services.QUEUE_FILTERS,
        now=utcnow(),
    )


@bp.route("/ops/articles")
@operator_required
def review_queue():
    return render_template("community/ops_articles.html", queue=article_services.review_queue())


@bp.route("/ops/metrics")
@operator_required
def metrics():
    form = MetricsForm(request.args)
    if request.args and not form.validate():
        return render_template("community/ops_metrics.html", form=form, metrics=None), 422
    zone = company_zone()
    today = utcnow().astimezone(zone).date()
    last_day: date = form.date_to.data or today
    first_day: date = form.date_from.data or last_day - timedelta(days=DEFAULT_DAYS - 1)
    if first_day > last_day:  # a start after today, with no end given
        form.date_to.errors = [_("The end date is before the start date.")]
        return render_template("community/ops_metrics.html", form=form, metrics=None), 422
    start = datetime.combine(first_day, time(), zone)
    end = datetime.combine(last_day + timedelta(days=1), time(), zone)
    form.date_from.data, form.date_to.data = first_day, last_day
    return render_template(
        "community/ops_metrics.html",
        form=form,
        metrics=metric_services.compute(start, end),
        hours=metric_services.UNANSWERED_HOURS,
    )
