"""Why a card payment failed, in the buyer's language.

Stripe explains a failure with codes (``code``, and for a declined card often a
``decline_code``) and with an English sentence. The codes are kept on the payment; the buyer
reads one of the sentences below, chosen from them. Codes that would tell a thief something
(a card reported lost or stolen, fraud suspected) read as a plain decline, as Stripe advises.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

DECLINED = _l("Your card was declined.")

REASONS = {
    "insufficient_funds": _l("Your card does not have enough funds."),
    "expired_card": _l("Your card has expired."),
    "incorrect_cvc": _l("The card's security code is not right."),
    "invalid_cvc": _l("The card's security code is not right."),
    "incorrect_number": _l("The card number is not right."),
    "invalid_number": _l("The card number is not right."),
    "invalid_expiry_month": _l("The card's expiry date is not right."),
    "invalid_expiry_year": _l("The card's expiry date is not right."),
    "processing_error": _l("The card could not be charged because of an error at the bank; please try again."),
    "payment_intent_authentication_failure": _l("Your bank did not confirm the payment."),
    "authentication_required": _l("Your bank did not confirm the payment."),
    "card_velocity_exceeded": _l("Your card has reached its spending limit."),
}


def code_of(error: dict | None) -> str | None:
    """The code kept of a Stripe error object: its decline code when it gave one, else its code."""
    if not error:
        return None
    return error.get("decline_code") or error.get("code") or "card_declined"


def reason(code: str | None) -> str | None:
    """The sentence a buyer reads for ``code`` (``code_of``'s), in the request's language; None
    for no failure."""
    return None if code is None else str(REASONS.get(code, DECLINED))
