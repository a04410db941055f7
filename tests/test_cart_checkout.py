"""The buyer's path through the real forms: cart, checkout with an address, the order page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from shop.accounts.models import Kind
from shop.cart.models import CartLine
from shop.catalog.models import SalesMode, Variant
from shop.extensions import db
from shop.orders.models import Address, Order, OrderStatus, PaymentMethod
from shop.quotas.services import ensure_default_rules
from tests.conftest import CsrfClient, login

NEW_ADDRESS = {
    "address_id": "0",
    "country": "CN",
    "recipient": "李雷",
    "phone": "+86 139 1234 5678",
    "province": "31",
    "city": "3101",
    "district": "310101",  # 上海市黄浦区
    "line1": "南京东路8号3室",
    "postcode": "200001",
}


@pytest.fixture(autouse=True)
def default_rules(app):
    """The quota rules every shop starts with (the migration seeds them): at most 5 units of
    one item per order, and the employees' yearly spending cap."""
    ensure_default_rules()
    db.session.commit()


@pytest.fixture
def other_client(client, app) -> CsrfClient:
    """A second browser (someone else's session)."""
    return app.test_client()  # the client fixture made CsrfClient the app's test client class


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stock_of(variant_id: int) -> int:
    return db.session.scalar(select(Variant.stock).where(Variant.id == variant_id))


def cart_of(user) -> dict[int, int]:
    rows = db.session.execute(select(CartLine.variant_id, CartLine.quantity).where(CartLine.user_id == user.id))
    return dict(rows.all())


def add(client, variant, quantity, **kwargs):
    return client.post_form(
        "/cart/add", {"variant_id": str(variant.id), "quantity": str(quantity), "back": "/p/somewhere"}, **kwargs
    )


def text(response) -> str:
    return response.get_data(as_text=True)


# ---- cart ------------------------------------------------------------------------------------


def test_add_to_cart_keeps_a_line_per_user_and_shows_the_cap(client, other_client, employee, make_user, product):
    variant = product.variants[0]
    login(client, employee)
    response = add(client, variant, 2, follow_redirects=True)
    html = text(response)
    assert response.status_code == 200
    assert "Added to your cart." in html
    assert "Tea Set" in html and 'value="2"' in html
    assert "3 more allowed (limit: At most 5 units of any one item per buyer per order)" in html
    assert "CN¥140.00" in html  # 2 x the employee price
    assert cart_of(employee) == {variant.id: 2}

    someone = make_user()
    html = text(login(other_client, someone).get("/cart/"))
    assert "Your cart is empty." in html and "Tea Set" not in html
    assert cart_of(someone) == {}


def test_adding_the_same_item_again_grows_the_same_line(client, employee, product):
    variant = product.variants[0]
    login(client, employee)
    add(client, variant, 2)
    add(client, variant, 1)
    assert cart_of(employee) == {variant.id: 3}
    assert count(CartLine) == 1


def test_adding_more_than_the_retail_cap_at_once_is_refused(client, employee, product):
    login(client, employee)
    response = add(client, product.variants[0], 6)
    assert response.status_code == 302 and response.headers["Location"] == "/p/somewhere"
    html = text(client.get("/cart/"))
    assert (
        "The rule “At most 5 units of any one item per buyer per order” allows 5 units in one order; "
        "your cart would hold 6 units." in html
    )
    assert cart_of(employee) == {}


def test_the_retail_cap_counts_what_is_already_in_the_cart(client, employee, product):
    variant = product.variants[0]
    login(client, employee)
    add(client, variant, 3)
    html = text(add(client, variant, 3, follow_redirects=True))
    assert "allows 5 units in one order; your cart would hold 6 units." in html
    assert cart_of(employee) == {variant.id: 3}


