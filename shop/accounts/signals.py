"""What the accounts area tells the packages that care (blinker, which Flask already uses). The
core never imports the add-ons: they subscribe at app creation (shop/__init__.py)."""

from blinker import Namespace

_signals = Namespace()

# Sent with the User who just became an active sales rep (role set to sales, or a sales rep
# reactivated), inside the transaction that made the change.
sales_rep_available = _signals.signal("sales-rep-available")
