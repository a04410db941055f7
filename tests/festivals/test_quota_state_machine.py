"""A hypothesis state machine over festivals and quotas: allocate, order from the cart and at the
festival, pay, cancel, let the clock run (expiry), refund (with or without the goods coming
back), and end the festival (return the allocation, sometimes twice). After every step the
database is checked against rules recomputed here, apart from the quota engine: stock and
allocation never negative, the allocation's arithmetic, every quota respected, and every unit
in exactly one place (in stock, in the allocation, or with a buyer).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from shop.accounts.models import Role
from shop.audit.models import AuditEntry
from shop.cart.services import add_to_cart
from shop.catalog.festival_models import Festival, FestivalItem
from shop.catalog.models import Variant
from shop.checkout.placing import place_order
from shop.errors import DomainError
from shop.extensions import db
from shop.festivals import services as festivals
from shop.orders.expiry import expire_overdue
from shop.orders.lifecycle import cancel_order
from shop.orders.models import Order, OrderLine, OrderStatus
from shop.payments.payroll import pay_by_payroll
from shop.quotas import services as quotas
from shop.quotas.models import Audience, Measure, Scope, Target, Window
from shop.refunds import services as refunds
from shop.refunds.models import Refund, RefundLine
from tests.conftest import _empty_tables
from tests.fixtures.festivals import chain_cap_on

LAUNCH = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: the clock crosses midnight
ENDS = LAUNCH + timedelta(hours=3)
ZONE = ZoneInfo("Asia/Shanghai")
FESTIVAL_STOCK, CART_STOCK = 24, 12  # the festival variant (also sold from the cart), a cart-only one
BUYER_LIMIT, CHAIN_CAP, DAILY_UNITS, YEARLY_AMOUNT, PER_ORDER = 2, 3, 4, 30_000, 5
EMPLOYEE_PRICE, CONTACT_PRICE, FESTIVAL_EMPLOYEE_PRICE, FESTIVAL_CONTACT_PRICE = 4_000, 5_000, 3_000, 3_500
LIVE = (
    OrderStatus.pending_payment,
    OrderStatus.paid,
    OrderStatus.shipped,
    OrderStatus.completed,
    OrderStatus.partially_refunded,
)
# Orders whose lines hold units: the live ones, and refunded ones whose goods stayed with the buyer.
HOLDING = (*LIVE, OrderStatus.refunded)


def test_festival_quota_state_machine(app, make_user, make_contact, make_product, make_address):
    class FestivalQuotas(RuleBasedStateMachine):
        """The buyers: two chains, one with an L1 and an L2 contact (the L1 has one extra unit
        of the per-buyer limit, granted as an exception), the other with one L1 contact."""

        @initialize()
        def open_shop(self):
            db.session.remove()
            _empty_tables()
            self.clock = LAUNCH + timedelta(minutes=1)
            self.operator = make_user(role=Role.operator)
            first, second = make_user(), make_user()
            friend = make_contact(first)
            self.buyers = [first, friend, make_contact(friend), second, make_contact(second)]
            self.addresses = {b.id: make_address(b).id for b in self.buyers}
            self.extra = {friend.id: 1}
            product = make_product(stock=FESTIVAL_STOCK, employee_price=EMPLOYEE_PRICE, contact_price=CONTACT_PRICE)
            self.variant_id, self.product_id = product.variants[0].id, product.id
            self.cart_variant_id = (
                make_product(stock=CART_STOCK, employee_price=EMPLOYEE_PRICE, contact_price=CONTACT_PRICE)
                .variants[0]
                .id
            )
            festival = festivals.create_festival(
                self.operator,
                name="Machine Fair",
                preheat_at=LAUNCH - timedelta(hours=1),
                launch_at=LAUNCH,
                continuation_at=None,
                ends_at=ENDS,
            )
            db.session.flush()
            self.festival_id = festival.id
            item = self._allocate(4)
            self.item_id = item.id
            quotas.ensure_default_rules()
            chain_cap_on(item, CHAIN_CAP)
            quotas.create_rule(
                None,
                scope=Scope.buyer,
                target=Target.product,
                product_id=self.product_id,
                window=Window.day,
                measure=Measure.units,
                limit_value=DAILY_UNITS,
            )
            quotas.create_rule(
                None,
                scope=Scope.buyer,
                target=Target.all,
                window=Window.year,
                measure=Measure.amount,
                limit_value=YEARLY_AMOUNT,
                audience=Audience.employees,
            )
            [buyer_rule] = [
                r
                for r, _exceptions in quotas.rules_listing()
                if r.festival_item_id == item.id and r.scope == Scope.buyer
            ]
            quotas.grant_exception(self.operator, buyer_rule, friend, 1, "Organises the team order")
            db.session.commit()
            self.order_ids: list[int] = []

        # ---- steps ----------------------------------------------------------------------------

        def _allocate(self, units: int) -> FestivalItem:
            return festivals.allocate(
                self.operator,
                db.session.get(Festival, self.festival_id),
                db.session.get(Variant, self.variant_id),
                units,
                employee_price=FESTIVAL_EMPLOYEE_PRICE,
                contact_price=FESTIVAL_CONTACT_PRICE,
                per_buyer_limit=BUYER_LIMIT,
                now=self.clock,
            )

        def _attempt(self, step: str, action):
            """Run one service call in a transaction of its own: committed, or rolled back whole.
            What happened is counted (pytest --hypothesis-show-statistics shows it)."""
            try:
                result = action()
            except DomainError as refused:
                db.session.rollback()
                event(f"{step}: refused ({type(refused).__name__})")
                return None
            db.session.commit()
            event(f"{step}: done")
            return result

        @rule(units=st.integers(1, 8))
        def allocate(self, units):
            self._attempt("allocate", lambda: self._allocate(units))

        def _placed(self, order: Order | None, pay_now: bool) -> None:
            if order is not None:
                self.order_ids.append(order.id)
                if pay_now and order.buyer_level == 0:  # an employee paying at once by payroll
                    self._attempt("pay", lambda: pay_by_payroll(order.buyer, order, now=self.clock))

        @rule(who=st.integers(0, 4), quantity=st.integers(1, 3), pay_now=st.booleans())
        def buy_at_the_festival(self, who, quantity, pay_now):
            buyer = self.buyers[who]
            order = self._attempt(
                "festival buy",
                lambda: place_order(
                    buyer.id, self.addresses[buyer.id], item_id=self.item_id, quantity=quantity, now=self.clock
                ),
            )
            self._placed(order, pay_now)

        @rule(who=st.integers(0, 4), festival_variant=st.booleans(), quantity=st.integers(1, 5), pay_now=st.booleans())
        def check_out_the_cart(self, who, festival_variant, quantity, pay_now):
            buyer = self.buyers[who]
            variant_id = self.variant_id if festival_variant else self.cart_variant_id

            def checkout():
                add_to_cart(buyer, variant_id, quantity)
                return place_order(buyer.id, self.addresses[buyer.id], now=self.clock)

            self._placed(self._attempt("cart checkout", checkout), pay_now)

        def _order(self, pick: int, *, unpaid_by_employee: bool = False, paid: bool = False) -> Order:
            """One of the orders placed so far; with ``unpaid_by_employee``, one an employee could
            still pay by payroll when there is such an order (contacts cannot: they are refused)."""
            ids = self.order_ids
            if unpaid_by_employee:
                ids = (
                    list(
                        db.session.scalars(
                            select(Order.id)
                            .where(
                                Order.id.in_(ids),
                                Order.buyer_level == 0,
                                Order.status == OrderStatus.pending_payment,
                                Order.expires_at > self.clock,
                            )
                            .order_by(Order.id)
                        )
                    )
                    or ids
                )
            if paid:
                ids = (
                    list(
                        db.session.scalars(
                            select(Order.id)
                            .where(
                                Order.id.in_(ids), Order.status.in_((OrderStatus.paid, OrderStatus.partially_refunded))
                            )
                            .order_by(Order.id)
                        )
                    )
                    or ids
                )
            return db.session.get(Order, ids[pick % len(ids)])

        @precondition(lambda self: self.order_ids)
        @rule(pick=st.integers(0, 200), any_order=st.booleans())
        def pay(self, pick, any_order):
            """Employees pay by payroll (contacts, who cannot, are refused)."""
            order = self._order(pick, unpaid_by_employee=not any_order)
            self._attempt("pay", lambda: pay_by_payroll(order.buyer, order, now=self.clock))

        @precondition(lambda self: self.order_ids)
        @rule(pick=st.integers(0, 200))
        def cancel(self, pick):
            order = self._order(pick)
            self._attempt("cancel", lambda: cancel_order(order.buyer, order, now=self.clock))

        @precondition(lambda self: self.order_ids)
        @rule(pick=st.integers(0, 200), units=st.integers(1, 3), restock=st.booleans())
        def refund(self, pick, units, restock):
            """An operator refunds some units of a paid order; the goods come back or not."""
            order = self._order(pick, paid=True)
            line = order.lines[0]
            units = max(1, min(units, line.quantity - line.refunded_quantity))  # over-asking is tested elsewhere
            self._attempt(
                "refund",
                lambda: refunds.refund_order(
                    self.operator,
                    order,
                    reason="Returned by the buyer",
                    quantities={line.id: units},
                    restock=restock,
                    now=self.clock,
                ),
            )

        @rule(minutes=st.sampled_from([1, 3, 7, 14, 16, 30, 60]), sweep=st.booleans())
        def let_time_pass(self, minutes, sweep):
            """Unpaid orders expire after 15 minutes: lazily when touched, or by the sweep."""
            self.clock += timedelta(minutes=minutes)
            if sweep:
                self._attempt("expiry sweep", lambda: expire_overdue(now=self.clock))

        @rule(early=st.booleans(), twice=st.booleans(), late=st.integers(0, 30))
        def end_the_festival(self, early, twice, late):
            """The festival ends on time, or early (the operator moves its end to a minute from
            now, with unpaid orders still holding units), and `flask shop festival-close` runs."""
            festival = db.session.get(Festival, self.festival_id)
            if early and self.clock < festival.ends_at:
                self._attempt(
                    "end early",
                    lambda: festivals.update_festival(
                        self.operator,
                        festival,
                        name=festival.name,
                        description="",
                        preheat_at=festival.preheat_at,
                        launch_at=festival.launch_at,
                        continuation_at=None,
                        ends_at=self.clock + timedelta(minutes=1),
                        now=self.clock,
                    ),
                )
            self.clock = max(self.clock, db.session.get(Festival, self.festival_id).ends_at + timedelta(minutes=late))
            self._attempt("return", lambda: festivals.return_allocations(now=self.clock))
            if twice:
                assert self._attempt("return again", lambda: festivals.return_allocations(now=self.clock)) == 0

        # ---- invariants, recomputed from the rows --------------------------------------------

        def _lines(self):
            return db.session.execute(
                select(
                    Order.id,
                    Order.buyer_id,
                    Order.root_employee_id,
                    Order.buyer_level,
                    Order.status,
                    Order.expires_at,
                    Order.created_at,
                    OrderLine.id.label("line_id"),
                    OrderLine.variant_id,
                    OrderLine.festival_item_id,
                    OrderLine.quantity,
                    OrderLine.refunded_quantity,
                    OrderLine.unit_price,
                ).join(OrderLine, OrderLine.order_id == Order.id)
            ).all()

        def _restocked(self) -> dict[int, int]:
            """Units per order line that came back to stock through refunds."""
            rows = db.session.execute(
                select(RefundLine.order_line_id, RefundLine.quantity).join(Refund).where(Refund.restock.is_(True))
            )
            restocked: dict[int, int] = defaultdict(int)
            for line_id, quantity in rows:
                restocked[line_id] += quantity
            return restocked

        def _counts_for_quotas(self, line) -> bool:
            return line.status in LIVE and not (
                line.status == OrderStatus.pending_payment and line.expires_at <= self.clock
            )

        @invariant()
        def stock_and_allocation_are_never_negative_and_add_up(self):
            if not hasattr(self, "item_id"):
                return
            db.session.rollback()
            item = db.session.get(FestivalItem, self.item_id)
            db.session.refresh(item)
            stocks = dict(db.session.execute(select(Variant.id, Variant.stock)).all())
            assert min(stocks.values()) >= 0
            assert item.sold >= 0 and item.returned_units >= 0
            assert item.sold + item.returned_units <= item.allocated
            if item.returned_at is not None:
                assert item.sold + item.returned_units == item.allocated
            else:
                assert item.returned_units == 0
            lines, restocked = self._lines(), self._restocked()
            held = defaultdict(int)
            for line in lines:
                if line.status in HOLDING:
                    held[line.variant_id] += line.quantity - restocked[line.line_id]
            festival_held = sum(
                line.quantity - restocked[line.line_id]
                for line in lines
                if line.festival_item_id and line.status in HOLDING
            )
            assert item.sold == festival_held
            unsold_allocation = item.allocated - item.sold - item.returned_units
            assert stocks[self.variant_id] + unsold_allocation + held[self.variant_id] == FESTIVAL_STOCK
            assert stocks[self.cart_variant_id] + held[self.cart_variant_id] == CART_STOCK
            returns = list(
                db.session.scalars(select(AuditEntry.after).where(AuditEntry.action == "festival.return_allocation"))
            )
            assert len(returns) == (1 if item.returned_at is not None else 0)
            if returns and item.returned_units > returns[0]["returned_units"]:
                event("units given back by orders after the festival's return")

        @invariant()
        def every_quota_is_respected(self):
            if not hasattr(self, "item_id"):
                return
            per_buyer, per_chain = defaultdict(int), defaultdict(int)
            per_day, per_year, per_order = defaultdict(int), defaultdict(int), defaultdict(int)
            for line in self._lines():
                per_order[line.id, line.variant_id] += line.quantity  # per order: whatever became of it
                if not self._counts_for_quotas(line):
                    continue
                kept = line.quantity - line.refunded_quantity  # refunded units gave their quota back
                if line.festival_item_id == self.item_id:
                    per_buyer[line.buyer_id] += kept
                    per_chain[line.root_employee_id] += kept
                if line.variant_id == self.variant_id:
                    per_day[line.buyer_id, line.created_at.astimezone(ZONE).date()] += kept
                if line.buyer_level == 0:
                    per_year[line.buyer_id, line.created_at.astimezone(ZONE).year] += kept * line.unit_price
            assert all(units <= BUYER_LIMIT + self.extra.get(buyer, 0) for buyer, units in per_buyer.items()), per_buyer
            assert all(units <= CHAIN_CAP for units in per_chain.values()), per_chain
            assert all(units <= DAILY_UNITS for units in per_day.values()), per_day
            assert all(amount <= YEARLY_AMOUNT for amount in per_year.values()), per_year
            assert all(units <= PER_ORDER for units in per_order.values()), per_order

        def teardown(self):
            db.session.remove()
            _empty_tables()

    run_state_machine_as_test(
        FestivalQuotas,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
