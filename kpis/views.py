"""The operators' KPI dashboard (/ops/kpis) and an employee's chain funnel for operators.
Members see their own chain's funnel on /network (``kpis.chain.chain_funnel_for_page``)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from kpis import employees, sections
from kpis.aggregation import as_of
from kpis.chain import chain_funnel, chain_funnel_for_page, funnel_table
from kpis.figures import YEAR_ROUND, Filters, today
from kpis.forms import CutForm
from kpis.tables import Table, charts_json, show, to_csv
from shop.accounts.models import Department, Kind, User
from shop.accounts.session import operator_required
from shop.catalog.festival_models import Festival
from shop.catalog.models import Product
from shop.database import utcnow
from shop.extensions import db
from shop.input_checks import parse_id
from shop.pagination import Page, page_arg
from shop.spreadsheets import csv_response

bp = Blueprint("kpis", __name__, url_prefix="/ops/kpis", template_folder="templates", static_folder="static")
member_bp = Blueprint("kpis_member", __name__)

PER_PAGE = 25
DEFAULT_DAYS = 30


def _cut_form() -> tuple[CutForm, Filters | None]:
    form = CutForm(request.args)
    # Ids and names only: the choices of every dashboard request, no ORM row needed.
    form.festival.choices = [("", _("Every order")), (YEAR_ROUND, _("Year-round only"))] + _choices(
        select(Festival.id, Festival.name).order_by(Festival.launch_at.desc())
    )
    form.department.choices = [("", _("Every department"))] + _choices(
        select(Department.id, Department.name).order_by(Department.name)
    )
    form.product.choices = [("", _("Every product"))] + _choices(
        select(Product.id, Product.name).order_by(Product.name)
    )
    form.level.choices = [
        ("", _("Every level")),
        ("0", _("Employees")),
        ("1", _("L1 contacts")),
        ("2", _("L2 contacts")),
    ]
    if not form.validate():
        return form, None
    end = form.end.data or today()
    start = form.start.data or end - timedelta(days=DEFAULT_DAYS - 1)
    form.start.data, form.end.data = start, end
    return form, Filters(
        start=start,
        end=end,
        festival=form.festival.data or "",
        department_id=parse_id(form.department.data),
        product_id=parse_id(form.product.data),
        level=int(form.level.data) if form.level.data else None,  # "0", "1" or "2": the form checked
    )


def _choices(query) -> list[tuple[str, str]]:
    return [(str(key), name) for key, name in db.session.execute(query)]


def _freshness() -> dict:
    moment = as_of()
    return {"as_of": moment, "age": int((utcnow() - moment).total_seconds()) if moment else None}


def _page(template: str, form: CutForm, tables: list[Table], status: int = 200, **context):
    return (
        render_template(
            template,
            form=form,
            tables=tables,
            charts_json=charts_json(tables),
            sections=sections.SECTIONS,
            show=show,
            args={k: v for k, v in request.args.items() if k not in ("page",)},
            **_freshness(),
            **context,
        ),
        status,
    )


def _employees(f: Filters, *, offset: int = 0, limit: int | None = None) -> tuple[Table, employees.Page]:
    """The employees table as the request asks for it (search, sort, a page of it), and the
    bottleneck distribution: one statement in the database (``kpis.employees``)."""
    found = employees.page(
        f,
        q=request.args.get("q", ""),
        sort=request.args.get("sort", "name"),
        descending=request.args.get("dir") == "desc",
        offset=offset,
        limit=limit,
    )
    return sections.employees(found.rows), found


@bp.route("")
@operator_required
def dashboard():
    form, f = _cut_form()
    if f is None:
        return _page("kpis/dashboard.html", form, [], 422, section="funnel", employees=None, page=None)
    page_number = page_arg()
    shown, found = _employees(f, offset=(page_number - 1) * PER_PAGE, limit=PER_PAGE)
    tables = [*sections.funnel(f), sections.bottlenecks_table(found.bottlenecks)]
    return _page(
        "kpis/dashboard.html",
        form,
        tables,
        section="funnel",
        employees=shown,
        page=Page(shown.rows, page_number, PER_PAGE, found.total),
    )


@bp.route("/<any(expansion, sustainability, 'long-tail', operators, platform, festivals):section>")
@operator_required
def section(section: str):
    form, f = _cut_form()
    if f is None:
        return _page("kpis/section.html", form, [], 422, section=section)
    title, build = sections.SECTIONS[section]
    return _page("kpis/section.html", form, build(f), section=section, title=title)


@bp.route("/<section>/<name>.csv")
@operator_required
def download(section: str, name: str):
    """Any table of any section as CSV (UTF-8 with a byte-order mark), with the page's cuts;
    the employees table whole, searched and sorted as on the page."""
    form, f = _cut_form()
    if f is None:
        abort(422)
    if section == "funnel" and name == "employees":
        tables = [_employees(f)[0]]
    elif section == "funnel" and name == "bottlenecks":
        tables = [sections.bottlenecks_table(_employees(f, limit=1)[1].bottlenecks)]
    elif section == "funnel":
        tables = sections.funnel(f)
    elif section in sections.SECTIONS:
        tables = sections.SECTIONS[section][1](f)
    else:
        abort(404)
    table = next((t for t in tables if t.name == name), None) or abort(404)
    return _csv(table, f)


def _csv(table: Table, f: Filters) -> Response:
    return csv_response(to_csv(table), f"{table.name}-{f.start.isoformat()}-{f.end.isoformat()}.csv")


@bp.route("/employees/<int:user_id>")
@operator_required
def employee(user_id: int):
    """Any employee's chain funnel and bottleneck, for operators."""
    person = db.session.get(User, user_id)
    if person is None or person.kind != Kind.employee:
        abort(404)
    form, f = _cut_form()
    if f is None:
        return _page("kpis/employee.html", form, [], 422, section="funnel", person=person, funnel=None)
    return _page("kpis/employee.html", form, [], section="funnel", person=person, funnel=chain_funnel(person, f))


@bp.route("/employees/<int:user_id>/funnel.csv")
@operator_required
def employee_csv(user_id: int):
    person = db.session.get(User, user_id)
    if person is None or person.kind != Kind.employee:
        abort(404)
    _form, f = _cut_form()
    if f is None:
        abort(422)
    return _csv(funnel_table(chain_funnel(person, f)), f)


@member_bp.route("/network/funnel.csv")
@login_required
def my_funnel_csv():
    """The viewer's own chain funnel as on /network: nobody else's."""
    funnel = chain_funnel_for_page(current_user) or abort(404)
    return _csv(funnel_table(funnel), Filters(funnel.start, funnel.end))
