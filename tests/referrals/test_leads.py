"""Leads (issue 3, point 8): refer a customer, round-robin to sales reps (also under
concurrency), the pipeline's legal and illegal transitions, what the referrer sees, and a won
lead credited to the chain."""

from __future__ import annotations

from collections import Counter
from itertools import count

import pytest
from flask import current_app
from sqlalchemy import select

from referrals.models import EventKind, Lead, LeadStatus
from referrals.models.leads import Timeline
from referrals.services import leads
from referrals.services.network import network_of
from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.catalog.models import SalesMode
from shop.errors import NotAllowed
from shop.extensions import db
from tests.conftest import login, outbox
from tests.referrals.conftest import events, footprint

FORM = {
    "customer_name": "Carl Customer",
    "customer_phone": "+86 139 1234 5678",
    "customer_email": "",
    "company": "Acme",
    "need": "Purifier for a flat",
    "budget": "8000.00",
    "timeline": "quarter",
    "consent": "y",
}


_CUSTOMERS = count(1)


def lead_input(**changes) -> leads.LeadInput:
    """A lead for a customer of their own (a phone number not given before), unless ``changes``
    say otherwise: a referrer's second open lead for the same customer is refused."""
    values = (
        dict(
            customer_name="Carl",
            customer_phone=f"+86 139 0000 {next(_CUSTOMERS) % 10_000:04d}",
            customer_email="",
            company="",
            need="A quote",
            budget=None,
            timeline=Timeline.now,
            consent=True,
        )
        | changes
    )
    return leads.LeadInput(**values)


@pytest.fixture
def lead_product(make_product):
    return make_product(name="Water Purifier", sales_mode=SalesMode.lead)


@pytest.fixture
def reps(make_user):
    return [make_user(name=f"Rep {n}", role=Role.sales) for n in range(3)]


def submit(user, product, **changes) -> Lead:
    with current_app.test_request_context():
        lead = leads.submit_lead(user, product, lead_input(**changes))
    db.session.commit()
    return lead


def test_referring_a_customer_through_the_form(app, client, employee, make_contact, lead_product, reps):
    contact = make_contact(employee)
    login(client, contact)
    response = client.post_form(f"/refer/{lead_product.slug}", FORM)
    assert response.status_code == 302 and response.headers["Location"] == "/leads"
    lead = db.session.scalar(select(Lead))
    assert (lead.customer_name, lead.company, lead.budget, lead.timeline, lead.status) == (
        "Carl Customer",
        "Acme",
        800_000,
        Timeline.quarter,
        LeadStatus.new,
    )
    assert (lead.referrer_id, lead.referrer_level, lead.root_employee_id, lead.l1_contact_id) == (
        contact.id,
        1,
        employee.id,
        None,
    )
    assert lead.assignee_id == reps[0].id and lead.consent_at is not None
    [consultation] = events(EventKind.consultation)
    assert (
        consultation.actor_id,
        consultation.lead_id,
        consultation.product_id,
        consultation.source,
        consultation.root_employee_id,
    ) == (contact.id, lead.id, lead_product.id, "lead", employee.id)
    [mail] = outbox(app)
    assert "Rep 0" in mail and "New lead: Water Purifier" in mail
    html = client.get("/leads").get_data(as_text=True)
    assert "Carl Customer" in html and "new" in html


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"consent": ""}, "consent"),
        ({"customer_phone": "", "customer_email": ""}, "phone number or e-mail"),
        ({"customer_phone": "call me"}, "not a phone number"),
        ({"customer_email": "nope"}, "e-mail"),
        ({"need": ""}, "This field is required"),
        ({"budget": "-5"}, "Enter an amount"),
        ({"timeline": "someday"}, "Not a valid choice"),
    ],
)
def test_bad_lead_forms_are_refused_with_422_and_write_nothing(client, employee, lead_product, reps, changes, message):
    login(client, employee)
    before = footprint()
    response = client.post_form(f"/refer/{lead_product.slug}", FORM | changes)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert footprint() == before


def test_only_lead_products_take_leads(client, employee, make_product):
    login(client, employee)
    direct = make_product()
    assert client.get(f"/refer/{direct.slug}").status_code == 404
    assert client.post_form(f"/refer/{direct.slug}", FORM).status_code == 404
    with pytest.raises(leads.LeadError):
        leads.submit_lead(employee, direct, lead_input())


def test_leads_go_round_robin_to_active_sales_reps(employee, lead_product, reps, make_user):
    make_user(role=Role.operator)
    reps[1].is_active_flag = False
    db.session.commit()
    assignees = [submit(employee, lead_product).assignee_id for _ in range(5)]
    assert assignees == [reps[0].id, reps[2].id, reps[0].id, reps[2].id, reps[0].id]


def test_without_sales_reps_a_lead_waits_unassigned(employee, lead_product):
    assert submit(employee, lead_product).assignee_id is None


