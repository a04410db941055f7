"""What the product page asks of the packages that add to it (referrals: share links, share
tools, lead forms), as blinker signals subscribed at app creation (``shop.register_reactions``),
so that the catalog never imports them. Without a subscriber the page simply goes without."""

from __future__ import annotations

from typing import Any

from blinker import Namespace

_signals = Namespace()

# sender: the product slug; ref: the share link's code. A visitor (not logged in) opened a
# product share link: a receiver answers with the page to show (the teaser).
visitor_opened_share_link = _signals.signal("visitor-opened-share-link")
# sender: the product slug; ref: the code. A member opened someone's product share link.
member_opened_share_link = _signals.signal("member-opened-share-link")
# sender: the product slug. Markup beside the product for the logged-in member (share tools).
product_aside = _signals.signal("product-aside")
# sender: the product slug; tier: the viewer's price tier. What is left of the viewer's quotas
# for each option of the product (the quotas package answers).
product_quota_panel = _signals.signal("product-quota-panel")
# sender: the product slug. The form a lead-mode product's page shows (refer a customer).
product_lead_form = _signals.signal("product-lead-form")
# No sender. Markup at the top of the home page, rendered at each request (the festivals
# package answers with the running or upcoming festival and its countdown).
home_banner = _signals.signal("home-banner")


def first_answer(signal, sender, **kwargs) -> Any:
    """What the first receiver that answered gave, or None."""
    return next((value for _receiver, value in signal.send(sender, **kwargs) if value is not None), None)
