"""Referral pages for members and visitors: joining through a link (and the product teaser),
sharing, my network, referring a customer. Sales and operator pages are in ``staff_views``."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from referrals.forms import JoinForm, LeadForm, ShareForm
from referrals.models.leads import Timeline
from referrals.services import events as event_log
from referrals.services import join as joining
from referrals.services import leads as lead_service
from referrals.services import links, network, visits
from shop.accounts import services as accounts
from shop.catalog import page_cache
from shop.catalog.models import Product
from shop.extensions import limiter
from shop.i18n import current_locale, to_minor
from shop.pagination import Page, page_arg
from shop.web import fact_recorded_on_read, unit_of_work

bp = Blueprint("referrals", __name__, template_folder="templates")


def _config(name: str):
    return lambda: current_app.config[name]


def _code_key() -> str:
    return "referral-code:" + str((request.view_args or {}).get("code", ""))


def _joined(response: Response) -> bool:
    return response.status_code == 200  # the "check your inbox" page; refusals are 4xx


# ---- visits --------------------------------------------------------------------------------


def _count_visit(owner, product: Product | None = None) -> str | None:
    """Count this request as a visit of ``owner``'s link in a transaction of its own (the
    visit is the fact). Returns a new visitor id to set as a cookie, or None."""
    user = current_user if current_user.is_authenticated else None
    cookie = visits.valid_visitor_id(request.cookies.get(visits.VISITOR_COOKIE))
    new_id = None if (user is not None or cookie) else visits.new_visitor_id()
    with fact_recorded_on_read():
        visits.record_visit(
            owner,
            visitor=visits.visitor_key(user, cookie or new_id),
            user=user,
            product=product,
            ip=request.remote_addr,
            capped=user is None and not cookie,
        )
    return new_id


def _with_visitor(response: Response, visitor_id: str | None) -> Response:
    if visitor_id:
        response.set_cookie(
            visits.VISITOR_COOKIE,
            visitor_id,
            httponly=True,
            samesite="Lax",
            max_age=int(timedelta(days=current_app.config["VISITOR_COOKIE_DAYS"]).total_seconds()),
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


def _bad_link(message: str, *, invite_code: str | None = None):
    return render_template("referrals/bad_link.html", message=message, invite_code=invite_code), 404


# ---- what the product page asks for (shop/catalog/signals.py, subscribed in create_app) ----


def on_visitor_opened_share_link(slug: str, *, ref: str, **_signal):
    return product_teaser(slug, ref)


def on_member_opened_share_link(slug: str, *, ref: str, **_signal) -> None:
    count_member_visit(slug, ref)


def on_product_aside(slug: str, **_signal) -> Markup:
    return share_panel(slug)


def on_product_lead_form(_slug: str, **_signal) -> LeadForm:
    return lead_form_for_fragment()


def count_member_visit(slug: str, code: str) -> None:
    """A member opened someone's product share link: count it; a bad code is ignored."""
    try:
        owner = links.owner_by_code(code)
    except links.BadLink:
        return
    product = links.shareable_product(slug)
    if product is not None:
        _count_visit(owner, product)


def product_teaser(slug: str, code: str):
    """/p/<slug>?ref=<code> for a visitor: the product's name and picture, who shared it, and
    the sign-up form; never a price."""
    try:
        owner = links.owner_by_code(code)
    except links.BadLink as exc:
        return _bad_link(exc.message)
    product = links.shareable_product(slug)
    if product is None:
        invite = code if links.closed_reason(owner) is None else None
        return _bad_link(_("This product is not available any more."), invite_code=invite)
    visitor_id = _count_visit(owner, product)
    form = JoinForm(product=product.slug)
    html = render_template(
        "referrals/join.html", owner=owner, product=product, form=form, closed=links.closed_reason(owner)
    )
    return _with_visitor(make_response(html), visitor_id)


# ---- joining -------------------------------------------------------------------------------


@bp.route("/r/<code>", methods=["GET", "POST"])
@limiter.limit(_config("RATELIMIT_REFERRAL_SIGNUP_IP"), methods=["POST"])
@limiter.limit(_config("RATELIMIT_REFERRAL_SIGNUP_CODE"), key_func=_code_key, methods=["POST"], deduct_when=_joined)
def join(code: str):
    try:
        owner = links.owner_by_code(code)
    except links.BadLink as exc:
        return _bad_link(exc.message)
    if current_user.is_authenticated:
        if request.method == "GET":
            _count_visit(owner)
        flash(_("You are a member already: share your own links from your account page."), "info")
        return redirect(url_for("catalog.home"))
    visitor_id = _count_visit(owner) if request.method == "GET" else None
    form = JoinForm()
    product = links.shareable_product(form.product.data) if form.product.data else None
    closed = links.closed_reason(owner)
    if closed is None and form.validate_on_submit():
        signup = joining.Signup(form.name.data, form.email.data, form.password.data)
        with unit_of_work(flash_refusal=False) as work:
            user = joining.join(
                code,
                signup,
                product=product,
                ip=request.remote_addr,
                visitor_id=visits.valid_visitor_id(request.cookies.get(visits.VISITOR_COOKIE)),
                locale=current_locale(),
            )
        if work.refused:
            form.email.errors.append(work.refusal.message)
        else:
            email = user.email if user is not None else accounts.normalise_email(signup.email)
            return render_template("accounts/check_inbox.html", email=email)
    html = render_template("referrals/join.html", owner=owner, product=product, form=form, closed=closed)
    return _with_visitor(make_response(html, 200 if request.method == "GET" else 422), visitor_id)


