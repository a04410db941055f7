"""A rule saved in one app instance is enforced by the very next order placed in another
instance on the same database: lowered, added, or an exception revoked. The second instance
runs as production does (every cache on) and takes its orders through the "buy now" route."""

from __future__ import annotations

import pytest

from shop.catalog.festival_models import FestivalItem
from shop.quotas import services as quotas
from shop.quotas.models import Measure, QuotaRule, Scope, Target, Window
from tests.conftest import login
from tests.test_production_path_race import production_app  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow


def test_a_rule_changed_in_one_instance_binds_the_next_order_in_the_other(
    production_app,  # noqa: F811 - the fixture
    operator,
    make_festival,
    make_festival_item,
    make_product,
    employee,
    make_address,
):
    item = make_festival_item(make_festival(), make_product(stock=50).variants[0], 40)
    rule = quotas.create_rule(
        operator,
        scope=Scope.buyer,
        target=Target.festival_item,
        festival_item_id=item.id,
        window=Window.festival,
        measure=Measure.units,
        limit_value=10,
    )
    address_id, rule_id, item_id = make_address(employee).id, rule.id, item.id
    url = f"/festivals/{item.festival.slug}/items/{item.id}/buy"
    other = login(production_app.test_client(), employee)
    token = other.csrf_token("/")

    def buy(quantity: int) -> int:
        return other.post(url, data={"quantity": quantity, "address_id": address_id, "csrf_token": token}).status_code

    def sold() -> int:
        db_item = quotas.db.session.get(FestivalItem, item_id)
        quotas.db.session.refresh(db_item)
        return db_item.sold

    assert buy(2) == 303 and buy(2) == 303  # 4 of 10, and the other instance's caches are warm
    # Lowered here: the other instance refuses the very next order.
    quotas.change_rule(operator, quotas.db.session.get(QuotaRule, rule_id), limit_value=5, is_active=True)
    quotas.db.session.commit()
    assert buy(2) == 409 and sold() == 4
    assert buy(1) == 303 and sold() == 5
    # An exception granted here lets the next order through there; revoked, it no longer does.
    exception = quotas.grant_exception(
        operator, quotas.db.session.get(QuotaRule, rule_id), employee, 3, "a family wedding"
    )
    quotas.db.session.commit()
    assert buy(1) == 303 and sold() == 6
    quotas.revoke_exception(operator, exception, "granted by mistake")
    quotas.db.session.commit()
    assert buy(1) == 409 and sold() == 6
    # A rule added here binds there at once.
    quotas.change_rule(operator, quotas.db.session.get(QuotaRule, rule_id), limit_value=20, is_active=True)
    quotas.create_rule(
        operator,
        scope=Scope.buyer,
        target=Target.festival_item,
        festival_item_id=item_id,
        window=Window.order,
        measure=Measure.units,
        limit_value=1,
    )
    quotas.db.session.commit()
    assert buy(2) == 409 and sold() == 6
    assert buy(1) == 303 and sold() == 7
