"""Mail to buyers about their orders, written in the buyer's language (shop/i18n.py:
``recipient_locale``) and sent after the commit. Links in it are absolute, on ``PUBLIC_URL`` (the shipment may be recorded by a job)."""

from __future__ import annotations

from flask_babel import gettext as _

from shop.i18n import format_money, in_language_of
from shop.mail import queue_mail
from shop.orders.models import Order
from shop.urls import public_url


def tell_buyer_shipped(order: Order) -> None:
    with in_language_of(order.buyer):
        lines = "\n".join(f"  {line.quantity} × {line.product_name} · {line.variant_name}" for line in order.lines)
        queue_mail(
            order.buyer.email,
            _("Your order %(number)s is on its way", number=order.number),
            _(
                "Hello %(name)s,\n\nyour order %(number)s (%(total)s) has been shipped with %(carrier)s, "
                "tracking number %(tracking)s:\n\n%(lines)s\n\nThe order: %(url)s\n",
                name=order.buyer.name,
                number=order.number,
                total=format_money(order.total_amount, order.currency),
                carrier=order.carrier,
                tracking=order.tracking_number,
                lines=lines,
                url=public_url("orders.detail", order_id=order.id),
            ),
        )