# ---- sharing -------------------------------------------------------------------------------


def share_panel(slug: str | None = None) -> Markup:
    """The share tools with the current user's own link: a fragment of its own, cached per user,
    product and locale, outside the product's fragment that every viewer shares."""
    key = ("share-panel", slug, current_user.referral_code, str(get_locale()))
    panel = page_cache.cached_fragment(
        key, lambda: Markup(render_template("referrals/_share_panel.html", slug=slug, csrf_field=page_cache.CSRF_SLOT))
    )
    return page_cache.with_csrf(panel)


def _share_target(slug: str | None) -> Product | None:
    if slug is None:
        return None
    return links.shareable_product(slug) or abort(404)


@bp.route("/share/invite", methods=["GET", "POST"], defaults={"slug": None})
@bp.route("/share/p/<slug>", methods=["GET", "POST"])
@login_required
def share(slug: str | None):
    product = _share_target(slug)
    if product is None and not current_user.may_invite:
        flash(
            _("Nobody can join through your links, so there is no invite link for you; share products instead."), "info"
        )
        return redirect(url_for("referrals.my_network"))
    form = ShareForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("referrals/share.html", product=product, form=form, show_poster=False), 422
        with unit_of_work():
            event_log.record_share(current_user, source=form.what.data, product_id=product.id if product else None)
        if request.headers.get("X-Requested-With") == "fetch":
            return "", 204  # the copy button in shop.js records the share in the background
        return redirect(url_for("referrals.share", slug=slug, poster=1 if form.what.data == "poster" else None))
    return render_template(
        "referrals/share.html",
        product=product,
        form=ShareForm(formdata=None),
        show_poster=request.args.get("poster") == "1",
    )


def _member_key() -> str:
    # The user id, not the login id (get_id): that carries the session token, which changes at
    # every log-out and would start the count afresh.
    return f"member:{current_user.id}" if current_user.is_authenticated else request.remote_addr or ""


@bp.route("/share/invite/poster.png", defaults={"slug": None})
@bp.route("/share/p/<slug>/poster.png")
@login_required
@limiter.limit(_config("RATELIMIT_POSTER"), key_func=_member_key)
def poster(slug: str | None):
    product = _share_target(slug)
    if product is None:
        if not current_user.may_invite:
            abort(404)  # an invite poster that could never admit anyone
        data = links.invite_poster(current_user, current_app.config["COMPANY_NAME"])
        name = "invite"
    else:
        data = links.product_poster(current_user, product)
        name = product.slug
    response = Response(data, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    if request.args.get("download") == "1":
        response.headers["Content-Disposition"] = f"attachment; filename=neigou-{name}.png"
    return response


@bp.route("/share/card.png")
def card():
    """The picture of a link's card in a chat app (og:image): public, the same for every link."""
    response = Response(links.link_card(), mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


# ---- my network ----------------------------------------------------------------------------


NETWORK_PER_PAGE = 25  # contacts of the first level per page
NETWORK_NESTED = 5  # of each one's own contacts shown under them (all on the contact's page)


@bp.route("/network")
@login_required
def my_network():
    """The chain's totals, then a page of its contacts: a large chain has a thousand."""
    number = page_arg()
    first = (number - 1) * NETWORK_PER_PAGE
    found = network.network_of(current_user, first=first, limit=NETWORK_PER_PAGE, nested=NETWORK_NESTED)
    page = Page(found.members, number, NETWORK_PER_PAGE, found.top_count)
    return render_template("referrals/network.html", network=found, page=page, nested=NETWORK_NESTED)


@bp.route("/network/<int:user_id>")
@login_required
def member(user_id: int):
    found = network.member_of(current_user, user_id) or abort(404)
    return render_template("referrals/member.html", member=found)


# ---- leads ---------------------------------------------------------------------------------


def lead_form_for_fragment() -> LeadForm:
    """The empty lead form for the cached product fragment: no CSRF token (the slot takes it)."""
    return LeadForm(formdata=None, meta={"csrf": False})


def _lead_product(slug: str) -> Product:
    product = links.shareable_product(slug)
    if product is None or product.sales_mode.value != "lead":
        abort(404)
    return product


@bp.route("/refer/<slug>", methods=["GET", "POST"])
@login_required
def refer(slug: str):
    product = _lead_product(slug)
    form = LeadForm()
    if form.validate_on_submit():
        data = lead_service.LeadInput(
            customer_name=form.customer_name.data,
            customer_phone=form.customer_phone.data or "",
            customer_email=form.customer_email.data or "",
            company=form.company.data or "",
            need=form.need.data,
            budget=to_minor(form.budget.data, current_app.config["CURRENCY"]) if form.budget.data is not None else None,
            timeline=Timeline(form.timeline.data),
            consent=form.consent.data,
        )
        done = _("Thank you: a sales consultant will contact the customer. Follow the lead here.")
        with unit_of_work(done, flash_refusal=False) as work:
            lead_service.submit_lead(current_user, product, data)
        if not work.refused:
            return redirect(url_for("referrals.my_leads"))
        if isinstance(work.refusal, lead_service.AlreadyReferred):  # sent twice: where the first one went
            flash(work.refusal.message, "info")
            return redirect(url_for("referrals.my_leads"))
        form.customer_name.errors.append(work.refusal.message)
    status = 200 if request.method == "GET" else 422
    return render_template("referrals/refer.html", product=product, form=form), status


@bp.route("/leads")
@login_required
def my_leads():
    return render_template("referrals/my_leads.html", leads=network.leads_of(current_user))


from referrals import staff_views  # noqa: E402,F401  (routes register on bp)
