"""Mobile phone numbers as a mainland Chinese office writes them: eleven digits starting 13-19
(``1[3-9]\\d{9}``), optionally behind +86, stored in one form (``+8613812345678``) so that a
number can later be verified and matched against an account's, and shown masked on lists
(``138****5678``)."""

from __future__ import annotations

import re

MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")
_SEPARATORS = re.compile(r"[\s\-().]")
_OTHER_PHONE = re.compile(r"\+?[0-9]{5,20}")


def mainland_mobile(text: str | None) -> str | None:
    """``+86`` and the eleven digits, or None when ``text`` is not a mainland mobile number
    (spaces, dashes and a leading +86, 0086 or 86 are allowed)."""
    digits = _SEPARATORS.sub("", text or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    return "+86" + digits if MAINLAND_MOBILE.fullmatch(digits) else None


def other_phone(text: str | None) -> str | None:
    """A phone number outside mainland China, digits and an optional leading +, or None."""
    compact = _SEPARATORS.sub("", text or "")
    return compact if _OTHER_PHONE.fullmatch(compact) else None


def as_written(phone: str | None) -> str:
    """A mainland mobile as people write it (``13812345678``); any other number as stored."""
    mobile = mainland_mobile(phone)
    return mobile[3:] if mobile is not None else phone or ""


def masked(phone: str | None) -> str:
    """The number for lists: a mainland mobile as ``138****5678``, any other with all but its
    first three and last four digits hidden."""
    number = phone or ""
    mobile = mainland_mobile(number)
    if mobile is not None:
        number = mobile[3:]
    digits = _SEPARATORS.sub("", number)
    if len(digits) <= 7:
        return digits
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
