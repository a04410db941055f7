"""Chinese addresses and phones: mainland mobile numbers (checked, stored as +86 and eleven
digits, masked on lists), province / city / district from the shipped list and checked on the
server, the form without script and its script's lists, the form for other countries, and the
migration of the addresses already saved (on SQLite and PostgreSQL)."""

from __future__ import annotations

import html
import os

import flask_migrate
import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from shop import create_app
from shop.extensions import db
from shop.orders import regions
from shop.orders.addresses import AddressInput, AddressInvalid, add_address, clean_address
from shop.orders.models import Address, Order
from shop.phones import mainland_mobile, masked
from shop.quotas.services import ensure_default_rules
from tests.conftest import login

PUDONG = {"province": "31", "city": "3101", "district": "310115"}  # 上海市 上海市 浦东新区


def shanghai(**changes) -> AddressInput:
    fields = {
        "country": "CN",
        "recipient": "王芳",
        "phone": "138 1234 5678",
        "line1": "世纪大道1号",
        "postcode": "200120",
        **PUDONG,
    }
    return AddressInput(**{**fields, **changes})


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ---- mobile phones ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678", "008613812345678"],
)
def test_mainland_mobile_numbers_are_accepted_and_stored_in_one_form(typed):
    assert mainland_mobile(typed) == "+8613812345678"


@pytest.mark.parametrize(
    "typed",
    ["", "1381234567", "138123456789", "12812345678", "10012345678", "+85261234567", "+1 415 555 0100", "phone"],
)
def test_other_numbers_are_not_mainland_mobiles(typed):
    assert mainland_mobile(typed) is None


def test_numbers_are_masked_on_lists():
    assert masked("+8613812345678") == "138****5678"
    assert masked("+86 138 0000 0000") == "138****0000"
    assert masked("+442079460000") == "+44******0000"


# ---- the list of regions -----------------------------------------------------------------------


def test_the_region_list_has_every_province_and_checks_combinations():
    names = [p.name for p in regions.provinces()]
    assert len(names) == 34 and "广东省" in names and "上海市" in names
    place = regions.check(*PUDONG.values())
    assert (place.province.name, place.city.name, place.district.name, place.code) == (
        "上海市",
        "上海市",
        "浦东新区",
        "310115",
    )
    dongguan = regions.check("44", "4419", "")  # a city without districts
    assert (dongguan.city.name, dongguan.district, dongguan.code) == ("东莞市", None, "4419")
    assert regions.check("81", "", "").province.name == "香港特别行政区"
    assert "天河区" in [d.name for d in regions.districts("4401")]


@pytest.mark.parametrize(
    ("codes", "level"),
    [
        (("31", "3101", "440106"), "district"),  # Guangzhou's Tianhe district under Shanghai
        (("44", "3101", "310115"), "city"),  # Shanghai under Guangdong
        (("99", "", ""), "province"),
        (("", "3101", "310115"), "province"),
        (("44", "4401", ""), "district"),  # Guangzhou has districts: one must be chosen
        (("44", "", ""), "city"),
        (("44", "4419", "441900"), "district"),  # Dongguan has none
    ],
)
def test_a_combination_that_does_not_exist_is_refused(codes, level):
    with pytest.raises(regions.UnknownRegion) as refused:
        regions.check(*codes)
    assert refused.value.level == level


# ---- checking and saving ------------------------------------------------------------------------


def test_a_mainland_address_is_saved_with_its_divisions_and_code(employee):
    address = add_address(employee, shanghai())
    assert (address.phone, address.province, address.city, address.district, address.region_code) == (
        "+8613812345678",
        "上海市",
        "上海市",
        "浦东新区",
        "310115",
    )
    assert address.one_line() == "王芳，13812345678，上海市浦东新区世纪大道1号，200120"
    assert address.one_line(mask_phone=True) == "王芳，138****5678，上海市浦东新区世纪大道1号，200120"
    assert add_address(employee, shanghai(postcode="")).postcode == ""  # the postcode is optional


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phone": "12812345678"}, "phone", "Enter a mainland mobile number"),
        ({"phone": "+86 138 1234 567"}, "phone", "Enter a mainland mobile number"),
        ({"district": "440106"}, "district", "This district is not in the city chosen"),
        ({"city": "4401"}, "city", "This city is not in the province chosen"),
        ({"province": "44"}, "city", "This city is not in the province chosen"),
        ({"province": ""}, "province", "Choose a province from the list."),
        ({"postcode": "20012"}, "postcode", "A postcode in mainland China has 6 digits"),
        ({"recipient": " "}, "recipient", "Enter the recipient's name."),
        ({"line1": ""}, "line1", "Enter the street address."),
        ({"country": "XX"}, "country", "Choose a country or region from the list."),
    ],
)
def test_a_bad_address_says_what_is_wrong_and_saves_nothing(employee, changes, field, message):
    with pytest.raises(AddressInvalid) as refused:
        add_address(employee, shanghai(**changes))
    assert refused.value.errors[field].startswith(message)
    assert count(Address) == 0