@pytest.mark.slow
def test_round_robin_holds_under_concurrency(app, employee, lead_product, reps):
    from tests.test_concurrency import run_together

    product_id, employee_id = lead_product.id, employee.id

    def job():
        from shop.accounts.models import User
        from shop.catalog.models import Product

        with app.test_request_context():
            return leads.submit_lead(
                db.session.get(User, employee_id), db.session.get(Product, product_id), lead_input()
            ).assignee_id

    outcomes = run_together(app, [job] * 9)
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert Counter(outcomes) == {rep.id: 3 for rep in reps}
    assert Counter(db.session.scalars(select(Lead.assignee_id))) == {rep.id: 3 for rep in reps}


LEGAL = [
    (LeadStatus.new, LeadStatus.contacted),
    (LeadStatus.new, LeadStatus.lost),
    (LeadStatus.contacted, LeadStatus.qualified),
    (LeadStatus.contacted, LeadStatus.lost),
    (LeadStatus.qualified, LeadStatus.won),
    (LeadStatus.qualified, LeadStatus.lost),
]
PATHS = {
    LeadStatus.new: [],
    LeadStatus.contacted: [LeadStatus.contacted],
    LeadStatus.qualified: [LeadStatus.contacted, LeadStatus.qualified],
    LeadStatus.won: [LeadStatus.contacted, LeadStatus.qualified, LeadStatus.won],
    LeadStatus.lost: [LeadStatus.lost],
}


def lead_at(status: LeadStatus, referrer, product, rep) -> Lead:
    lead = submit(referrer, product)
    with current_app.test_request_context():
        for step in PATHS[status]:
            leads.move_lead(
                rep,
                lead,
                step,
                amount=100 if step == LeadStatus.won else None,
                reason="no budget" if step == LeadStatus.lost else None,
            )
    db.session.commit()
    return lead


@pytest.mark.parametrize("start, target", [(s, t) for s in LeadStatus for t in LeadStatus])
def test_pipeline_transitions_legal_and_illegal(employee, lead_product, reps, start, target):
    lead = lead_at(start, employee, lead_product, reps[0])
    audit_before = db.session.query(AuditEntry).filter_by(action="lead.status").count()
    with current_app.test_request_context():
        if (start, target) in LEGAL:
            leads.move_lead(reps[0], lead, target, amount=50_000, reason="too expensive")
            db.session.commit()
            assert lead.status == target
            assert db.session.query(AuditEntry).filter_by(action="lead.status").count() == audit_before + 1
        else:
            with pytest.raises(NotAllowed):
                leads.move_lead(reps[0], lead, target, amount=50_000, reason="too expensive")
            db.session.rollback()
            assert db.session.get(Lead, lead.id).status == start


def test_won_needs_an_amount_and_lost_a_reason(employee, lead_product, reps):
    lead = lead_at(LeadStatus.qualified, employee, lead_product, reps[0])
    with current_app.test_request_context():
        with pytest.raises(leads.LeadError):
            leads.move_lead(reps[0], lead, LeadStatus.won)
        with pytest.raises(leads.LeadError):
            leads.move_lead(reps[0], lead, LeadStatus.lost, reason="  ")
    db.session.rollback()
    assert db.session.get(Lead, lead.id).status == LeadStatus.qualified


def test_sales_page_moves_a_lead_and_refuses_illegal_steps(app, client, employee, make_contact, lead_product, reps):
    contact = make_contact(employee)
    lead = submit(contact, lead_product)
    rep = reps[0]
    login(client, rep)
    assert "Carl" in client.get("/sales").get_data(as_text=True)
    url = f"/sales/leads/{lead.id}"
    response = client.post_form(url, {"status": "won", "amount": "900.00"}, token_from=url)
    assert response.status_code == 422 and "cannot become won" in response.get_data(as_text=True)
    for step in ("contacted", "qualified"):
        assert client.post_form(url, {"status": step}, token_from=url).status_code == 302
    assert client.post_form(url, {"status": "won"}, token_from=url).status_code == 422  # no amount
    assert client.post_form(url, {"status": "won", "amount": "900.00"}, token_from=url).status_code == 302
    db.session.refresh(lead)
    assert (lead.status, lead.amount) == (LeadStatus.won, 90_000)
    assert any("is now: won" in message for message in outbox(app))  # the referrer is told
    # The referrer sees the status; the chain is credited.
    login(client, contact)
    assert "won" in client.get("/leads").get_data(as_text=True)
    assert (network_of(employee).totals.leads_won, network_of(employee).totals.lead_amount) == (1, 90_000)
    assert network_of(contact).own.lead_amount == 90_000


def test_sales_reps_see_only_their_own_leads(client, employee, lead_product, reps, admin):
    first, second = submit(employee, lead_product), submit(employee, lead_product)
    login(client, reps[0])
    assert client.get(f"/sales/leads/{first.id}").status_code == 200
    assert client.get(f"/sales/leads/{second.id}").status_code == 404
    assert client.post_form(f"/sales/leads/{second.id}", {"status": "contacted"}).status_code == 404
    login(client, admin)
    assert client.get(f"/sales/leads/{second.id}").status_code == 200
    login(client, employee)
    assert client.get(f"/sales/leads/{first.id}").status_code == 403