@pytest.mark.parametrize(
    "back",
    [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
    ],
)
def test_the_way_back_after_a_refused_add_stays_on_this_site(client, employee, product, back):
    login(client, employee)
    response = client.post_form("/cart/add", {"variant_id": str(product.variants[0].id), "quantity": "6", "back": back})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and not urlsplit(location).netloc
    assert cart_of(employee) == {}


def test_quantity_changes_in_place_within_the_cap(client, employee, product):
    variant = product.variants[0]
    login(client, employee)
    add(client, variant, 1)
    line_id = db.session.scalar(select(CartLine.id))

    client.post_form(f"/cart/lines/{line_id}", {"quantity": "5"})
    assert db.session.scalar(select(CartLine.quantity).where(CartLine.id == line_id)) == 5
    assert count(CartLine) == 1

    html = text(client.post_form(f"/cart/lines/{line_id}", {"quantity": "6"}, follow_redirects=True))
    assert "allows 5 units in one order; your cart would hold 6 units." in html
    assert db.session.scalar(select(CartLine.quantity).where(CartLine.id == line_id)) == 5

    html = text(client.post_form(f"/cart/lines/{line_id}", {"quantity": "lots"}, follow_redirects=True))
    assert "Enter a whole number of units (0 removes the line)." in html
    assert db.session.scalar(select(CartLine.quantity).where(CartLine.id == line_id)) == 5

    client.post_form(f"/cart/lines/{line_id}", {"quantity": "0"})
    assert cart_of(employee) == {}


def test_remove_deletes_the_line(client, employee, make_product):
    keep, drop = make_product(name="Keep"), make_product(name="Drop")
    login(client, employee)
    add(client, keep.variants[0], 1)
    add(client, drop.variants[0], 2)
    line_id = db.session.scalar(select(CartLine.id).where(CartLine.variant_id == drop.variants[0].id))
    html = text(client.post_form(f"/cart/lines/{line_id}/remove", follow_redirects=True))
    assert "Keep" in html and "Drop" not in html
    assert cart_of(employee) == {keep.variants[0].id: 1}


def test_another_users_cart_line_is_not_found(client, other_client, employee, make_user, product):
    variant = product.variants[0]
    login(client, employee)
    add(client, variant, 2)
    line_id = db.session.scalar(select(CartLine.id))
    login(other_client, make_user())
    assert other_client.post_form(f"/cart/lines/{line_id}", {"quantity": "1"}).status_code == 404
    assert other_client.post_form(f"/cart/lines/{line_id}", {"quantity": "0"}).status_code == 404
    assert other_client.post_form(f"/cart/lines/{line_id}/remove").status_code == 404
    assert cart_of(employee) == {variant.id: 2}


@pytest.mark.parametrize("mode", [SalesMode.lead, SalesMode.share_only])
def test_lead_and_share_only_products_cannot_be_put_in_the_cart(client, employee, make_product, mode):
    product = make_product(sales_mode=mode)
    login(client, employee)
    html = text(add(client, product.variants[0], 1, follow_redirects=True))
    assert "This product cannot be bought online." in html
    assert count(CartLine) == 0


def test_inactive_or_unknown_items_cannot_be_put_in_the_cart(client, employee, make_product):
    hidden = make_product(active=False)
    login(client, employee)
    html = text(add(client, hidden.variants[0], 1, follow_redirects=True))
    assert "This item is not for sale." in html
    response = client.post_form("/cart/add", {"variant_id": "999999", "quantity": "1"}, follow_redirects=True)
    assert "This item is not for sale." in text(response)
    assert count(CartLine) == 0


# ---- checkout --------------------------------------------------------------------------------


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(client, employee):
    login(client, employee)
    response = client.get("/checkout", follow_redirects=True)
    assert response.request.path == "/cart/"
    assert "Your cart is empty." in text(response)


