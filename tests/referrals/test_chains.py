"""Chains change only by rule (issue 3, point 7), and the operators' abuse flags (point 6)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from referrals.models import Join
from referrals.services import abuse, chains
from shop.accounts.models import Kind
from shop.accounts.services import deactivate
from shop.audit.models import AuditEntry
from shop.catalog.services import tier_for
from shop.database import utcnow
from shop.extensions import db
from shop.orders.models import Address
from tests.conftest import login


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


@pytest.fixture
def departed_chain(make_user, make_contact, make_product, place):
    departed = make_user(name="Dora Departed")
    lena = make_contact(departed, name="Lena One")
    tom = make_contact(lena, name="Tom Two")
    order = place(tom, make_product().variants[0], 1)
    deactivate(None, departed, "left the company")
    db.session.commit()
    return departed, lena, tom, order


def test_operator_moves_a_departed_employees_contacts(client, operator, make_user, departed_chain):
    departed, lena, tom, order = departed_chain
    heir = make_user(name="Hank Heir")
    login(client, operator)
    page = client.get("/ops/chains").get_data(as_text=True)
    assert "Dora Departed" in page and "2 contacts" in page
    response = client.post_form(
        "/ops/chains/move",
        {"departed": departed.id, "target": heir.id, "reason": "Dora left"},
        token_from="/ops/chains",
    )
    assert response.status_code == 302
    db.session.refresh(lena), db.session.refresh(tom), db.session.refresh(order)
    assert (lena.level, lena.root_employee_id, lena.referrer_id) == (1, heir.id, departed.id)
    assert (tom.level, tom.root_employee_id, tom.l1_contact_id) == (2, heir.id, lena.id)
    assert (order.root_employee_id, order.l1_contact_id) == (departed.id, lena.id)  # history stays
    moves = audit("chain.move")
    assert [(e.entity_id, e.actor_id, e.before["root_employee_id"], e.after["root_employee_id"]) for e in moves] == [
        (lena.id, operator.id, departed.id, heir.id),
        (tom.id, operator.id, departed.id, heir.id),
    ]
    assert audit("chain.move_all")[0].reason == "Dora left"


@pytest.mark.parametrize("case", ["active", "self", "inactive_target", "contact_target", "no_reason"])
def test_chain_moves_are_refused_outside_the_rule(operator, make_user, make_contact, departed_chain, case):
    departed, lena, _tom, _order = departed_chain
    target, reason = make_user(), "why"
    if case == "active":
        departed = make_user()
        make_contact(departed)
    elif case == "self":
        target = departed
    elif case == "inactive_target":
        target = make_user(active=False)
    elif case == "contact_target":
        target = lena
    else:
        reason = " "
    with pytest.raises(chains.ChainError):
        chains.move_contacts(operator, departed, target, reason=reason)
    db.session.rollback()
    assert db.session.get(type(lena), lena.id).root_employee_id == departed_chain[0].id
    assert audit("chain.move") == []


def test_move_form_refuses_bad_input_with_422(client, operator, departed_chain):
    login(client, operator)
    response = client.post_form(
        "/ops/chains/move",
        {"departed": departed_chain[0].id, "target": 424242, "reason": "x"},
        token_from="/ops/chains",
    )
    assert response.status_code == 422
    assert audit("chain.move") == []


def test_a_contact_verified_as_staff_becomes_a_root_and_keeps_their_contacts(
    client, admin, employee, make_contact, make_product, place
):
    lena = make_contact(employee, name="Lena One")
    tom = make_contact(lena, name="Tom Two")
    order = place(tom, make_product().variants[0], 1)
    login(client, admin)
    response = client.post_form(
        "/ops/chains/promote",
        {"email": lena.email, "employee_no": "E9001", "reason": "HR confirmed"},
        token_from="/ops/chains",
    )
    assert response.status_code == 302
    db.session.refresh(lena), db.session.refresh(tom), db.session.refresh(order)
    assert (lena.kind, lena.level, lena.root_employee_id, lena.l1_contact_id, lena.employee_no) == (
        Kind.employee,
        0,
        None,
        None,
        "E9001",
    )
    assert tier_for(lena).value == "employee"
    assert (tom.level, tom.root_employee_id, tom.l1_contact_id, tom.referrer_id) == (1, lena.id, None, lena.id)
    assert (order.buyer_level, order.root_employee_id, order.l1_contact_id) == (2, employee.id, lena.id)
    [promotion] = audit("user.promote_employee")
    assert promotion.before["level"] == 1 and promotion.after["level"] == 0 and promotion.reason == "HR confirmed"
    assert [e.entity_id for e in audit("chain.move")] == [tom.id]


def test_promotion_is_for_admins_and_refuses_employees(client, operator, admin, employee):
    login(client, operator)
    assert (
        client.post_form(
            "/ops/chains/promote", {"email": employee.email, "reason": "x"}, token_from="/ops/chains"
        ).status_code
        == 403
    )
    login(client, admin)
    response = client.post_form(
        "/ops/chains/promote", {"email": employee.email, "reason": "x"}, token_from="/ops/chains"
    )
    assert response.status_code == 422 and "employee already" in response.get_data(as_text=True)
    response = client.post_form(
        "/ops/chains/promote", {"email": "nobody@mail.example", "reason": "x"}, token_from="/ops/chains"
    )
    assert response.status_code == 422
    assert audit("user.promote_employee") == []


def test_flags_list_sign_up_bursts_and_shared_addresses(client, operator, employee, make_contact):
    now = utcnow()
    burst = [make_contact(employee, name=f"Burst {n}") for n in range(5)]
    for n, person in enumerate(burst):
        db.session.add(
            Join(user_id=person.id, link_owner_id=employee.id, ip="203.0.113.9", at=now - timedelta(minutes=10 * n))
        )
    spread = [make_contact(employee, name=f"Spread {n}") for n in range(5)]
    for n, person in enumerate(spread):
        db.session.add(
            Join(user_id=person.id, link_owner_id=employee.id, ip="198.51.100.4", at=now - timedelta(hours=5 * n))
        )
    for n, person in enumerate(spread[:3]):
        db.session.add(
            Address(
                user_id=person.id,
                recipient=person.name,
                phone="1",
                city="Shanghai",
                postcode="200120",
                line1=["8 Shared Lane", "8, shared  lane", "8 SHARED LANE"][n],
            )
        )
    db.session.commit()
    [found] = abuse.signup_bursts(minimum=5, window=timedelta(hours=1), now=now)
    assert found.ip == "203.0.113.9" and {u.id for u in found.users} == {p.id for p in burst}
    [shared] = abuse.shared_addresses(minimum=3)
    assert {u.id for u in shared.users} == {p.id for p in spread[:3]}
    login(client, operator)
    html = client.get("/ops/referral-flags").get_data(as_text=True)
    assert "203.0.113.9" in html and "Burst 4" in html and "8 Shared Lane" in html and "Spread 2" in html
    assert "198.51.100.4" not in html
