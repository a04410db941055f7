"""The audit trail as people read it: who by name, the subject by what people call it (an order's
number, a person's name, a product's name), and before/after as a list of the fields that
changed, money in the currency and times in the reader's zone. No JSON, no escapes.

Subjects are named from the mapped classes themselves (``db.Model.registry.mappers``), so the
add-on packages' entries (leads, tickets, articles) read well without the core importing them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shop.audit.models import AuditEntry
from shop.extensions import db
from shop.i18n import format_money, local_datetime
from shop.labels import label

MONEY_KEYS = frozenset(
    {
        "amount",
        "total",
        "refunded",
        "price",
        "deductions",
        "credits",
        "net",
        "cap",
        "festival_price",
    }
)
FIELD_LABELS = {
    "status": _l("status"),
    "amount": _l("amount"),
    "total_amount": _l("total"),
    "refunded": _l("refunded"),
    "refunded_amount": _l("refunded"),
    "carrier": _l("carrier"),
    "tracking_number": _l("tracking number"),
    "method": _l("payment method"),
    "payment_intent": _l("Stripe payment"),
    "expires_at": _l("reserved until"),
    "role": _l("role"),
    "name": _l("name"),
    "email": _l("e-mail"),
    "department": _l("department"),
    "employee_no": _l("employee number"),
    "active": _l("active"),
    "stock": _l("stock"),
    "limit": _l("limit"),
    "reason": _l("reason"),
    "error": _l("error"),
    "assignee": _l("assigned to"),
    "assigned_to": _l("assigned to"),
    "follow_up_on": _l("next follow-up"),
    "note": _l("note"),
    "file": _l("file"),
    "sha256": _l("SHA-256 of the file"),
    "created": _l("created"),
    "updated": _l("updated"),
    "unchanged": _l("unchanged"),
    "reactivated": _l("reactivated"),
    "deactivated": _l("deactivated"),
    "rejected": _l("rejected"),
    "invited": _l("invited"),
    "to_invite": _l("to invite"),
    "read_as": _l("read as"),
    "rows": _l("rows"),
    "deactivate_missing": _l("deactivate those missing"),
    "shipped": _l("shipped"),
    "problems": _l("not shipped"),
    "attempt": _l("attempt"),
    "currency": _l("currency"),
    "lines": _l("items"),
    "sessions": _l("sessions"),
    "refund": _l("refund"),
    "image": _l("picture"),
    "assignee_id": _l("assigned to"),
    "slug": _l("web address"),
    "size": _l("size"),
    "root_employee_id": _l("root employee"),
    "reviewed_at": _l("last reviewed"),
    "returned_units": _l("units returned"),
    "question_id": _l("question"),
    "product_id": _l("product"),
    "article_id": _l("article"),
    "accepted_answer_id": _l("accepted answer"),
    "position": _l("position"),
    "at": _l("time"),
    "body_md": _l("text"),
    "contacts": _l("contacts"),
    "title": _l("title"),
    "tags": _l("tags"),
    "kind": _l("kind"),
    "sku": _l("SKU"),
    "price": _l("price"),
    "market_price": _l("market price"),
    "employee_price": _l("employee price"),
    "contact_price": _l("contact price"),
    "festival_price": _l("festival price"),
    "festival_contact_price": _l("festival price for contacts"),
    "per_buyer_limit": _l("per-buyer limit"),
    "allocated": _l("units allocated"),
    "per_sku": _l("each option on its own"),
    "scope": _l("counted for"),
    "target": _l("applies to"),
    "window": _l("window"),
    "measure": _l("measure"),
    "audience": _l("audience"),
    "limit_value": _l("limit"),
    "sentence": _l("rule"),
    "festival": _l("festival"),
    "festival_id": _l("festival"),
    "category": _l("category"),
    "category_id": _l("category"),
    "preheat_at": _l("preheat starts"),
    "launch_at": _l("buying opens"),
    "continuation_at": _l("continuation starts"),
    "ends_at": _l("ends"),
    "description_md": _l("description"),
    "description": _l("description"),
    "summary": _l("summary"),
    "sales_mode": _l("sales mode"),
    "level": _l("level"),
    "month": _l("month"),
    "total": _l("total"),
    "id": _l("number"),
    "is_active": _l("active"),
    "added": _l("added"),
    "removed": _l("removed"),
    "orders": _l("orders"),
    "refunds": _l("refunds"),
    "count": _l("count"),
    "units": _l("units"),
    "quantity": _l("quantity"),
    "product": _l("product"),
    "products": _l("products"),
    "variant": _l("option"),
    "order": _l("order"),
    "user": _l("person"),
    "employee": _l("employee"),
    "extra": _l("extra allowance"),
    "rule_id": _l("rule"),
    "user_id": _l("person"),
    "named_user_id": _l("named person"),
}
NOTHING = "—"
# What an entry's subject is, by the name of its mapped class (the add-ons' too, by name only).
SUBJECT_KINDS = {
    "User": _l("User"),
    "Department": _l("Department"),
    "Category": _l("Category"),
    "Product": _l("Product"),
    "ProductImage": _l("Picture"),
    "Variant": _l("Option"),
    "Order": _l("Order"),
    "CardPayment": _l("Card payment"),
    "Refund": _l("Refund"),
    "PayrollSettlement": _l("Payroll settlement"),
    "Festival": _l("Festival"),
    "FestivalItem": _l("Festival item"),
    "QuotaRule": _l("Quota rule"),
    "QuotaException": _l("Quota exception"),
    "Address": _l("Address"),
    "Lead": _l("Lead"),
    "Article": _l("Article"),
    "Question": _l("Question"),
    "Answer": _l("Answer"),
    "Ticket": _l("Ticket"),
}
# Fields whose values are an enumeration's (shop/labels.py names them for people).
LABELLED_KEYS = frozenset(
    {"status", "role", "kind", "method", "payment_method", "sales_mode", "scope", "target", "window", "measure"}
    | {"audience", "timeline", "phase", "tier", "price_tier", "read_as"}
)


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class ReadableEntry:
    entry: AuditEntry
    when: str
    actor: str
    subject: str
    action: str
    changes: list[Change]
    reason: str

    def changes_text(self) -> str:
        return "; ".join(f"{c.field}: {c.before} → {c.after}" for c in self.changes)


def _user_class() -> type:
    """``User``, found through the audit entry's ``actor`` mapping: accounts writes audit
    entries, so audit does not import accounts (tests/test_import_direction.py)."""
    return AuditEntry.actor.property.mapper.class_


def _classes_by_name() -> dict[str, type]:
    return {mapper.class_.__name__: mapper.class_ for mapper in db.Model.registry.mappers}


def _label(obj) -> str:
    if isinstance(obj, _user_class()):
        return f"{obj.name} <{obj.email}>"
    for attribute in ("number", "name", "title", "sku"):
        value = getattr(obj, attribute, None)
        if isinstance(value, str) and value:
            return value
    return ""


def subject_names(entries: Iterable[AuditEntry]) -> dict[tuple[str, int], str]:
    """What people call each entry's subject, loaded with one query per kind of subject."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        if entry.entity_id is not None:
            wanted[entry.entity_type].add(entry.entity_id)
    classes = _classes_by_name()
    names = {}
    for type_name, ids in wanted.items():
        cls = classes.get(type_name)
        if cls is None or not hasattr(cls, "id"):
            continue
        for obj in db.session.scalars(select(cls).where(cls.id.in_(ids))):
            label = _label(obj)
            if label:
                names[(type_name, obj.id)] = label
    return names


