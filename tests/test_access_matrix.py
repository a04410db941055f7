"""Who may open what: every route of the app for anonymous, employee, operator and admin.

The matrix is checked against the app's URL map, so a new route without an entry here fails.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask import current_app, url_for
from PIL import Image

from shop.accounts import roster_imports
from shop.cart.services import add_to_cart
from shop.catalog.services import add_image
from shop.extensions import db
from shop.quotas.services import ensure_default_rules, grant_exception
from shop.settlement.services import record_settlement
from tests.conftest import login

ROLES = ("anonymous", "employee", "operator", "admin")
LOGIN = "login"  # a redirect to the log-in page

OPEN = dict.fromkeys(ROLES, 200)
MEMBERS = {"anonymous": LOGIN, "employee": 200, "operator": 200, "admin": 200}
OPERATORS = {"anonymous": LOGIN, "employee": 403, "operator": 200, "admin": 200}
ADMINS = {"anonymous": LOGIN, "employee": 403, "operator": 403, "admin": 200}
GUESTS_ONLY = {"anonymous": 200, "employee": 302, "operator": 302, "admin": 302}
# The employee owns the order and the cart line; the others are not found.
OWNER = {"anonymous": LOGIN, "employee": 200, "operator": 404, "admin": 404}


def _post(expectations: dict) -> dict:
    """A POST that succeeds redirects (302); the refusals stay what they are."""
    return {role: 302 if code == 200 else code for role, code in expectations.items()}


MATRIX: dict[tuple[str, str], dict[str, int | str]] = {
    ("static", "GET"): OPEN,
    ("media.media", "GET"): OPEN,
    ("health.healthz", "GET"): OPEN,
    ("accounts.signup", "GET"): GUESTS_ONLY,
    ("accounts.signup", "POST"): {"anonymous": 422, "employee": 302, "operator": 302, "admin": 302},
    ("accounts.login", "GET"): GUESTS_ONLY,
    ("accounts.login", "POST"): {"anonymous": 422, "employee": 302, "operator": 302, "admin": 302},
    ("accounts.logout", "POST"): {"anonymous": LOGIN, "employee": 302, "operator": 302, "admin": 302},
    ("accounts.account", "GET"): MEMBERS,
    ("accounts.account", "POST"): {"anonymous": LOGIN, "employee": 422, "operator": 422, "admin": 422},
    ("accounts.change_password", "GET"): {"anonymous": LOGIN, "employee": 302, "operator": 302, "admin": 302},
    ("accounts.change_password", "POST"): {"anonymous": LOGIN, "employee": 422, "operator": 422, "admin": 422},
    ("accounts.logout_everywhere", "POST"): {"anonymous": LOGIN, "employee": 302, "operator": 302, "admin": 302},
    ("accounts.verify", "GET"): dict.fromkeys(ROLES, 302),
    ("accounts.set_language", "POST"): dict.fromkeys(ROLES, 400),  # no language chosen in the post
    ("accounts.reset_request", "GET"): OPEN,
    ("accounts.reset_request", "POST"): dict.fromkeys(ROLES, 422),
    ("accounts.reset_password", "GET"): dict.fromkeys(ROLES, 302),  # an unusable link: ask for another
    ("accounts.reset_password", "POST"): dict.fromkeys(ROLES, 422),
    ("catalog.home", "GET"): OPEN,
    ("catalog.category", "GET"): MEMBERS,
    ("catalog.search", "GET"): MEMBERS,
    ("catalog.product", "GET"): MEMBERS,
    ("cart.view", "GET"): MEMBERS,
    ("cart.add", "POST"): _post(MEMBERS),
    ("cart.update", "POST"): _post(OWNER),
    ("cart.remove", "POST"): _post(OWNER),
    ("orders.checkout", "GET"): OWNER | {"operator": 302, "admin": 302},  # an empty cart goes back
    ("orders.checkout", "POST"): {"anonymous": LOGIN, "employee": 422, "operator": 302, "admin": 302},
    ("orders.mine", "GET"): MEMBERS,
    ("orders.regions_below", "GET"): MEMBERS,
    ("orders.detail", "GET"): OWNER,
    ("orders.pay", "POST"): _post(OWNER),
    ("orders.cancel", "POST"): _post(OWNER),
    # Card payment is not configured here: starting one is refused with a message (a redirect),
    # the card page sends the owner back to the order, and the webhook refuses every post.
    ("payments.start", "POST"): _post(OWNER),
    ("payments.card_page", "GET"): OWNER | {"employee": 302},
    ("payments.webhook", "POST"): dict.fromkeys(ROLES, 400),
    ("payments.fake_confirm", "POST"): OWNER | {"employee": 404},  # only with a fake Stripe server
    ("payments.ops_reconcile", "GET"): OPERATORS,
    ("payments.ops_reconcile", "POST"): _post(OPERATORS),
    ("ops.dashboard", "GET"): OPERATORS,
    ("ops.caches", "GET"): OPERATORS,
    ("ops.categories", "GET"): OPERATORS,
    ("ops.categories", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    ("ops.edit_category", "GET"): OPERATORS,
    ("ops.edit_category", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    ("ops.products", "GET"): OPERATORS,
    ("ops.new_product", "GET"): OPERATORS,
    ("ops.new_product", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    ("ops.edit_product", "GET"): OPERATORS,
    # Fields missing from the post keep their values, as in any partial resubmission.
    ("ops.edit_product", "POST"): _post(OPERATORS),
    ("ops.new_variant", "GET"): OPERATORS,
    ("ops.new_variant", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    ("ops.edit_variant", "GET"): OPERATORS,
    ("ops.edit_variant", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    ("ops.adjust_stock", "POST"): _post(OPERATORS),
    ("ops.upload_image", "POST"): _post(OPERATORS),
    ("ops.delete_image", "POST"): _post(OPERATORS),
    ("ops.orders", "GET"): OPERATORS,
    ("ops.order", "GET"): OPERATORS,
    ("ops.orders_csv", "GET"): OPERATORS,
    ("ops.ship_selected", "POST"): _post(OPERATORS),
    ("ops.upload_shipments", "GET"): OPERATORS,
    ("ops.upload_shipments", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    ("ops.packing_list", "GET"): OPERATORS | {"operator": 302, "admin": 302},
    ("ops.ship", "POST"): _post(OPERATORS),
    ("ops.complete", "POST"): _post(OPERATORS),
    ("ops.refund", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    ("ops.payroll", "GET"): OPERATORS,
    ("ops.payroll_export", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    ("ops.payroll_file", "GET"): OPERATORS,
    ("ops.festivals", "GET"): OPERATORS,
    ("ops.new_festival", "GET"): OPERATORS,
    ("ops.new_festival", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    ("ops.festival", "GET"): OPERATORS,
    ("ops.festival", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    ("ops.allocate", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    ("ops.festival_banner", "POST"): OPERATORS | {"operator": 422, "admin": 422},  # no file
    ("ops.remove_festival_banner", "POST"): _post(OPERATORS),
    # Festivals (a festival in preheat with one item): remind me succeeds, an empty buy form is invalid.
    ("festivals.index", "GET"): MEMBERS,
    ("festivals.festival", "GET"): MEMBERS,
    ("festivals.remind", "POST"): _post(MEMBERS),
    ("festivals.buy", "GET"): _post(MEMBERS),  # to the festival's page
    ("festivals.buy", "POST"): MEMBERS | {"employee": 422, "operator": 422, "admin": 422},
    ("festivals.new_address", "GET"): MEMBERS,
    ("festivals.new_address", "POST"): MEMBERS | {"employee": 422, "operator": 422, "admin": 422},
    ("ops.quotas", "GET"): OPERATORS,
    ("ops.quotas", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    ("ops.quota", "GET"): OPERATORS,
    ("ops.quota", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    ("ops.grant_quota_exception", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    # Without a reason the revocation is refused with a message on the rule's page (a redirect).
    ("ops.revoke_quota_exception", "POST"): _post(OPERATORS),
    ("admin.users", "GET"): ADMINS,
    ("admin.user", "GET"): ADMINS,
    ("admin.set_role", "POST"): ADMINS | {"admin": 422},
    ("admin.set_active", "POST"): ADMINS | {"admin": 422},
    ("admin.roster_upload", "GET"): ADMINS,
    ("admin.roster_upload", "POST"): ADMINS | {"admin": 422},
    ("admin.roster_import", "GET"): ADMINS,
    ("admin.audit", "GET"): ADMINS,
    ("admin.audit_csv", "GET"): ADMINS,
    # The knowledge community (contacts are checked in test_community_access).
    ("community.home", "GET"): MEMBERS,
    ("community.search", "GET"): MEMBERS,
    ("community.suggest", "GET"): MEMBERS,
    ("community.articles", "GET"): MEMBERS,
    ("community.article", "GET"): MEMBERS,
    ("community.new_article", "GET"): MEMBERS,
    ("community.new_article", "POST"): MEMBERS | {"employee": 422, "operator": 422, "admin": 422},
    ("community.edit_article", "GET"): MEMBERS,  # the employee's own pending article
    ("community.edit_article", "POST"): _post(MEMBERS),  # missing fields keep their values, as for products
    ("community.publish_article", "POST"): _post(OPERATORS),
    ("community.reject_article", "POST"): _post(OPERATORS),
    ("community.review_article", "POST"): _post(OPERATORS),
    ("community.questions", "GET"): MEMBERS,
    ("community.question", "GET"): MEMBERS,
    ("community.ask", "GET"): MEMBERS,
    ("community.ask", "POST"): MEMBERS | {"employee": 422, "operator": 422, "admin": 422},
    ("community.answer", "GET"): _post(MEMBERS),  # to the question's page
    ("community.answer", "POST"): MEMBERS | {"employee": 422, "operator": 422, "admin": 422},
    ("community.edit_question", "GET"): MEMBERS,  # the employee asked it
    ("community.edit_question", "POST"): _post(MEMBERS),
    ("community.edit_answer", "GET"): OPERATORS,  # the operator's answer
    ("community.edit_answer", "POST"): _post(OPERATORS),
    ("community.vote_question", "POST"): _post(MEMBERS),
    ("community.vote_answer", "POST"): _post(MEMBERS),
    ("community.accept_answer", "POST"): _post(MEMBERS),  # the asker and the operators
    ("community.moderate_post", "POST"): _post(OPERATORS),
    ("community.tickets", "GET"): MEMBERS,
    ("community.ticket", "GET"): MEMBERS,  # the employee's own ticket; operators see every ticket
    ("community.reply_ticket", "POST"): MEMBERS | {"employee": 422, "operator": 422, "admin": 422},
    ("community.reopen_ticket", "POST"): _post(MEMBERS),
    ("community.assign_ticket", "POST"): _post(OPERATORS),
    ("community.resolve_ticket", "POST"): _post(OPERATORS),
    ("community.ticket_to_article", "POST"): _post(OPERATORS),
    ("community.ticket_queue", "GET"): OPERATORS,
    ("community.review_queue", "GET"): OPERATORS,
    ("community.metrics", "GET"): OPERATORS,
    ("referrals.join", "GET"): GUESTS_ONLY,  # members are sent home
    ("referrals.join", "POST"): {"anonymous": 422, "employee": 302, "operator": 302, "admin": 302},
    ("referrals.share", "GET"): MEMBERS,
    ("referrals.share", "POST"): MEMBERS | {"employee": 422, "operator": 422, "admin": 422},
    ("referrals.poster", "GET"): MEMBERS,
    ("referrals.card", "GET"): OPEN,  # the picture of a link card in a chat app
    ("referrals.my_network", "GET"): MEMBERS,
    ("referrals.member", "GET"): OWNER,  # the employee's own contact; another chain's is not found
    ("referrals.refer", "GET"): MEMBERS,
    ("referrals.refer", "POST"): MEMBERS | {"employee": 422, "operator": 422, "admin": 422},
    ("referrals.my_leads", "GET"): MEMBERS,
    ("referrals.sales", "GET"): ADMINS,  # sales reps and admins; no sales rep among these roles
    ("referrals.sales_lead", "GET"): ADMINS,
    ("referrals.sales_lead", "POST"): ADMINS | {"admin": 422},
    ("referrals.sales_due", "GET"): ADMINS,
    ("referrals.lead_note", "POST"): ADMINS | {"admin": 422},
    ("referrals.lead_follow_up", "POST"): _post(ADMINS),  # an empty day clears the follow-up
    ("referrals.lead_assign", "POST"): ADMINS | {"admin": 422},
    ("admin.invite", "POST"): _post(ADMINS),
    ("accounts.welcome", "GET"): dict.fromkeys(ROLES, 302),
    ("accounts.welcome", "POST"): dict.fromkeys(ROLES, 422),
    ("referrals.chains_page", "GET"): OPERATORS,
    ("referrals.move_chain", "POST"): OPERATORS | {"operator": 422, "admin": 422},
    ("referrals.promote", "POST"): ADMINS | {"admin": 422},
    ("referrals.flags", "GET"): OPERATORS,
    ("leaderboards.show", "GET"): MEMBERS,
    ("kpis.static", "GET"): OPEN,
    ("kpis.dashboard", "GET"): OPERATORS,
    ("kpis.section", "GET"): OPERATORS,
    ("kpis.download", "GET"): OPERATORS,
    ("kpis.employee", "GET"): OPERATORS,
    ("kpis.employee_csv", "GET"): OPERATORS,
    ("kpis_member.my_funnel_csv", "GET"): MEMBERS,  # the viewer's own chain only
}


def app_request_context():
    return current_app.test_request_context()


def _routes(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method) for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_has_an_entry(app):
    routes = _routes(app)
    assert routes - MATRIX.keys() == set(), "new routes need an entry in the access matrix"
    assert MATRIX.keys() - routes == set(), "the matrix names routes that no longer exist"


@pytest.fixture
def world(make_user, employee, operator, admin, product, make_product, place, make_festival, make_festival_item):
    from referrals.models.leads import Timeline
    from referrals.services.leads import LeadInput, submit_lead
    from shop.accounts.models import Kind
    from shop.catalog.festival_models import Phase
    from shop.catalog.models import SalesMode

    contact = make_user(kind=Kind.contact, level=1, referrer_id=employee.id, root_employee_id=employee.id)
    lead_product = make_product(sales_mode=SalesMode.lead)
    shared = make_product()  # the operators' posts may deactivate ``product`` before these run
    with app_request_context():
        lead = submit_lead(
            contact,
            lead_product,
            LeadInput("Carl Customer", "+86 139 0000 0000", "", "", "A quote", None, Timeline.now, True),
        )
    from tests.test_community_access import community_world

    community = community_world(employee, operator, product)
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, "PNG")
    image = add_image(admin, product, png.getvalue())
    settlement = record_settlement(admin, date(2026, 10, 1))
    order = place(employee, product.variants[0], 1)
    line = add_to_cart(employee, product.variants[0].id, 1)
    doomed_line = add_to_cart(employee, make_product().variants[0].id, 1)
    festival = make_festival(phase=Phase.preheat)
    festival_item = make_festival_item(festival, make_product().variants[0], 2)
    [rule, _yearly] = ensure_default_rules()
    exception = grant_exception(admin, rule, employee, 1, "Moving house")
    roster_import = roster_imports.queue(
        b"employee_no,email,name,department\nE901,12345,\xe7\x8e\x8b\xe8\x8a\xb3,\n",
        filename="roster.csv",
        actor=admin,
        deactivate_missing=False,
    )
    db.session.commit()
    roster_imports.run_pending()  # done: its page shows the report (a page still running reloads itself)
    return {
        "users": {"employee": employee, "operator": operator, "admin": admin},
        "params": {
            "static": {"filename": "shop.css"},
            "media.media": {"filename": image.filename},
            "accounts.verify": {"token": "not-a-token"},
            "accounts.reset_password": {"token": "not-a-token"},
            "catalog.category": {"slug": product.category.slug},
            "catalog.search": {"q": "tea"},
            "catalog.product": {"slug": product.slug},
            "cart.update": {"line_id": line.id},
            "cart.remove": {"line_id": doomed_line.id},
            "orders.detail": {"order_id": order.id},
            "orders.pay": {"order_id": order.id},
            "orders.cancel": {"order_id": order.id},
            "payments.start": {"order_id": order.id},
            "payments.card_page": {"order_id": order.id},
            "payments.fake_confirm": {"order_id": order.id},
            "ops.edit_category": {"category_id": product.category_id},
            "ops.edit_product": {"product_id": product.id},
            "ops.new_variant": {"product_id": product.id},
            "ops.edit_variant": {"variant_id": product.variants[0].id},
            "ops.adjust_stock": {"variant_id": product.variants[0].id},
            "ops.upload_image": {"product_id": product.id},
            "ops.delete_image": {"image_id": image.id},
            "ops.order": {"order_id": order.id},
            "ops.ship": {"order_id": order.id},
            "ops.complete": {"order_id": order.id},
            "ops.refund": {"order_id": order.id},
            "ops.payroll_file": {"settlement_id": settlement.id, "kind": "employees"},
            "ops.festival": {"festival_id": festival.id},
            "admin.roster_import": {"import_id": roster_import.id},
            "ops.allocate": {"festival_id": festival.id},
            "ops.festival_banner": {"festival_id": festival.id},
            "ops.remove_festival_banner": {"festival_id": festival.id},
            "festivals.festival": {"slug": festival.slug},
            "festivals.remind": {"slug": festival.slug},
            "festivals.buy": {"slug": festival.slug, "item_id": festival_item.id},
            "festivals.new_address": {"slug": festival.slug},
            "ops.quota": {"rule_id": rule.id},
            "ops.grant_quota_exception": {"rule_id": rule.id},
            "ops.revoke_quota_exception": {"rule_id": rule.id, "exception_id": exception.id},
            "admin.user": {"user_id": employee.id},
            "admin.set_role": {"user_id": employee.id},
            "admin.set_active": {"user_id": employee.id},
            **community,
            "referrals.join": {"code": employee.referral_code},
            "referrals.share": {"slug": shared.slug},
            "referrals.poster": {"slug": shared.slug},
            "referrals.member": {"user_id": contact.id},
            "referrals.refer": {"slug": lead_product.slug},
            "referrals.sales_lead": {"lead_id": lead.id},
            "referrals.lead_note": {"lead_id": lead.id},
            "referrals.lead_follow_up": {"lead_id": lead.id},
            "referrals.lead_assign": {"lead_id": lead.id},
            "admin.invite": {"user_id": employee.id},
            "accounts.welcome": {"token": "not-a-token"},
            "leaderboards.show": {"slug": festival.slug},
            "kpis.static": {"filename": "kpis.js"},
            "kpis.section": {"section": "long-tail"},
            "kpis.download": {"section": "funnel", "name": "employees"},
            "kpis.employee": {"user_id": employee.id},
            "kpis.employee_csv": {"user_id": employee.id},
        },
    }


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app, client, world, role):
    if role != "anonymous":
        login(client, world["users"][role])
    token = client.csrf_token("/login" if role == "anonymous" else "/")
    failures = []
    for (endpoint, method), expectations in sorted(MATRIX.items()):
        with app.test_request_context():
            url = url_for(endpoint, **world["params"].get(endpoint, {}))
        response = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": token})
        response.close()
        expected = expectations[role]
        if expected == LOGIN:
            ok = response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            ok = response.status_code == expected
        if not ok:
            failures.append(f"{method} {url} ({endpoint}): {response.status_code}, expected {expected}")
        if endpoint in ("accounts.logout", "accounts.logout_everywhere") and role != "anonymous":
            login(client, world["users"][role])  # under the user's new session token
            token = client.csrf_token("/")  # the session was cleared: a new CSRF token
    assert failures == [], "\n".join(failures)