def test_an_address_outside_mainland_china_has_the_western_form(employee):
    address = add_address(
        employee,
        AddressInput(
            country="GB",
            recipient="Ann Lee",
            phone="+44 20 7946 0000",
            line1="1 High Street",
            line2="Flat 2",
            town="London",
            postcode="SW1A 1AA",
        ),
    )
    assert (address.city, address.province, address.region_code, address.phone) == ("London", "", None, "+442079460000")
    assert address.one_line() == "Ann Lee, +442079460000, 1 High Street, Flat 2, London, SW1A 1AA, United Kingdom"
    with pytest.raises(AddressInvalid) as refused:
        clean_address(AddressInput(country="GB", recipient="Ann", phone="x", line1="1 High Street"))
    assert set(refused.value.errors) == {"phone", "town"}


# ---- the form, with and without script --------------------------------------------------------------


@pytest.fixture
def at_checkout(client, employee, product):
    ensure_default_rules()
    db.session.commit()
    login(client, employee)
    client.post_form("/cart/add", {"variant_id": str(product.variants[0].id), "quantity": "1", "back": "/"})
    return client


def test_without_script_the_form_comes_back_with_the_lists_of_what_was_chosen(at_checkout):
    page = at_checkout.get("/checkout").get_data(as_text=True)
    assert '<option value="44">广东省</option>' in page and "广州市" not in page
    cities = at_checkout.post_form(
        "/checkout", {"address_id": "0", "country": "CN", "province": "44", "regions": "y", "recipient": "王芳"}
    )
    page = cities.get_data(as_text=True)
    assert cities.status_code == 200 and '<option value="4401">广州市</option>' in page
    assert 'value="王芳"' in page  # what was typed stays
    districts = at_checkout.post_form(
        "/checkout", {"address_id": "0", "country": "CN", "province": "44", "city": "4401", "regions": "y"}
    )
    assert '<option value="440106">天河区</option>' in districts.get_data(as_text=True)
    assert count(Address) == 0 and count(Order) == 0  # asking for the lists saves nothing


def test_a_combination_that_does_not_exist_is_refused_at_checkout(at_checkout):
    data = {"address_id": "0", "recipient": "王芳", "phone": "13812345678", "line1": "天河路1号", "country": "CN"}
    refused = at_checkout.post_form("/checkout", {**data, "province": "31", "city": "3101", "district": "440106"})
    assert refused.status_code == 422
    assert "This district is not in the city chosen: choose one from the list." in html.unescape(
        refused.get_data(as_text=True)
    )
    assert count(Address) == 0 and count(Order) == 0
    placed = at_checkout.post_form("/checkout", {**data, "province": "44", "city": "4401", "district": "440106"})
    assert placed.status_code == 302
    assert db.session.scalar(select(Order.ship_to)) == "王芳，13812345678，广东省广州市天河区天河路1号"


def test_the_script_reads_the_lists_from_the_server(at_checkout):
    assert {"code": "4401", "name": "广州市"} in at_checkout.get("/addresses/regions?parent=44").get_json()
    assert {"code": "440106", "name": "天河区"} in at_checkout.get("/addresses/regions?parent=4401").get_json()
    assert at_checkout.get("/addresses/regions?parent=nope").get_json() == []
    page = at_checkout.get("/checkout").get_data(as_text=True)
    assert 'data-regions-url="/addresses/regions"' in page and "/static/address.js" in page


# ---- the migration of the addresses already saved ---------------------------------------------------


def test_existing_addresses_are_migrated(empty_database_url, tmp_path):
    os.environ["NEIGOU_INSTANCE_PATH"] = str(tmp_path)
    try:
        migrated = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    finally:
        os.environ.pop("NEIGOU_INSTANCE_PATH")
    before = [
        ("+86 138 0000 0000", "1 Century Avenue", "Shanghai", "CN"),
        ("13912345678", "天河路1号", "广州市", "CN"),
        ("0086 139-1234-5678", "人民路2号", "北京", "CN"),
        ("021 5888 0000", "3 Renmin Road", "Suzhou", "CN"),  # 苏州 or 宿州: left as it was
        ("+44 20 7946 0000", "1 High Street", "London", "GB"),
    ]
    with migrated.app_context():
        flask_migrate.upgrade(revision="e19a0b7c4d21")  # the one before the Chinese addresses
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO users (email, name, kind, role, created_at, referral_code, session_token)"
                    " VALUES ('old@neigou.example', 'Old User', 'employee', 'member', CURRENT_TIMESTAMP, 'code0',"
                    " 'token-of-old-user-0')"
                )
            )
            user_id = conn.execute(sa.text("SELECT id FROM users")).scalar_one()
            for phone, line1, city, country in before:
                conn.execute(
                    sa.text(
                        "INSERT INTO addresses (user_id, recipient, phone, line1, line2, city, postcode, country,"
                        " created_at) VALUES (:user_id, 'R', :phone, :line1, '', :city, '200000', :country,"
                        " CURRENT_TIMESTAMP)"
                    ),
                    {"user_id": user_id, "phone": phone, "line1": line1, "city": city, "country": country},
                )
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            after = conn.execute(
                sa.text("SELECT phone, province, city, district, region_code, line1 FROM addresses ORDER BY id")
            ).all()
        db.session.remove()
        db.engine.dispose()
    assert [tuple(row) for row in after] == [
        ("+8613800000000", "上海市", "上海市", "", "3101", "1 Century Avenue"),
        ("+8613912345678", "广东省", "广州市", "", "4401", "天河路1号"),
        ("+8613912345678", "北京市", "北京市", "", "1101", "人民路2号"),
        ("021 5888 0000", "", "Suzhou", "", None, "3 Renmin Road"),
        ("+44 20 7946 0000", "", "London", "", None, "1 High Street"),
    ]
