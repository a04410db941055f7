"""The sales pipeline's working day (issue 20, point 5): notes, the next follow-up day and the
"due today" list, reassignment by admins (audited), leads that waited for a rep assigned when
one becomes active, and the referrer told of every status change."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import select

from referrals.models import Lead, LeadStatus
from referrals.services import leads
from shop.accounts import services as accounts
from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.catalog.models import SalesMode
from shop.company_calendar import company_zone
from shop.database import utcnow
from shop.extensions import db
from tests.conftest import login, outbox
from tests.referrals.test_leads import lead_input


def submit(user, product) -> Lead:
    with current_app.test_request_context():
        lead = leads.submit_lead(user, product, lead_input())
    db.session.commit()
    return lead


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def today() -> date:
    return utcnow().astimezone(company_zone()).date()


def test_notes_follow_up_and_the_due_today_list(client, employee, make_product, make_user):
    product = make_product(name="Water Purifier", sales_mode=SalesMode.lead)
    rep = make_user(name="Rita Rep", role=Role.sales)
    due_now, later = submit(employee, product), submit(employee, product)
    login(client, rep)
    url = f"/sales/leads/{due_now.id}"
    assert client.post_form(f"{url}/note", {"body": "Called: wants a demo on site"}, token_from=url).status_code == 302
    assert client.post_form(f"{url}/note", {"body": "   "}, token_from=url).status_code == 422
    assert (
        client.post_form(f"{url}/follow-up", {"follow_up_on": today().isoformat()}, token_from=url).status_code == 302
    )
    later_url = f"/sales/leads/{later.id}"
    tomorrow = (today() + timedelta(days=1)).isoformat()
    client.post_form(f"{later_url}/follow-up", {"follow_up_on": tomorrow}, token_from=later_url)

    page = client.get(url).get_data(as_text=True)
    assert "Called: wants a demo on site" in page and "Rita Rep" in page
    due = client.get("/sales/due").get_data(as_text=True)
    assert f'href="/sales/leads/{due_now.id}"' in due and f'href="/sales/leads/{later.id}"' not in due
    assert "Due today (1)" in client.get("/sales").get_data(as_text=True)
    [entry] = [e for e in audit("lead.follow_up") if e.entity_id == due_now.id]
    assert entry.after == {"follow_up_on": today().isoformat()} and entry.actor_id == rep.id

    # Closed leads leave the list.
    with current_app.test_request_context():
        leads.move_lead(rep, due_now, LeadStatus.lost, reason="bought elsewhere")
    db.session.commit()
    assert f'href="/sales/leads/{due_now.id}"' not in client.get("/sales/due").get_data(as_text=True)


def test_admins_reassign_a_lead_and_it_is_audited(app, client, admin, employee, make_product, make_user):
    product = make_product(name="Water Purifier", sales_mode=SalesMode.lead)
    first = make_user(name="First Rep", role=Role.sales)
    second = make_user(name="Second Rep", role=Role.sales)
    lead = submit(employee, product)
    assert lead.assignee_id == first.id
    login(client, admin)
    url = f"/sales/leads/{lead.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Reassign" in page and "First Rep" in page
    assert client.post_form(f"{url}/assign", {"assignee": str(second.id)}, token_from=url).status_code == 302
    db.session.refresh(lead)
    assert lead.assignee_id == second.id
    [entry] = audit("lead.reassign")
    assert (entry.before, entry.after, entry.actor_id) == (
        {"assigned_to": "First Rep"},
        {"assigned_to": "Second Rep"},
        admin.id,
    )
    assert any("Second Rep" in m and "New lead" in m for m in outbox(app))

    login(client, second)  # a rep cannot reassign
    assert client.post_form(f"{url}/assign", {"assignee": str(first.id)}, token_from=url).status_code == 403


def test_leads_that_waited_for_a_rep_are_assigned_when_one_becomes_active(
    app, admin, employee, make_product, make_user
):
    product = make_product(name="Water Purifier", sales_mode=SalesMode.lead)
    waiting = [submit(employee, product) for _ in range(3)]
    assert all(lead.assignee_id is None for lead in waiting)
    newcomer = make_user(name="New Rep")
    returning = make_user(name="Back Rep", role=Role.sales, active=False)

    accounts.set_role(admin, newcomer, Role.sales)
    db.session.commit()
    assert {db.session.get(Lead, lead.id).assignee_id for lead in waiting} == {newcomer.id}
    assert len(audit("lead.assign")) == 3
    assert sum("New lead" in m and newcomer.email in m for m in outbox(app)) == 3

    another = submit(employee, product)  # round robin goes on as usual
    assert another.assignee_id == newcomer.id
    accounts.reactivate(admin, returning, "back from leave")
    db.session.commit()
    assert len(audit("lead.assign")) == 3  # nothing was waiting any more


def test_the_referrer_is_told_of_every_status_change(app, client, employee, make_contact, make_product, make_user):
    product = make_product(name="Water Purifier", sales_mode=SalesMode.lead)
    rep = make_user(name="Rita Rep", role=Role.sales)
    contact = make_contact(employee)
    lead = submit(contact, product)
    with current_app.test_request_context():
        leads.move_lead(rep, lead, LeadStatus.contacted)
    db.session.commit()
    assert any(contact.email in m and "is now: contacted" in m for m in outbox(app))
    login(client, contact)
    assert "contacted" in client.get("/leads").get_data(as_text=True)
