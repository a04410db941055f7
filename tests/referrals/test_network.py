"""My network and attribution (issue 3, points 4 and 5): the viewer's own chain only, names and
aggregates, never addresses; orders keep the chain they were placed in."""

from __future__ import annotations

from referrals.services import events as event_log
from referrals.services import visits
from referrals.services.chains import move_contacts
from referrals.services.network import member_of, network_of
from referrals.views import NETWORK_NESTED, NETWORK_PER_PAGE
from shop.accounts.services import deactivate
from shop.database import utcnow
from shop.extensions import db
from shop.payments.payroll import pay_by_payroll
from tests.conftest import login


def test_employee_sees_l1_contacts_with_their_l2_contacts_and_figures(
    client, employee, make_contact, make_product, place
):
    variant = make_product(employee_price=7_000, contact_price=8_500).variants[0]
    lena = make_contact(employee, name="Lena One")
    tom = make_contact(lena, name="Tom Two")
    make_contact(employee, name="Lonely One")
    own = place(employee, variant, 2)
    pay_by_payroll(employee, own)
    place(tom, variant, 1)  # placed, not paid: no revenue
    login(client, employee)
    html = client.get("/network").get_data(as_text=True)
    assert "Lena One" in html and "Tom Two" in html and "Lonely One" in html
    assert html.index("Lena One") < html.index("Tom Two") < html.index("Lonely One")  # L2 under their L1
    network = network_of(employee)
    assert (network.l1_count, network.l2_count) == (2, 1)
    assert [(m.user.name, [c.user.name for c in m.contacts]) for m in network.members] == [
        ("Lena One", ["Tom Two"]),
        ("Lonely One", []),
    ]
    assert (network.own.orders, network.own.revenue) == (1, 14_000)
    assert (network.totals.orders, network.totals.revenue) == (1, 14_000)
    # Names and aggregates only: no e-mail and no shipping address of anybody in the chain,
    # neither on the page nor read for it.
    for person in (lena, tom):
        assert person.email not in html
    people = [m.user for m in network.members] + [c.user for m in network.members for c in m.contacts]
    assert not any(hasattr(p, "email") or hasattr(p, "password_hash") for p in people)
    assert "Century Avenue" not in html and "+86" not in html


def test_l1_contact_sees_only_their_own_l2_contacts(client, employee, make_contact):
    lena = make_contact(employee, name="Lena One")
    make_contact(lena, name="Tom Two")
    other_l1 = make_contact(employee, name="Other One")
    hidden = make_contact(other_l1, name="Hidden Two")
    login(client, lena)
    html = client.get("/network").get_data(as_text=True)
    assert "Tom Two" in html and "Hidden Two" not in html and "Other One" not in html
    assert client.get(f"/network/{hidden.id}").status_code == 404
    assert client.get(f"/network/{employee.id}").status_code == 404


def test_another_chains_people_are_not_found(client, employee, make_user, make_contact):
    stranger = make_user(name="Stella Stranger")
    theirs = make_contact(stranger, name="Their Friend")
    theirs_l2 = make_contact(theirs)
    mine = make_contact(employee, name="My Friend")
    login(client, employee)
    assert client.get(f"/network/{mine.id}").status_code == 200
    for person in (stranger, theirs, theirs_l2, employee):
        assert client.get(f"/network/{person.id}").status_code == 404
    assert client.get("/network/999999").status_code == 404
    assert "Their Friend" not in client.get("/network").get_data(as_text=True)


def test_member_page_shows_name_aggregates_and_contacts_but_no_address(client, employee, make_contact, make_address):
    lena = make_contact(employee, name="Lena One")
    tom = make_contact(lena, name="Tom Two")
    make_address(lena)
    login(client, employee)
    html = client.get(f"/network/{lena.id}").get_data(as_text=True)
    assert "Lena One" in html and "Tom Two" in html
    assert lena.email not in html and tom.email not in html and "Century Avenue" not in html


def test_l2_contact_has_no_network_to_show(client, employee, make_contact):
    l2 = make_contact(make_contact(employee))
    login(client, l2)
    html = client.get("/network").get_data(as_text=True)
    assert "they cannot join through your link" in html
    assert network_of(l2).members == []


def test_orders_store_attribution_and_the_operator_sees_the_chain(
    client, operator, employee, make_contact, make_product, place
):
    variant = make_product().variants[0]
    lena = make_contact(employee, name="Lena One")
    tom = make_contact(lena, name="Tom Two")
    orders = {who.name: place(who, variant, 1) for who in (employee, lena, tom)}
    assert [(o.buyer_level, o.root_employee_id, o.l1_contact_id) for o in orders.values()] == [
        (0, employee.id, None),
        (1, employee.id, None),
        (2, employee.id, lena.id),
    ]
    login(client, operator)
    html = client.get(f"/ops/orders/{orders['Tom Two'].id}").get_data(as_text=True)
    assert "root employee: Erin Employee" in html and "L1: Lena One" in html and "L2" in html


