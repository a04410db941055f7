"""Shipping paid orders at volume: a selection of orders or an uploaded CSV of order number,
carrier and tracking number, each row on its own.

Every good row ships its order (``lifecycle.mark_shipped``: the order locked, the transition
checked, an audit entry, the buyer's mail after the commit); every bad row is reported by its
line and changes nothing. A row whose order is already shipped with the same carrier and
tracking number is "unchanged", so uploading the same file twice ships and mails nothing the
second time. The caller commits once, after the whole batch.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from shop.accounts.models import User
from shop.errors import DomainError
from shop.extensions import db
from shop.input_checks import parse_id
from shop.orders import lifecycle
from shop.orders.models import Order, OrderStatus
from shop.spreadsheets import decode_text

MAX_ROWS = 5000
FIELD_MAX = 80  # carrier and tracking number columns
HEADER_WORDS = frozenset({"order", "order number", "order_number", "order no", "number", "订单号", "订单编号"})


@dataclass(frozen=True)
class Shipment:
    line: int  # the CSV line, or the position in the selection
    number: str
    carrier: str
    tracking_number: str


@dataclass
class ShipmentReport:
    shipped: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


class ShipmentFileError(DomainError):
    pass


def read_shipments(data: bytes) -> tuple[list[Shipment], list[tuple[int, str]]]:
    """The rows of an uploaded CSV (UTF-8, with or without a byte-order mark, or GB18030/GBK, as
    Excel saves it; an optional header row), and the lines that cannot be read."""
    try:
        text, _encoding = decode_text(data)
    except ValueError as exc:
        raise ShipmentFileError(
            _("The file is neither UTF-8 nor GB18030 (GBK) text: save it from Excel as “CSV UTF-8”.")
        ) from exc
    rows, problems = [], []
    for line, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in cells]
        if not any(cells):
            continue
        if line == 1 and cells[0].lower() in HEADER_WORDS:
            continue
        if len(rows) >= MAX_ROWS:
            raise ShipmentFileError(_("At most %(count)d rows per file.", count=MAX_ROWS))
        if len(cells) < 3:
            problems.append((line, _("Expected three columns: order number, carrier, tracking number.")))
            continue
        if not all(cells[:3]):
            problems.append((line, _("Each row needs an order number, a carrier and a tracking number.")))
            continue
        number, carrier, tracking = cells[:3]
        if len(carrier) > FIELD_MAX or len(tracking) > FIELD_MAX:
            problems.append(
                (line, _("The carrier and the tracking number take at most %(n)d characters.", n=FIELD_MAX))
            )
            continue
        rows.append(Shipment(line, number, carrier, tracking))
    return rows, problems


def order_by_number(number: str) -> Order | None:
    """``NG00000042`` (any case, with or without the leading zeros) is order 42."""
    order_id = parse_id(number.strip().upper().removeprefix("NG"))
    if order_id is None:
        return None
    return db.session.scalar(select(Order).where(Order.id == order_id))


def ship_all(actor: User, shipments: list[Shipment], *, now: datetime | None = None) -> ShipmentReport:
    """Ship what can be shipped, report the rest by line; the caller commits."""
    report = ShipmentReport()
    for shipment in shipments:
        order = order_by_number(shipment.number)
        if order is None:
            report.problems.append((shipment.line, _("No order %(number)s.", number=shipment.number)))
            continue
        lifecycle.lock_order(order)  # a parallel upload of the same row waits, then finds it shipped
        if order.status in (OrderStatus.shipped, OrderStatus.completed):
            if (order.carrier, order.tracking_number) == (shipment.carrier, shipment.tracking_number):
                report.unchanged.append(order.number)
            else:
                report.problems.append(
                    (
                        shipment.line,
                        _(
                            "Order %(number)s was already shipped with %(carrier)s %(tracking)s.",
                            number=order.number,
                            carrier=order.carrier,
                            tracking=order.tracking_number,
                        ),
                    )
                )
            continue
        try:
            lifecycle.mark_shipped(actor, order, shipment.carrier, shipment.tracking_number, now=now)
        except DomainError as exc:
            report.problems.append((shipment.line, f"{order.number}: {exc.message}"))
            continue
        report.shipped.append(order.number)
    return report
