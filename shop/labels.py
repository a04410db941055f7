"""What people read for the values of the shop's enumerations (an order's status, a user's
role, a product's sales mode...), in the page's language: ``label(value)`` and the Jinja filter
``|label``. Each area registers its own enumerations next to them (``register`` in its models),
so this module imports none of them; a value nobody registered shows as it is stored."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l

# By enumeration and value: members of different enumerations may share a value ("pending").
_LABELS: dict[tuple[type, str], object] = {}
# By value alone, for a value read back without its enumeration (the audit trail's JSON), when
# every enumeration that has it names it alike.
_BY_VALUE: dict[str, object | None] = {}


def register(labels: dict[enum.Enum, object]) -> None:
    for member, text in labels.items():
        _LABELS[(type(member), member.value)] = text
        known = _BY_VALUE.get(member.value, text)
        _BY_VALUE[member.value] = text if known is not None and str(known) == str(text) else None


def label(value: enum.Enum | str | None) -> str:
    """``value``'s label in the current language; unregistered values as they are stored."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        found = _LABELS.get((type(value), value.value))
        raw = str(value.value)
    else:
        found = _BY_VALUE.get(value)
        raw = str(value)
    return str(found) if found is not None else raw.replace("_", " ")


def lazy_label(value: enum.Enum) -> object:
    """``value``'s label, translated when it is shown (for choices built at import)."""
    return _LABELS.get((type(value), value.value)) or str(value.value).replace("_", " ")


# A person's place in a referral chain: the employee (level 0), their contact (1), a contact's (2).
_LEVELS = {0: _l("L0"), 1: _l("L1"), 2: _l("L2")}


def level_label(level: int | None) -> str:
    """A chain level as people say it: "L1" in English, "一级" in Chinese."""
    return "" if level is None else str(_LEVELS.get(level, level))
