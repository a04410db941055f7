"""What orders tell the packages that react to them (blinker, which Flask uses itself).

Orders send; the interested packages (payments, referrals) subscribe at app creation
(``shop.register_reactions``), so that the core never imports them. Receivers run in the
sender's transaction: what must wait for the commit they put off themselves
(``shop.database.after_commit``)."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the order that became paid (by payroll or by card), in the paying transaction
order_paid = _signals.signal("order-paid")
# sender: the ids of the pending orders just cancelled or expired (their units were given back)
orders_closed = _signals.signal("orders-closed")
# sender: the DomainError that refused placing an order, sent by the page after its rollback;
# keywords: buyer_id, festival_id and product_id (the festival item's, for "buy now"; None at
# checkout). A receiver writes in a transaction of its own.
order_refused = _signals.signal("order-refused")
