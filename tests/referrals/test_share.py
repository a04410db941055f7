"""Share tools (issue 3, points 3 and 9): the share link with a copy button on every product page
and the account page, outside the cached fragment; the poster; share events; share-only and
lead-mode product pages."""

from __future__ import annotations

import io
import os
from types import SimpleNamespace

import pytest
from PIL import Image

from referrals.models import EventKind
from referrals.services import poster
from shop import lettering
from shop.catalog import page_cache
from shop.catalog.models import SalesMode
from tests.conftest import login
from tests.referrals.conftest import events


def share_link(product, user) -> str:
    return f"http://shop.neigou.test/p/{product.slug}?ref={user.referral_code}"


def test_product_page_offers_the_viewers_own_share_link_even_from_the_cache(app, client, employee, make_user, product):
    other = make_user(name="Oscar Other")
    app.config["CACHES_ENABLED"] = True
    page_cache.clear()
    try:
        login(client, employee)
        first = client.get(f"/p/{product.slug}").get_data(as_text=True)
        login(client, other)
        second = client.get(f"/p/{product.slug}").get_data(as_text=True)
    finally:
        app.config["CACHES_ENABLED"] = False
        page_cache.clear()
    assert share_link(product, employee) in first and share_link(product, other) not in first
    assert share_link(product, other) in second and share_link(product, employee) not in second
    assert 'data-copy="#share-link"' in second and 'value="poster"' in second
    assert events() == []  # showing the page makes nothing


def test_copying_or_opening_the_link_records_one_share_event_a_day(client, employee, product):
    login(client, employee)
    response = client.post_form(f"/share/p/{product.slug}", {"what": "link"}, headers={"X-Requested-With": "fetch"})
    assert response.status_code == 204
    response = client.post_form(f"/share/p/{product.slug}", {"what": "link"})
    assert response.status_code == 302 and response.headers["Location"] == f"/share/p/{product.slug}"
    [share] = events(EventKind.share)
    assert (share.actor_id, share.link_owner_id, share.root_employee_id, share.product_id, share.source) == (
        employee.id,
        employee.id,
        employee.id,
        product.id,
        "link",
    )
    html = client.get(f"/share/p/{product.slug}").get_data(as_text=True)
    assert share_link(product, employee) in html and 'data-copy="#share-link"' in html
    assert len(events(EventKind.share)) == 1  # the share page itself writes nothing


def test_making_a_poster_records_a_share_and_shows_the_poster(client, employee, product):
    login(client, employee)
    response = client.post_form(f"/share/p/{product.slug}", {"what": "poster"})
    assert response.headers["Location"] == f"/share/p/{product.slug}?poster=1"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'src="/share/p/{product.slug}/poster.png"' in html and "download=1" in html
    assert [e.source for e in events(EventKind.share)] == ["poster"]


def test_a_bad_share_request_is_refused_and_writes_nothing(client, employee, product):
    login(client, employee)
    assert client.post_form(f"/share/p/{product.slug}", {"what": "spam"}).status_code == 422
    assert client.post_form("/share/p/no-such-product", {"what": "link"}).status_code == 404
    assert events() == []


def test_the_poster_is_a_png_with_the_qr_code_of_the_share_link(app, client, employee, product):
    login(client, employee)
    response = client.get(f"/share/p/{product.slug}/poster.png?download=1")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "attachment" in response.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(response.data)).convert("RGB")
    assert image.size == (poster.WIDTH, poster.HEIGHT)
    drawn = image.crop(poster.QR_BOX)
    assert drawn.tobytes() == poster.qr_image(share_link(product, employee)).tobytes()
    assert drawn.tobytes() != poster.qr_image(share_link(product, SimpleNamespace(referral_code="other1"))).tobytes()


