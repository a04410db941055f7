"""A buyer's shipping addresses: listing them, and checking and saving a new one.

A mainland address (country CN) names its province, city and district from the list in
shop/orders/regions.py, checked here whatever the form sent, and a mainland mobile number;
an address elsewhere has free address lines, a city and a country. Nothing is saved unless all
of it is right (``AddressInvalid`` carries a message per field).
Countries are shop/orders/places.py's."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from shop.accounts.models import Buyer, User
from shop.errors import DomainError
from shop.extensions import db
from shop.orders import regions
from shop.orders.models import Address
from shop.orders.places import MAINLAND, countries
from shop.phones import mainland_mobile, other_phone

POSTCODE_CN = re.compile(r"\d{6}")
LIMITS = {"recipient": 120, "line1": 200, "line2": 200, "town": 100, "postcode": 20}


@dataclass(frozen=True)
class AddressInput:
    """What the address form sent: codes for the province, city and district (mainland), a
    free ``town`` (elsewhere)."""

    country: str = MAINLAND
    recipient: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    line1: str = ""
    line2: str = ""
    town: str = ""
    postcode: str = ""


class AddressInvalid(DomainError):
    """``errors``: {form field: message}."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values())), errors=errors)
        self.errors = errors


def addresses_of(user: User) -> list[Address]:
    return list(db.session.scalars(select(Address).where(Address.user_id == user.id).order_by(Address.id.desc())))


def address_for(user: User | Buyer, address_id: int) -> Address | None:
    """The user's own address ``address_id``; another user's is not found. By primary key:
    no query when this request has read it already."""
    address = db.session.get(Address, address_id)
    return address if address is not None and address.user_id == user.id else None


def clean_address(data: AddressInput) -> dict:
    """The columns of the address ``data`` describes, or AddressInvalid."""
    value = {name: (getattr(data, name) or "").strip() for name in AddressInput.__dataclass_fields__}
    errors: dict[str, str] = {}
    for name, limit in LIMITS.items():
        if len(value[name]) > limit:
            errors[name] = _("At most %(max)d characters.", max=limit)
    if not value["recipient"]:
        errors["recipient"] = _("Enter the recipient's name.")
    if not value["line1"]:
        errors.setdefault("line1", _("Enter the street address."))
    country = value["country"].upper()
    if country == MAINLAND:
        columns = _mainland(value, errors)
    elif country in countries():
        columns = _elsewhere(value, errors, country)
    else:
        errors["country"] = _("Choose a country or region from the list.")
        columns = {}
    if errors:
        raise AddressInvalid(errors)
    return {"recipient": value["recipient"], "line1": value["line1"], "country": country, **columns}


def _mainland(value: dict, errors: dict) -> dict:
    phone = mainland_mobile(value["phone"])
    if phone is None:
        errors["phone"] = _(
            "Enter a mainland mobile number: 11 digits starting with 13 to 19, e.g. 138 1234 5678 "
            "(+86 may go before it)."
        )
    if value["postcode"] and not POSTCODE_CN.fullmatch(value["postcode"]):
        errors["postcode"] = _("A postcode in mainland China has 6 digits (or leave it empty).")
    try:
        place = regions.check(value["province"], value["city"], value["district"])
    except regions.UnknownRegion as exc:
        errors[exc.level] = _region_message(exc.level, value)
        return {}
    return {
        "phone": phone or "",
        "province": place.province.name,
        "city": place.city.name if place.city else "",
        "district": place.district.name if place.district else "",
        "region_code": place.code,
        "line2": "",
        "postcode": value["postcode"],
    }


def _region_message(level: str, value: dict) -> str:
    if level == "province":
        return _("Choose a province from the list.") if not value["province"] else _("There is no such province.")
    if level == "city":
        if not value["city"]:
            return _("Choose a city.")
        return _("This city is not in the province chosen: choose one from the list.")
    if not value["district"]:
        return _("Choose a district.")
    return _("This district is not in the city chosen: choose one from the list.")


def _elsewhere(value: dict, errors: dict, country: str) -> dict:
    phone = other_phone(value["phone"])
    if phone is None:
        errors["phone"] = _("Enter a phone number with its country code, e.g. +44 20 7946 0000.")
    if not value["town"]:
        errors["town"] = _("Enter the city.")
    return {
        "phone": phone or "",
        "province": "",
        "city": value["town"],
        "district": "",
        "region_code": None,
        "line2": value["line2"],
        "postcode": value["postcode"],
    }


def add_address(user: User, data: AddressInput) -> Address:
    """Check and save a new address of ``user``; AddressInvalid saves nothing."""
    address = Address(user_id=user.id, **clean_address(data))
    db.session.add(address)
    db.session.flush()
    return address
