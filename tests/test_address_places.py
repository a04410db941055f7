"""The places an address may be in: only real countries and territories (ISO 3166-1), not the
other codes Babel names (EU, UN, pseudo-locales...), offered nor accepted; Hong Kong, Macao and
Taiwan named as parts of China in both languages; China first, the rest in the reader's order;
Taiwan Province in the mainland list with a usable code."""

from __future__ import annotations

import html
import re

import pytest
from babel import Locale
from flask_babel import force_locale
from sqlalchemy import func, select

from shop.extensions import db
from shop.orders import regions
from shop.orders.addresses import AddressInput, AddressInvalid, add_address
from shop.orders.models import Address, Order
from shop.orders.places import countries, country_choices, country_name
from shop.quotas.services import ensure_default_rules
from tests.conftest import login

NOT_PLACES = ["EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "XK", "AC", "TA", "CP", "CQ", "DG", "EA", "IC"]
OPTION_RE = re.compile(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>')


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def elsewhere(country: str) -> AddressInput:
    return AddressInput(
        country=country, recipient="Ann Lee", phone="+32 2 555 0100", line1="1 Rue de la Loi", town="Brussels"
    )


# ---- which places ----------------------------------------------------------------------------------


def test_the_places_are_the_iso_countries_babel_can_name():
    babel_codes = {code for code in Locale("en").territories if len(code) == 2 and code.isalpha()}
    assert len(countries()) == 249 and countries() <= babel_codes  # every one has a name
    assert babel_codes - countries() == set(NOT_PLACES)
    assert {"CN", "HK", "MO", "TW", "GB", "US", "AQ", "AX", "SH"} <= countries()


@pytest.mark.parametrize("code", NOT_PLACES)
def test_codes_that_are_no_place_are_neither_offered_nor_accepted(app, employee, code):
    for language in ("zh_CN", "en"):
        assert code not in dict(country_choices(language))
    with pytest.raises(AddressInvalid) as refused:
        add_address(employee, elsewhere(code))
    assert set(refused.value.errors) == {"country"}
    assert count(Address) == 0


def test_an_address_in_taiwan_hong_kong_or_macao_has_the_western_form(employee):
    for code in ("TW", "HK", "MO"):
        assert add_address(employee, elsewhere(code)).country == code
    assert count(Address) == 3


# ---- names and order -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "names"),
    [
        ("zh_CN", {"CN": "中国", "HK": "中国香港特别行政区", "MO": "中国澳门特别行政区", "TW": "中国台湾"}),
        ("en", {"CN": "China", "HK": "Hong Kong SAR, China", "MO": "Macao SAR, China", "TW": "Taiwan, China"}),
    ],
)
def test_china_and_its_regions_come_first_named_as_parts_of_china(app, language, names):
    with app.test_request_context(), force_locale(language):
        choices = country_choices()  # the page's language
        assert {code: country_name(code) for code in names} == names
    assert choices[:4] == list(names.items())
    assert choices == country_choices(language)
    assert len(choices) == len(countries()) and len(dict(choices)) == len(choices)
    assert not [name for code, name in choices if code != "TW" and name in ("台湾", "Taiwan")]


def test_in_chinese_the_others_are_in_pinyin_order():
    names = [name for _code, name in country_choices("zh_CN")[4:]]
    assert names[:3] == ["阿尔巴尼亚", "阿尔及利亚", "阿富汗"]  # a-er-ba, a-er-ji, a-fu
    assert names.index("巴西") < names.index("冰岛") < names.index("丹麦") < names.index("德国")
    assert names.index("英国") < names.index("越南") < names.index("赞比亚") < names.index("智利")
    assert names[-1] == "中非共和国"  # zhong-fei, after zhi-li


def test_in_english_the_others_are_in_alphabetical_order_without_accents():
    names = [name for _code, name in country_choices("en")[4:]]
    assert names[:3] == ["Afghanistan", "Åland Islands", "Albania"]
    assert names.index("Côte d’Ivoire") < names.index("Croatia")
    assert names[-1] == "Zimbabwe"


# ---- the mainland list -----------------------------------------------------------------------------------


def test_taiwan_province_has_its_code_like_hong_kong_and_macao():
    provinces = {p.name: p.code for p in regions.provinces()}
    assert (provinces["香港特别行政区"], provinces["澳门特别行政区"], provinces["台湾省"]) == ("81", "82", "71")
    assert all(code.isascii() and code.isdigit() for code in provinces.values())
    assert regions.check("71", "", "").province.name == "台湾省"
    with pytest.raises(regions.UnknownRegion):
        regions.check("资料暂缺", "", "")


# ---- the form -----------------------------------------------------------------------------------------------


@pytest.fixture
def at_checkout(client, employee, product):
    ensure_default_rules()
    db.session.commit()
    login(client, employee)
    client.post_form("/cart/add", {"variant_id": str(product.variants[0].id), "quantity": "1", "back": "/"})
    return client


def country_options(page: str) -> list[tuple[str, str]]:
    select_ = re.search(r'<select[^>]*name="country".*?</select>', page, re.S).group(0)
    return [(code, html.unescape(name)) for code, name in OPTION_RE.findall(select_)]


def test_the_checkout_form_offers_no_fake_place_and_a_usable_taiwan_province(at_checkout):
    page = at_checkout.get("/checkout").get_data(as_text=True)
    offered = dict(country_options(page))
    assert len(offered) == 249 and not set(NOT_PLACES) & set(offered)
    assert '<option value="71">台湾省</option>' in page and "资料暂缺" not in page


def test_posting_a_fake_place_is_a_form_error_and_saves_nothing(at_checkout):
    data = {"address_id": "0", "recipient": "Ann Lee", "phone": "+32 2 555 0100", "line1": "1 Rue de la Loi"}
    refused = at_checkout.post_form("/checkout", {**data, "town": "Brussels", "country": "EU"})
    assert refused.status_code == 422
    assert "Choose a country or region from the list." in html.unescape(refused.get_data(as_text=True))
    assert count(Address) == 0 and count(Order) == 0


@pytest.mark.parametrize(
    ("language", "first"),
    [
        ("zh_CN", [("CN", "中国"), ("HK", "中国香港特别行政区"), ("MO", "中国澳门特别行政区"), ("TW", "中国台湾")]),
        ("en", [("CN", "China"), ("HK", "Hong Kong SAR, China"), ("MO", "Macao SAR, China"), ("TW", "Taiwan, China")]),
    ],
)
def test_the_checkout_form_lists_the_places_in_the_readers_language_and_order(at_checkout, employee, language, first):
    employee.preferred_locale = language
    db.session.commit()
    offered = country_options(at_checkout.get("/checkout").get_data(as_text=True))
    assert offered == country_choices(language) and offered[:4] == first