def test_a_large_chain_is_shown_a_page_of_contacts_at_a_time(client, employee, make_contact):
    """25 first-level contacts a page, five of each one's own under them; the totals count all."""
    first = [make_contact(employee, name=f"First {i:02d}") for i in range(NETWORK_PER_PAGE + 2)]
    for j in range(NETWORK_NESTED + 3):
        make_contact(first[0], name=f"Under {j:02d}")
    login(client, employee)
    html = client.get("/network").get_data(as_text=True)
    assert "First 00" in html and f"First {NETWORK_PER_PAGE - 1:02d}" in html
    assert f"First {NETWORK_PER_PAGE:02d}" not in html
    assert f"Under {NETWORK_NESTED - 1:02d}" in html and f"Under {NETWORK_NESTED:02d}" not in html
    assert "and 3 more of First 00" in html and f"/network/{first[0].id}" in html
    assert f"L1 contacts: <strong>{NETWORK_PER_PAGE + 2}</strong>" in html.replace("\n", "")
    second = client.get("/network?page=2").get_data(as_text=True)
    assert f"First {NETWORK_PER_PAGE:02d}" in second and "First 00" not in second
    member = client.get(f"/network/{first[0].id}").get_data(as_text=True)
    assert f"Under {NETWORK_NESTED + 2:02d}" in member  # every one on the contact's own page


def test_a_large_chain_is_read_a_page_at_a_time_with_totals_of_everyone(
    client, employee, make_contact, make_product, place
):

    variant = make_product().variants[0]
    first_l1s = [make_contact(employee, name=f"First {n:02d}") for n in range(3)]
    for n in range(NETWORK_NESTED + 2):
        make_contact(first_l1s[0], name=f"Nested {n:02d}")
    for n in range(NETWORK_PER_PAGE):
        make_contact(employee, name=f"Later {n:02d}")
    buyer = make_contact(first_l1s[1], name="Buyer Two")
    order = place(buyer, variant, 1)
    order.paid_at = utcnow()  # paid (how does not matter here)
    db.session.commit()
    everyone = network_of(employee)
    page = network_of(employee, first=0, limit=2, nested=NETWORK_NESTED)
    assert [m.user.name for m in page.members] == ["First 00", "First 01"]
    assert page.top_count == len(everyone.members) == 3 + NETWORK_PER_PAGE
    past_the_end = network_of(employee, first=3 + NETWORK_PER_PAGE, limit=2, nested=NETWORK_NESTED)
    assert past_the_end.members == [] and past_the_end.top_count == 3 + NETWORK_PER_PAGE
    assert len(page.members[0].contacts) == NETWORK_NESTED and page.members[0].contact_count == NETWORK_NESTED + 2
    assert page.members[1].contacts[0].figures.orders == 1
    assert (page.totals, page.l1_count, page.l2_count) == (everyone.totals, everyone.l1_count, everyone.l2_count)
    assert page.totals.orders == 1
    assert [c.user.name for c in member_of(employee, first_l1s[0].id).contacts] == [
        f"Nested {n:02d}" for n in range(NETWORK_NESTED + 2)
    ]
    login(client, employee)
    html = client.get("/network").get_data(as_text=True)
    assert "Later 21" in html and "Later 22" not in html  # 3 + 22 on the first page
    assert "and 2 more of First 00" in html
    assert "Later 22" in client.get("/network?page=2").get_data(as_text=True)


def test_the_chains_shares_visits_and_sign_ups_stay_where_they_were_made(employee, operator, make_user, make_contact):
    """The totals count a chain's link events as they were credited when written (like its
    orders): a moved contact's earlier shares and visits stay with the chain they were in."""
    lena = make_contact(employee, name="Lena One")
    tom = make_contact(lena, name="Tom Two")
    now = utcnow()
    for person in (lena, tom):
        assert event_log.record_share(person, source="link", at=now)
        assert visits.record_visit(person, visitor=f"a:{person.id}", now=now)
    db.session.commit()
    before = network_of(employee).totals
    assert (before.shares, before.visits) == (2, 2)
    assert (network_of(lena).totals.shares, network_of(lena).totals.visits) == (2, 2)  # hers and Tom's
    assert (network_of(tom).totals.shares, network_of(tom).totals.visits) == (1, 1)

    heir = make_user(name="Hank Heir")
    deactivate(None, employee, "left the company")
    move_contacts(operator, employee, heir, reason="left")
    db.session.commit()
    assert event_log.record_share(lena, source="poster", at=now)
    db.session.commit()
    assert (network_of(employee).totals.shares, network_of(employee).totals.visits) == (2, 2)
    assert (network_of(heir).totals.shares, network_of(heir).totals.visits) == (1, 0)
    assert network_of(lena).totals.shares == 3  # her two, wherever she was, and Tom's