def test_checkout_with_a_new_address_places_the_order(client, employee, product):
    variant = product.variants[0]
    login(client, employee)
    add(client, variant, 2)
    html = text(client.get("/checkout"))
    assert "Tea Set" in html and "CN¥140.00" in html and 'name="recipient"' in html

    response = client.post_form("/checkout", NEW_ADDRESS)
    order = db.session.scalar(select(Order))
    assert order is not None
    assert response.status_code == 302 and response.headers["Location"] == f"/orders/{order.id}"
    assert order.buyer_id == employee.id and order.status == OrderStatus.pending_payment
    assert order.total_amount == 2 * 7_000
    assert order.ship_to == "李雷，13912345678，上海市黄浦区南京东路8号3室，200001"
    saved = db.session.scalars(select(Address)).all()
    assert [(a.user_id, a.recipient, a.province, a.city, a.district, a.region_code) for a in saved] == [
        (employee.id, "李雷", "上海市", "上海市", "黄浦区", "310101")
    ]
    assert stock_of(variant.id) == 8
    assert cart_of(employee) == {}

    html = text(client.get(f"/orders/{order.id}"))
    assert order.number in html and "pending payment" in html and "CN¥140.00" in html


def test_checkout_reuses_a_saved_address(client, employee, product, make_address):
    address = make_address(employee)
    login(client, employee)
    add(client, product.variants[0], 1)
    html = text(client.get("/checkout"))
    assert address.one_line(mask_phone=True) in html and "138****0000" in html  # masked in the list

    response = client.post_form("/checkout", {"address_id": str(address.id), "country": "CN"})
    assert response.status_code == 302
    order = db.session.scalar(select(Order))
    assert order.ship_to == address.one_line()
    assert count(Address) == 1


def test_checkout_with_missing_address_fields_rerenders_and_writes_nothing(client, employee, product):
    variant = product.variants[0]
    login(client, employee)
    add(client, variant, 2)
    data = {**NEW_ADDRESS, "recipient": "", "district": "", "phone": "12345"}
    response = client.post_form("/checkout", data)
    html = text(response)
    assert response.status_code == 422
    assert "Enter the recipient&#39;s name." in html and "Choose a district." in html
    assert "Enter a mainland mobile number" in html
    assert 'value="南京东路8号3室"' in html  # what was typed is kept
    assert count(Order) == 0 and count(Address) == 0
    assert stock_of(variant.id) == 10
    assert cart_of(employee) == {variant.id: 2}


def test_checkout_with_someone_elses_saved_address_is_not_found(client, employee, make_user, product, make_address):
    variant = product.variants[0]
    foreign = make_address(make_user(name="Mallory"))
    login(client, employee)
    add(client, variant, 1)
    assert "Mallory" not in text(client.get("/checkout"))
    response = client.post_form("/checkout", {"address_id": str(foreign.id), "country": "CN"})
    assert response.status_code == 404
    assert count(Order) == 0 and count(Address) == 1
    assert stock_of(variant.id) == 10 and cart_of(employee) == {variant.id: 1}


def test_short_stock_shows_what_is_short_and_writes_nothing(client, employee, make_product):
    scarce = make_product(name="Tea Set", stock=2)
    plenty = make_product(name="Rice Cooker", stock=50)
    login(client, employee)
    add(client, plenty.variants[0], 1)
    add(client, scarce.variants[0], 3)
    response = client.post_form("/checkout", NEW_ADDRESS)
    html = text(response)
    assert response.status_code == 422
    assert "Not enough stock for some items; nothing was ordered." in html
    assert "Tea Set (Option 0): you want 3, 2 left" in html
    assert "Rice Cooker (Option 0): you want" not in html
    assert count(Order) == 0
    assert count(Address) == 0
    assert stock_of(scarce.variants[0].id) == 2 and stock_of(plenty.variants[0].id) == 50
    assert cart_of(employee) == {plenty.variants[0].id: 1, scarce.variants[0].id: 3}