def test_poster_with_the_product_picture_and_name_but_no_price(admin, employee, product):
    from shop.catalog.services import add_image

    png = io.BytesIO()
    Image.new("RGB", (50, 50), (0, 200, 0)).save(png, "PNG")
    add_image(admin, product, png.getvalue())
    from flask import current_app

    from referrals.services.links import product_poster

    with current_app.test_request_context():
        image = Image.open(io.BytesIO(product_poster(employee, product))).convert("RGB")
    assert image.getpixel((poster.MARGIN + 10, poster.PICTURE_TOP + 10)) == (0, 200, 0)  # the picture, under the band


def test_invite_link_and_poster_on_the_account_page(client, employee, make_contact):
    login(client, employee)
    html = client.get("/account").get_data(as_text=True)
    assert f"http://shop.neigou.test/r/{employee.referral_code}" in html and 'action="/share/invite"' in html
    assert client.post_form("/share/invite", {"what": "link"}).headers["Location"] == "/share/invite"
    response = client.get("/share/invite/poster.png")
    assert response.status_code == 200 and response.data[:8] == b"\x89PNG\r\n\x1a\n"
    [share] = events(EventKind.share)
    assert (share.product_id, share.source) == (None, "link")
    # An L2 contact cannot invite, so their account page has no invite link.
    l2 = make_contact(make_contact(employee))
    login(client, l2)
    assert f"/r/{l2.referral_code}" not in client.get("/account").get_data(as_text=True)


def test_share_only_product_shows_story_and_share_tools_but_no_price_or_cart(client, employee, make_product):
    item = make_product(name="Brand Story", sales_mode=SalesMode.share_only)
    login(client, employee)
    html = client.get(f"/p/{item.slug}").get_data(as_text=True)
    assert "<strong>Good</strong>" in html and share_link(item, employee) in html
    assert "CN¥" not in html and "/cart/add" not in html and "Refer a customer" not in html


def test_lead_product_shows_refer_a_customer_instead_of_a_cart(app, client, employee, make_product):
    item = make_product(name="Water Purifier", sales_mode=SalesMode.lead)
    app.config["CACHES_ENABLED"] = True
    page_cache.clear()
    try:
        login(client, employee)
        html = client.get(f"/p/{item.slug}").get_data(as_text=True)
        again = client.get(f"/p/{item.slug}").get_data(as_text=True)  # from the cache
    finally:
        app.config["CACHES_ENABLED"] = False
        page_cache.clear()
    assert "Refer a customer" in html and f'action="/refer/{item.slug}"' in html
    for field in (
        "customer_name",
        "customer_phone",
        "customer_email",
        "company",
        "need",
        "budget",
        "timeline",
        "consent",
    ):
        assert f'name="{field}"' in html
    assert "/cart/add" not in html and "CN¥" not in html
    # The lead form's CSRF token is this session's, filled into the cached fragment's slot.
    assert again.count('name="csrf_token"') == html.count('name="csrf_token"') >= 2
    assert "csrf-token-slot" not in again


def _sharer_area(png: bytes) -> bytes:
    box = (
        poster.MARGIN,
        poster.HEIGHT - poster.MARGIN - poster.QR_SIZE,  # where the sharer is written, below no price
        poster.WIDTH - poster.MARGIN - poster.QR_SIZE - 10,
        poster.HEIGHT - poster.MARGIN - 60,
    )
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("L").crop(box).tobytes()


def test_chinese_names_are_drawn_on_the_poster_with_a_cjk_font():
    font = lettering.font_path(None)
    if font is None:
        if os.environ.get("CI") == "true":
            pytest.fail("`make test` installs a CJK font (fonts-wqy-microhei) under CI")
        pytest.skip("no CJK font on this machine (make test installs one when run as root)")
    common = dict(title="茶具", url="https://shop.example/p/tea?ref=abc", caption="扫码查看", picture=None)

    def sharer_drawn(name: str, with_font: str | None) -> bytes:
        return _sharer_area(poster.poster_png(sharer=name, font=with_font, **common))

    # Without the font every Chinese character is the same empty box, so two names look alike.
    assert sharer_drawn("张伟", None) == sharer_drawn("李娜", None)
    assert sharer_drawn("张伟", font) != sharer_drawn("李娜", font)
