"""The locks every transaction that places, pays, cancels or refunds an order takes first, in
one order: the buyer's row and their chain's employee's (user ids ascending), then the order;
festival items and variants come after (``shop/orders/stock.py``). Placing an order
(``shop/checkout/placing.py``) and every change of an order's state share them, so that the
quota sums and payroll caps they check cannot change under them."""

from __future__ import annotations

import functools

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, or_, select

from shop.accounts.models import Buyer, User
from shop.extensions import db
from shop.orders.errors import OrderError
from shop.orders.models import Order

_BUYER_COLUMNS = (User.id, User.kind, User.level, User.root_employee_id, User.l1_contact_id, User.is_active_flag)


@functools.cache  # one statement, built on first use: at import the models are not all mapped yet
def _locking_buyer_and_chain() -> Select:
    buyer_id = bindparam("buyer_id")
    root_of_buyer = select(User.chain_root_id).where(User.id == buyer_id).scalar_subquery()
    return (
        select(*_BUYER_COLUMNS, root_of_buyer.label("root_when_read"))
        .where(or_(User.id == buyer_id, User.id == root_of_buyer))
        .order_by(User.id)
        .with_for_update(key_share=True, of=User)
    )


def lock_buyer(buyer_id: int) -> Buyer:
    """Lock the buyer's row and their chain's employee's, in id order, and return the buyer as
    the lock read them: the first locks of every transaction that places an order or pays one.
    One statement: the chain's employee is found from the buyer's row as the statement starts.
    OrderError when the buyer is gone or deactivated, or moved to another chain meanwhile."""
    rows = db.session.execute(_locking_buyer_and_chain(), {"buyer_id": buyer_id}).all()  # every order and payment
    row = next((row for row in rows if row.id == buyer_id), None)
    if row is None or not row.is_active_flag:
        raise OrderError(_("This account cannot place orders."), code="account")
    buyer = Buyer(row.id, row.kind, row.level, row.root_employee_id, row.l1_contact_id)
    if buyer.chain_root_id != row.root_when_read:
        # An operator moved the buyer's chain between the statement's start and the lock: the
        # lock taken is on the old chain's employee; taking the new one now could break the
        # lock order.
        raise OrderError(_("Your account changed while ordering; please try again."), code="account")
    return buyer


def lock_user(user: User) -> None:
    """Serialise one buyer's checkouts and payments (quota and payroll cap checks): the lock
    placing an order takes first."""
    lock_buyer(user.id)


def lock_order(order: Order) -> Order:
    db.session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    db.session.refresh(order)
    return order