def test_a_contact_checks_out_at_the_contact_price_and_cannot_use_payroll(client, make_user, employee, product):
    contact = make_user(kind=Kind.contact, level=1, root_employee_id=employee.id, referrer_id=employee.id)
    login(client, contact)
    add(client, product.variants[0], 2)
    client.post_form("/checkout", NEW_ADDRESS)
    order = db.session.scalar(select(Order))
    assert order.buyer_id == contact.id and order.total_amount == 2 * 8_500
    assert order.root_employee_id == employee.id

    html = text(client.get(f"/orders/{order.id}"))
    assert "Card payment is not available in this shop." in html
    assert f'action="/orders/{order.id}/pay"' not in html
    html = text(client.post_form(f"/orders/{order.id}/pay", follow_redirects=True))
    assert "Payroll deduction is for employees only." in html
    db.session.refresh(order)
    assert order.status == OrderStatus.pending_payment and order.paid_at is None


# ---- the order page --------------------------------------------------------------------------


def test_another_users_order_is_not_found(client, employee, make_user, product, place):
    variant = product.variants[0]
    order = place(employee, variant, 2)
    login(client, make_user(name="Mallory"))
    assert client.get(f"/orders/{order.id}").status_code == 404
    assert client.post_form(f"/orders/{order.id}/pay").status_code == 404
    assert client.post_form(f"/orders/{order.id}/cancel").status_code == 404
    assert "Tea Set" not in text(client.get("/orders"))
    db.session.refresh(order)
    assert order.status == OrderStatus.pending_payment and order.paid_at is None
    assert stock_of(variant.id) == 8


def test_employee_pays_by_payroll_on_the_order_page(client, employee, product, place):
    order = place(employee, product.variants[0], 2)
    login(client, employee)
    html = text(client.get(f"/orders/{order.id}"))
    assert f'action="/orders/{order.id}/pay"' in html
    html = text(client.post_form(f"/orders/{order.id}/pay", follow_redirects=True))
    assert "Paid by payroll deduction. Thank you!" in html
    db.session.refresh(order)
    assert order.status == OrderStatus.paid
    assert order.payment_method == PaymentMethod.payroll and order.paid_at is not None
    assert f'action="/orders/{order.id}/pay"' not in html  # nothing left to pay


def test_cancelling_an_unpaid_order_gives_the_stock_back(client, employee, product, place):
    variant = product.variants[0]
    order = place(employee, variant, 3)
    assert stock_of(variant.id) == 7
    login(client, employee)
    html = text(client.post_form(f"/orders/{order.id}/cancel", follow_redirects=True))
    assert "Order cancelled; its items went back to stock." in html
    db.session.refresh(order)
    assert order.status == OrderStatus.cancelled
    assert stock_of(variant.id) == 10


def test_cancelling_a_paid_order_is_refused_and_changes_nothing(client, employee, product, place):
    variant = product.variants[0]
    order = place(employee, variant, 3)
    login(client, employee)
    client.post_form(f"/orders/{order.id}/pay")
    html = text(client.post_form(f"/orders/{order.id}/cancel", follow_redirects=True))
    assert "An order that is paid cannot become cancelled." in html
    html = text(client.post_form(f"/orders/{order.id}/pay", follow_redirects=True))  # a second click
    assert "An order that is paid cannot become paid." in html
    db.session.refresh(order)
    assert order.status == OrderStatus.paid and order.closed_at is None
    assert stock_of(variant.id) == 7


def test_paying_a_cancelled_order_is_refused_and_changes_nothing(client, employee, product, place):
    variant = product.variants[0]
    order = place(employee, variant, 1)
    login(client, employee)
    client.post_form(f"/orders/{order.id}/cancel")
    html = text(client.post_form(f"/orders/{order.id}/pay", follow_redirects=True))
    assert "An order that is cancelled cannot become paid." in html
    db.session.refresh(order)
    assert order.status == OrderStatus.cancelled and order.paid_at is None and order.payment_method is None
    assert stock_of(variant.id) == 10
