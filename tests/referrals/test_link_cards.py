"""Share links that look right in a chat app: Open Graph tags (title, description, an absolute
picture, never a price), the landing on the shared product after sign-up and confirmation, no
invite link or invite poster for L2 contacts, and phone-sized portrait posters."""

from __future__ import annotations

import html
import io
import re
from collections import Counter
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from referrals.services import poster
from shop import lettering
from shop.catalog.services import add_image
from tests.conftest import link_in, login, outbox
from tests.referrals.conftest import NEW_PASSWORD, join, mail_body

SITE = "http://shop.neigou.test"


def og(page: str) -> dict[str, str]:
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<meta property="og:([a-z:_]+)" content="([^"]*)"', page)
    }


def with_picture(admin, product, colour=(0, 200, 0)):
    png = io.BytesIO()
    Image.new("RGB", (60, 60), colour).save(png, "PNG")
    add_image(admin, product, png.getvalue())


# ---- Open Graph ------------------------------------------------------------------------------


def test_a_product_share_link_carries_open_graph_tags_without_a_price(client, admin, employee, product):
    with_picture(admin, product)
    page = client.get(f"/p/{product.slug}?ref={employee.referral_code}").get_data(as_text=True)
    tags = og(page)
    assert tags["title"] == product.name and tags["type"] == "product"
    assert tags["description"]
    assert tags["url"] == f"{SITE}/p/{product.slug}?ref={employee.referral_code}"
    assert re.fullmatch(rf"{SITE}/media/[^\"]+", tags["image"])  # absolute, from PUBLIC_URL
    head = page.split("</head>")[0]
    assert "¥" not in head and "CN¥" not in page
    picture = client.get(tags["image"].removeprefix(SITE))  # a visitor can fetch it
    assert picture.status_code == 200
    picture.close()


def test_an_invite_link_carries_open_graph_tags_with_the_link_card(client, employee):
    tags = og(client.get(f"/r/{employee.referral_code}").get_data(as_text=True))
    assert "Erin Employee invites you" in tags["title"] and tags["type"] == "website"
    assert tags["url"] == f"{SITE}/r/{employee.referral_code}"
    assert tags["image"] == f"{SITE}/share/card.png"
    card = client.get("/share/card.png")  # no log-in: chat apps fetch it as visitors
    assert card.status_code == 200 and card.mimetype == "image/png"
    assert Image.open(io.BytesIO(card.data)).size == (poster.CARD_WIDTH, poster.CARD_HEIGHT)


def test_a_closed_link_names_nobody_in_its_tags(client, employee, make_contact):
    l1 = make_contact(employee, name="Lena One")
    l2 = make_contact(l1, name="Tom Two")
    page = client.get(f"/r/{l2.referral_code}").get_data(as_text=True)
    tags = og(page)
    assert "invites you" not in tags["title"] and "Lena One" not in page
    assert tags["description"] == "This link cannot be used to join"


# ---- the landing after sign-up -----------------------------------------------------------------


