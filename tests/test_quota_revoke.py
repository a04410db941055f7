"""Operators revoke a quota exception from the rule's page: with a reason, audited, enforced by
the buyer's very next order; bad input says why and changes nothing; only operators and admins."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.quotas import services as quotas
from shop.quotas.models import Audience, Measure, QuotaException, Scope, Target, Window
from tests.conftest import CsrfClient, login


def text(response) -> str:
    return response.get_data(as_text=True)


def exceptions() -> list[tuple[int, int, int]]:
    return [(e.id, e.user_id, e.extra) for e in db.session.scalars(select(QuotaException).order_by(QuotaException.id))]


def revocations() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "quota_exception.revoke")))


def _rule(operator, window: Window, limit: int):
    """At most ``limit`` units per buyer per ``window``."""
    rule = quotas.create_rule(
        operator,
        scope=Scope.buyer,
        target=Target.all,
        window=window,
        measure=Measure.units,
        limit_value=limit,
        audience=Audience.everyone,
    )
    db.session.commit()
    return rule


@pytest.fixture
def daily_rule(operator):
    return _rule(operator, Window.day, 1)


@pytest.fixture
def granted(daily_rule, operator, employee):
    """Two units more for the employee."""
    exception = quotas.grant_exception(operator, daily_rule, employee, 2, "Moving house")
    db.session.commit()
    return exception


@pytest.fixture
def ops(app, operator):
    """The operator's browser, beside the buyer's (``client``)."""
    app.test_client_class = CsrfClient
    return login(app.test_client(), operator)


def _revoke(ops, rule_id: int, exception_id: int, reason: str):
    return ops.post_form(
        f"/ops/quotas/{rule_id}/exceptions/{exception_id}/revoke",
        {"reason": reason},
        token_from=f"/ops/quotas/{rule_id}",
        follow_redirects=True,
    )


def test_the_rule_page_lists_the_exceptions_in_force_with_a_revoke_form(ops, daily_rule, granted, employee):
    html = text(ops.get(f"/ops/quotas/{daily_rule.id}"))
    row = html.split("quota-exceptions", 1)[1].split("</table>", 1)[0]
    assert employee.email in row and "Moving house" in row
    assert f'action="/ops/quotas/{daily_rule.id}/exceptions/{granted.id}/revoke"' in row
    assert 'name="reason"' in row and "Revoke" in row


def test_revoking_needs_a_reason_and_the_next_order_is_held_to_the_rule(
    client, ops, daily_rule, granted, employee, operator, make_festival, make_festival_item, product, make_address
):
    granted_id, rule_id = granted.id, daily_rule.id
    item = make_festival_item(make_festival(), product.variants[0], 10)
    address_id = str(make_address(employee).id)
    buy_url = f"/festivals/{item.festival.slug}/items/{item.id}/buy"
    login(client, employee)
    # The exception is in force: 2 units although the rule allows 1.
    assert client.post_form(buy_url, {"quantity": "2", "address_id": address_id}).status_code == 303

    page = _revoke(ops, rule_id, granted_id, "   ")
    assert "Say why the exception is revoked." in text(page)
    assert exceptions() == [(granted_id, employee.id, 2)] and revocations() == []

    page = _revoke(ops, rule_id, granted_id, "Moved already")
    assert page.status_code == 200 and "Exception revoked." in text(page)
    assert exceptions() == []
    [entry] = revocations()
    assert (entry.actor_id, entry.entity_id, entry.reason) == (operator.id, granted_id, "Moved already")
    assert entry.before == {"rule_id": rule_id, "user_id": employee.id, "extra": 2}
    assert "No exceptions." in text(page)

    # With the exception, a third unit would fit (1 + 2); without it the next order is refused.
    refused = client.post_form(buy_url, {"quantity": "1", "address_id": address_id})
    assert refused.status_code == 409 and "Refused by the rule" in text(refused)


def test_revoking_again_or_an_unknown_exception_says_so_and_changes_nothing(ops, daily_rule, granted, operator):
    other = quotas.grant_exception(operator, daily_rule, operator, 1, "Testing")
    db.session.commit()
    granted_id, other_id, rule_id = granted.id, other.id, daily_rule.id
    assert "Exception revoked." in text(_revoke(ops, rule_id, granted_id, "Done"))

    again = _revoke(ops, rule_id, granted_id, "Done")
    assert "This exception was revoked already." in text(again)
    unknown = _revoke(ops, rule_id, 987_654, "Done")
    assert "This rule has no such exception." in text(unknown)
    assert len(revocations()) == 1
    assert exceptions() == [(other_id, operator.id, 1)]
    # An exception is revoked through its own rule's page only.
    elsewhere = _rule(operator, Window.month, 9)
    assert "This rule has no such exception." in text(_revoke(ops, elsewhere.id, other_id, "Done"))
    assert exceptions() == [(other_id, operator.id, 1)]
    assert ops.post_form("/ops/quotas/123456/exceptions/1/revoke", {"reason": "x"}).status_code == 404


def test_a_reason_too_long_is_refused_with_the_forms_message(ops, daily_rule, granted):
    page = _revoke(ops, daily_rule.id, granted.id, "x" * 301)
    assert "Field cannot be longer than 300 characters." in text(page)
    assert len(exceptions()) == 1 and revocations() == []


@pytest.mark.parametrize("role", ["employee", "anonymous"])
def test_only_operators_and_admins_may_revoke(client, daily_rule, granted, employee, role):
    if role == "employee":
        login(client, employee)
    response = client.post_form(f"/ops/quotas/{daily_rule.id}/exceptions/{granted.id}/revoke", {"reason": "Mine"})
    assert response.status_code == (403 if role == "employee" else 302)
    assert (
        len(exceptions()) == 1
        and db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "quota_exception.revoke"))
        == 0
    )


def test_an_admin_may_revoke(client, daily_rule, granted, admin):
    login(client, admin)
    assert "Exception revoked." in text(_revoke(client, daily_rule.id, granted.id, "Policy"))
    assert exceptions() == []
