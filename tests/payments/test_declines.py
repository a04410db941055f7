"""Why a card payment failed, told to the buyer from Stripe's codes (shop/payments/declines.py)."""

from __future__ import annotations

from flask_babel import force_locale

from shop.payments import declines
from shop.payments.models import CardPayment


def test_the_code_kept_is_the_decline_code_when_stripe_gives_one():
    assert declines.code_of({"code": "card_declined", "decline_code": "insufficient_funds"}) == "insufficient_funds"
    assert declines.code_of({"code": "expired_card", "message": "Your card has expired."}) == "expired_card"
    assert declines.code_of({"message": "Something went wrong."}) == "card_declined"
    assert declines.code_of(None) is None and declines.code_of({}) is None


def test_each_reason_is_a_sentence_of_its_own_and_unknown_codes_are_a_plain_decline(app):
    with app.test_request_context(), force_locale("en"):
        assert declines.reason("insufficient_funds") == "Your card does not have enough funds."
        assert declines.reason("expired_card") == "Your card has expired."
        assert declines.reason("invalid_cvc") == declines.reason("incorrect_cvc")
        # A card reported lost or stolen reads as any decline: nothing for whoever holds it.
        for code in ("card_declined", "lost_card", "stolen_card", "fraudulent", "no_such_code"):
            assert declines.reason(code) == "Your card was declined."
        assert declines.reason(None) is None


def test_reasons_read_in_chinese(app):
    with app.test_request_context(), force_locale("zh_CN"):
        assert declines.reason("card_declined") == "你的银行卡被拒绝了。"
        assert all(not any("a" <= ch <= "z" for ch in declines.reason(code)) for code in declines.REASONS)


def test_a_failure_kept_before_its_code_reads_as_a_plain_decline(app):
    with app.test_request_context(), force_locale("en"):
        assert CardPayment(last_error="Your card was declined.").failure_reason == "Your card was declined."
        assert CardPayment(last_error="x", last_error_code="expired_card").failure_reason == "Your card has expired."
        assert CardPayment().failure_reason is None