def test_a_friend_who_joins_through_a_product_link_lands_on_that_product(app, client, employee, product):
    assert join(client, employee.referral_code, "fay@mail.example", product=product.slug).status_code == 200
    [message] = outbox(app)
    link = link_in(mail_body(message), "/verify/")
    assert parse_qs(urlsplit(link).query)["next"] == [f"/p/{product.slug}"]
    confirmed = client.get(link)
    assert confirmed.status_code == 302
    login_page = confirmed.headers["Location"]
    assert login_page == f"/login?next=/p/{product.slug}"
    response = client.post_form(login_page, {"email": "fay@mail.example", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == f"/p/{product.slug}"
    assert "Tea Set" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_invite_link_sign_up_lands_on_the_home_page_and_next_stays_on_this_site(app, client, employee):
    assert join(client, employee.referral_code, "gus@mail.example").status_code == 200
    [message] = outbox(app)
    link = link_in(mail_body(message), "/verify/")
    assert "next=" not in link
    assert client.get(link).headers["Location"] == "/login"
    token = urlsplit(link).path.rsplit("/", 1)[-1]
    assert client.get(f"/verify/{token}?next=//evil.example/x").headers["Location"] == "/login"


# ---- L2 contacts: product share links, no invites ------------------------------------------------


def test_an_l2_contact_is_offered_product_links_but_no_invite(client, employee, make_contact, product):
    l2 = make_contact(make_contact(employee))
    login(client, l2)
    assert f"/r/{l2.referral_code}" not in client.get("/account").get_data(as_text=True)
    network = client.get("/network").get_data(as_text=True)
    assert "Invite friends" not in network and "they cannot join through your link" in network
    refused = client.get("/share/invite")
    assert refused.status_code == 302 and refused.headers["Location"] == "/network"
    assert client.post_form("/share/invite", {"what": "poster"}, token_from="/account").status_code == 302
    assert client.get("/share/invite/poster.png").status_code == 404
    # Sharing a product for exposure stays, and says that nobody joins through it.
    page = client.get(f"/share/p/{product.slug}").get_data(as_text=True)
    assert f"/p/{product.slug}?ref={l2.referral_code}" in page and "cannot join through it" in page
    assert client.get(f"/share/p/{product.slug}/poster.png").status_code == 200


def test_an_l1_contact_still_invites(client, employee, make_contact):
    l1 = make_contact(employee)
    login(client, l1)
    assert client.get("/share/invite").status_code == 200
    assert client.get("/share/invite/poster.png").status_code == 200


# ---- posters ------------------------------------------------------------------------------------------


def test_posters_are_portrait_phone_screens_and_the_invite_poster_is_not_blank(client, employee):
    login(client, employee)
    image = Image.open(io.BytesIO(client.get("/share/invite/poster.png").data)).convert("RGB")
    assert image.size == (poster.WIDTH, poster.HEIGHT) and poster.HEIGHT / poster.WIDTH >= 16 / 9 - 0.01
    colours = Counter(image.get_flattened_data())
    _colour, most = colours.most_common(1)[0]
    assert most / (poster.WIDTH * poster.HEIGHT) < 0.6  # no colour, white or other, fills most of it
    assert colours[(255, 255, 255)] / (poster.WIDTH * poster.HEIGHT) < 0.3
    drawn = image.crop(poster.INVITE_QR_BOX)
    assert drawn.tobytes() == poster.qr_image(f"{SITE}/r/{employee.referral_code}", poster.INVITE_QR_SIZE).tobytes()


def test_the_product_poster_has_the_picture_the_sharer_and_the_code(app, client, admin, employee, product):
    with_picture(admin, product, (0, 0, 200))
    login(client, employee)
    image = Image.open(io.BytesIO(client.get(f"/share/p/{product.slug}/poster.png").data)).convert("RGB")
    assert image.getpixel((poster.WIDTH // 2, poster.PICTURE_TOP + poster.PICTURE // 2)) == (0, 0, 200)
    assert (
        image.crop(poster.QR_BOX).tobytes()
        == poster.qr_image(f"{SITE}/p/{product.slug}?ref={employee.referral_code}").tobytes()
    )
    sharer = image.convert("L").crop(poster.SHARER_BOX)
    assert sharer.getextrema()[0] < 100  # dark text where the sharer's name is written


def test_long_chinese_and_english_text_wraps_within_the_width():
    font = lettering.load_font(lettering.font_path(None), 44)
    wrapped = lettering.wrap("景德镇手工青花瓷茶具套装一壶四杯配竹制茶盘与礼盒包装", font, 400, 2)
    assert len(wrapped) == 2 and wrapped[-1].endswith("…")
    assert all(font.getlength(line) <= 400 for line in wrapped)
    english = lettering.wrap("A hand-painted porcelain tea set with four cups", font, 400, 5)
    assert len(english) > 1 and all(not line.startswith(" ") for line in english)
    assert " ".join(english) == "A hand-painted porcelain tea set with four cups"