def subject_label(entry: AuditEntry, names: dict[tuple[str, int], str]) -> str:
    kind = str(SUBJECT_KINDS.get(entry.entity_type) or entry.entity_type)
    name = names.get((entry.entity_type, entry.entity_id))
    if name and entry.entity_type == "Order":
        return _("Order %(number)s", number=name)
    if name:
        return f"{name} ({kind})"
    return f"{kind} #{entry.entity_id}" if entry.entity_id is not None else kind


def _is_money(key: str, values: dict) -> bool:
    if key in MONEY_KEYS or key.endswith(("_price", "_amount")):
        return True
    return key == "limit" and values.get("measure") == "amount"


def format_value(key: str, value, values: dict, currency: str, enums: dict[str, type] | None = None) -> str:
    if value is None or value == "":
        return NOTHING
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int) and _is_money(key, values):
        return format_money(value, values.get("currency") or currency)
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return local_datetime(moment)
        return value
    if isinstance(value, list):
        return ", ".join(format_value(key, item, values, currency) for item in value) or NOTHING
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {format_value(k, v, value, currency)}" for k, v in value.items())
    if isinstance(value, str) and enums and key in enums:
        try:
            return label(enums[key](value))
        except ValueError:
            return value
    if key in LABELLED_KEYS and isinstance(value, str):
        return label(value)
    return str(value)


def field_label(key: str) -> str:
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ")


def _enums_of(cls: type | None) -> dict[str, type]:
    """The enumeration behind each of a mapped class's enumerated columns, by column name."""
    table = getattr(cls, "__table__", None)
    if table is None:
        return {}
    return {
        column.name: column.type.enum_class
        for column in table.columns
        if isinstance(column.type, sa.Enum) and column.type.enum_class is not None
    }


def changes(entry: AuditEntry, currency: str) -> list[Change]:
    """Each field that differs between before and after, in the order they were written."""
    enums = _enums_of(_classes_by_name().get(entry.entity_type))
    before, after = entry.before or {}, entry.after or {}
    if not isinstance(before, dict):
        before = {"value": before}
    if not isinstance(after, dict):
        after = {"value": after}
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    found = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if (key in before and key in after and old == new) or (key not in before and new is None):
            continue
        found.append(
            Change(
                field_label(key),
                format_value(key, old, before, currency, enums) if key in before else NOTHING,
                format_value(key, new, after, currency, enums) if key in after else NOTHING,
            )
        )
    return found


def readable(entries: list[AuditEntry]) -> list[ReadableEntry]:
    currency = current_app.config["CURRENCY"]
    names = subject_names(entries)
    user = _user_class()
    actors = {u.id: u for u in db.session.scalars(select(user).where(user.id.in_({e.actor_id for e in entries})))}
    result = []
    for entry in entries:
        actor = actors.get(entry.actor_id)
        result.append(
            ReadableEntry(
                entry=entry,
                when=local_datetime(entry.at),
                actor=f"{actor.name} <{actor.email}>" if actor else _("system"),
                subject=subject_label(entry, names),
                action=entry.action,
                changes=changes(entry, currency),
                reason=entry.reason or "",
            )
        )
    return result
