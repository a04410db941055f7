"""Buying: placing an order (cart checkout and festival "buy now" take the one way in
``placing.py``) and the buyer's order pages (the ``orders`` blueprint). It sits above the
packages it brings together (cart, quotas, orders, payments, refunds), none of which import it."""
