"""The operators' area through its real forms: catalog editing, stock, pictures, fulfilment,
and who may get in. Refunds: test_refunds.py; the payroll export: test_payroll_settlement.py."""

from __future__ import annotations

import io
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image
from sqlalchemy import func, select

from shop.accounts.models import Kind
from shop.audit.models import AuditEntry
from shop.catalog.models import Category, Product, ProductImage, SalesMode, Variant
from shop.database import utcnow
from shop.extensions import db
from shop.orders.lifecycle import cancel_order
from shop.orders.models import Order, OrderStatus
from shop.payments.payroll import pay_by_payroll
from tests.conftest import CsrfClient, login


@pytest.fixture
def ops(client, operator) -> CsrfClient:
    return login(client, operator)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def text(response) -> str:
    return response.get_data(as_text=True)


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def png_bytes(size=(4, 3)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def uploads(app) -> set[str]:
    folder = Path(app.instance_path) / "uploads"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def at(text_: str) -> datetime:
    return datetime.fromisoformat(text_).replace(tzinfo=UTC)


# ---- access ----------------------------------------------------------------------------------


def test_non_operators_get_403_and_change_nothing(client, make_user, employee, product, place):
    variant = product.variants[0]
    order = place(employee, variant, 1)
    contact = make_user(kind=Kind.contact, level=1, root_employee_id=employee.id, referrer_id=employee.id)
    pages = [
        "/ops/",
        "/ops/products",
        "/ops/products/new",
        f"/ops/products/{product.id}",
        "/ops/categories",
        f"/ops/variants/{variant.id}",
        "/ops/orders",
        f"/ops/orders/{order.id}",
        "/ops/payroll?month=2026-11",
    ]
    for user in (employee, contact):
        login(client, user)
        for url in pages:
            assert client.get(url).status_code == 403, (user.email, url)
        assert client.post_form("/ops/categories", {"name": "Hacked", "position": "0"}).status_code == 403
        assert (
            client.post_form(f"/ops/variants/{variant.id}/stock", {"delta": "100", "reason": "mine"}).status_code == 403
        )
        assert (
            client.post_form(f"/ops/orders/{order.id}/ship", {"carrier": "X", "tracking_number": "1"}).status_code
            == 403
        )
    assert count(Category, Category.name == "Hacked") == 0
    assert db.session.get(Variant, variant.id).stock == 9
    assert db.session.get(Order, order.id).status == OrderStatus.pending_payment
    assert audit("stock.adjust") == []


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/ops/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# ---- categories ------------------------------------------------------------------------------


def test_operator_creates_and_edits_a_category(ops):
    response = ops.post_form(
        "/ops/categories", {"name": "Tea & Coffee", "slug": "", "position": "2"}, follow_redirects=True
    )
    assert "Category saved." in text(response)
    category = db.session.scalar(select(Category))
    assert (category.name, category.slug, category.position) == ("Tea & Coffee", "tea-coffee", 2)

    response = ops.post_form(f"/ops/categories/{category.id}", {"name": "Drinks", "slug": "drinks", "position": "1"})
    assert response.status_code == 302
    db.session.refresh(category)
    assert (category.name, category.slug, category.position) == ("Drinks", "drinks", 1)
    assert [e.action for e in audit("category.create") + audit("category.update")] == [
        "category.create",
        "category.update",
    ]


def test_invalid_category_form_is_refused_with_422(ops):
    response = ops.post_form("/ops/categories", {"name": "", "slug": "Bad Slug!", "position": "-1"})
    html = text(response)
    assert response.status_code == 422
    assert "This field is required." in html and "Lower-case letters, digits and dashes only." in html
    assert count(Category) == 0


def test_duplicate_category_is_refused_with_422(ops):
    ops.post_form("/ops/categories", {"name": "Drinks", "slug": "drinks", "position": "0"})
    assert count(Category) == 1
    response = ops.post_form("/ops/categories", {"name": "Beverages", "slug": "drinks", "position": "0"})
    assert response.status_code == 422
    assert "A category with this name or slug exists already." in text(response)
    assert count(Category) == 1 and len(audit("category.create")) == 1


# ---- products --------------------------------------------------------------------------------


def product_form(category_id: int, **overrides) -> dict:
    data = {
        "name": "Jasmine Tea",
        "slug": "jasmine-tea",
        "category_id": str(category_id),
        "summary": "Fragrant",
        "description_md": "**Spring** harvest.",
        "sales_mode": "direct",
        "is_active": "y",
        # the first option, in the same form (ignored when a product is edited)
        "option_sku": "JT-100",
        "option_name": "100 g",
        "market_price": "60.00",
        "employee_price": "40.00",
        "contact_price": "50.00",
        "initial_stock": "10",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def category() -> Category:
    found = Category(name="Drinks", slug="drinks")
    db.session.add(found)
    db.session.commit()
    return found


def test_operator_creates_a_product_that_appears_in_the_shop(ops, category):
    response = ops.post_form("/ops/products/new", product_form(category.id))
    created = db.session.scalar(select(Product))
    assert created is not None
    assert response.status_code == 302 and response.headers["Location"] == f"/ops/products/{created.id}"
    assert (created.name, created.slug, created.category_id, created.summary) == (
        "Jasmine Tea",
        "jasmine-tea",
        category.id,
        "Fragrant",
    )
    assert created.description_md == "**Spring** harvest."
    assert created.sales_mode == SalesMode.direct and created.is_active
    assert [e.entity_id for e in audit("product.create")] == [created.id]

    html = text(ops.get("/p/jasmine-tea"))
    assert "Jasmine Tea" in html and "<strong>Spring</strong> harvest." in html


def test_duplicate_product_slug_is_refused_with_422_and_nothing_written(ops, category, make_product):
    make_product(name="Taken", category=category)
    taken_slug = db.session.scalar(select(Product.slug))
    response = ops.post_form("/ops/products/new", product_form(category.id, slug=taken_slug))
    assert response.status_code == 422
    assert "A product with this slug exists already." in text(response)
    assert count(Product) == 1 and audit("product.create") == []


def test_product_form_needs_a_name_and_an_existing_category(ops, category):
    response = ops.post_form("/ops/products/new", product_form(category.id, name=""))
    assert response.status_code == 422 and "This field is required." in text(response)
    response = ops.post_form("/ops/products/new", product_form(999_999))
    assert response.status_code == 422 and "Not a valid choice" in text(response)
    response = ops.post_form("/ops/products/new", product_form(category.id, sales_mode="wholesale"))
    assert response.status_code == 422 and "Not a valid choice" in text(response)
    assert count(Product) == 0


def errors_beside(html: str, name: str) -> list[str]:
    """The errors shown in the field block of the input ``name``."""
    [block] = [chunk for chunk in html.split('<div class="field') if f'name="{name}"' in chunk]
    return re.findall(r'<p class="error">([^<]*)</p>', block)


@pytest.mark.parametrize(
    ("fields", "name", "message"),
    [
        ({"option_sku": "   "}, "option_sku", "Needed for the first option."),
        ({"option_name": "   "}, "option_name", "Needed for the first option."),
        ({"option_sku": "JT 100"}, "option_sku", "Letters, digits, dot, dash, underscore."),
        ({"option_sku": " JT-100"}, "option_sku", "Letters, digits, dot, dash, underscore."),
        ({"option_sku": "JT/100"}, "option_sku", "Letters, digits, dot, dash, underscore."),
        ({"option_sku": "   ", "sales_mode": "lead"}, "option_sku", "Needed for the first option."),
    ],
)
def test_the_first_option_of_a_new_product_obeys_the_option_forms_rules(ops, category, fields, name, message):
    response = ops.post_form("/ops/products/new", product_form(category.id, **fields))
    assert response.status_code == 422
    assert errors_beside(text(response), name) == [message]
    assert count(Product) == 0 and count(Variant) == 0 and audit("product.create") == []
    # the option form says the same of the same values
    product = Product(name="Kettle", slug="kettle", category=category)
    db.session.add(product)
    db.session.commit()
    option = {"sku": "JT-100", "name": "100 g", "market_price": "60", "employee_price": "40", "contact_price": "50"}
    option[name.removeprefix("option_")] = fields[name]
    refused = ops.post_form(f"/ops/products/{product.id}/variants/new", option)
    assert refused.status_code == 422 and count(Variant) == 0


def test_a_blank_option_is_no_option_for_a_product_sold_by_lead(ops, category):
    blank = {"option_sku": "  ", "option_name": " ", "market_price": "", "employee_price": "", "contact_price": ""}
    response = ops.post_form("/ops/products/new", product_form(category.id, sales_mode="lead", **blank))
    assert response.status_code == 302
    assert count(Product) == 1 and count(Variant) == 0
    # and a second product with a real option is not told its SKU exists
    response = ops.post_form("/ops/products/new", product_form(category.id, name="Green Tea", slug="green-tea"))
    assert response.status_code == 302
    assert db.session.scalars(select(Variant.sku)).all() == ["JT-100"]


def test_operator_edits_a_product_and_can_take_it_off_sale(ops, category, make_product):
    product = make_product(name="Tea Set", category=category)
    html = text(ops.get(f"/ops/products/{product.id}"))
    assert 'value="Tea Set"' in html and "SKU-" in html

    data = product_form(category.id, name="Tea Set Deluxe", slug="tea-set-deluxe", sales_mode="lead", is_active=None)
    response = ops.post_form(f"/ops/products/{product.id}", data, follow_redirects=True)
    assert "Product saved." in text(response)
    db.session.refresh(product)
    assert (product.name, product.slug, product.sales_mode, product.is_active) == (
        "Tea Set Deluxe",
        "tea-set-deluxe",
        SalesMode.lead,
        False,
    )
    assert ops.get("/p/tea-set-deluxe").status_code == 404
    entry = audit("product.update")[0]
    assert entry.before["is_active"] is True and entry.after["is_active"] is False


def test_editing_a_product_to_a_taken_slug_changes_nothing(ops, category, make_product):
    first, second = make_product(name="First", category=category), make_product(name="Second", category=category)
    response = ops.post_form(f"/ops/products/{second.id}", product_form(category.id, name="Renamed", slug=first.slug))
    assert response.status_code == 422
    assert "A product with this slug exists already." in text(response)
    db.session.refresh(second)
    assert second.name == "Second" and second.slug != first.slug
    assert audit("product.update") == []


# ---- variants (SKUs) -------------------------------------------------------------------------


def variant_form(**overrides) -> dict:
    data = {
        "sku": "JT-100G",
        "name": "100 g tin",
        "market_price": "99.50",
        "employee_price": "80",
        "contact_price": "90.00",
        "initial_stock": "7",
        "is_active": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_operator_adds_a_variant_with_decimal_prices_stored_in_minor_units(ops, category, make_product):
    product = make_product(name="Jasmine Tea", category=category, variants=0)
    response = ops.post_form(f"/ops/products/{product.id}/variants/new", variant_form(), follow_redirects=True)
    assert "Option saved." in text(response)
    variant = db.session.scalar(select(Variant))
    assert (variant.product_id, variant.sku, variant.name, variant.currency) == (
        product.id,
        "JT-100G",
        "100 g tin",
        "CNY",
    )
    assert (variant.market_price, variant.employee_price, variant.contact_price) == (9950, 8000, 9000)
    assert variant.stock == 7 and variant.is_active
    assert [e.entity_id for e in audit("variant.create")] == [variant.id]

    html = text(ops.get(f"/p/{product.slug}"))  # the operator is an employee: employee price
    assert '<span class="price">CN¥80.00</span>' in html and "CN¥99.50" in html


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"market_price": "-1"}, "Enter an amount from 0 to 10,000,000."),
        ({"employee_price": "-0.01"}, "Enter an amount from 0 to 10,000,000."),
        ({"employee_price": "99.51"}, "Employee and contact prices cannot be above the market price."),
        ({"contact_price": "100"}, "Employee and contact prices cannot be above the market price."),
        ({"market_price": "abc"}, "Not a valid decimal value."),
        ({"sku": "SKU-TAKEN"}, "This SKU exists already."),
        ({"sku": "bad sku!"}, "Letters, digits, dot, dash, underscore."),
        ({"initial_stock": "-3"}, "Number must be between 0 and 1000000."),
    ],
)
def test_invalid_variant_is_refused_with_422_and_nothing_written(ops, category, make_product, overrides, message):
    product = make_product(name="Jasmine Tea", category=category, variants=0)
    other = make_product(name="Other", category=category)
    other.variants[0].sku = "SKU-TAKEN"
    db.session.commit()
    response = ops.post_form(f"/ops/products/{product.id}/variants/new", variant_form(**overrides))
    assert response.status_code == 422
    assert message in text(response)
    assert count(Variant, Variant.product_id == product.id) == 0
    assert audit("variant.create") == []


def test_price_with_more_decimals_than_the_currency_is_a_form_error(ops, category, make_product):
    product = make_product(name="Jasmine Tea", category=category, variants=0)
    response = ops.post_form(f"/ops/products/{product.id}/variants/new", variant_form(market_price="99.999"))
    assert response.status_code == 422
    assert count(Variant) == 0


def test_operator_edits_a_variant(ops, product):
    variant = product.variants[0]
    html = text(ops.get(f"/ops/variants/{variant.id}"))
    assert 'value="100.00"' in html and 'value="70.00"' in html and 'value="85.00"' in html
    data = variant_form(
        sku="TEA-SET-L",
        name="Large",
        market_price="120.50",
        employee_price="99.99",
        contact_price="110",
        is_active=None,
        initial_stock=None,
    )
    response = ops.post_form(f"/ops/variants/{variant.id}", data)
    assert response.status_code == 302 and response.headers["Location"] == f"/ops/products/{product.id}"
    db.session.refresh(variant)
    assert (variant.sku, variant.name, variant.is_active) == ("TEA-SET-L", "Large", False)
    assert (variant.market_price, variant.employee_price, variant.contact_price) == (12050, 9999, 11000)
    assert variant.stock == 10  # editing does not touch stock
    entry = audit("variant.update")[0]
    assert entry.before["market_price"] == 10_000 and entry.after["market_price"] == 12050


def test_variant_edit_with_an_employee_price_above_market_changes_nothing(ops, product):
    variant = product.variants[0]
    data = variant_form(sku=variant.sku, name="Renamed", market_price="50", employee_price="70", contact_price="40")
    response = ops.post_form(f"/ops/variants/{variant.id}", data)
    assert response.status_code == 422
    assert "Employee and contact prices cannot be above the market price." in text(response)
    db.session.refresh(variant)
    assert (variant.name, variant.market_price, variant.employee_price, variant.contact_price) == (
        "Option 0",
        10_000,
        7_000,
        8_500,
    )
    assert audit("variant.update") == []


def test_variant_edit_to_a_taken_sku_changes_nothing(ops, make_product):
    product = make_product(name="Tea Set", variants=2)
    first, second = product.variants
    first_sku = first.sku
    data = variant_form(sku=second.sku, name="Renamed", market_price="100", employee_price="70", contact_price="85")
    response = ops.post_form(f"/ops/variants/{first.id}", data)
    assert response.status_code == 422
    assert "This SKU exists already." in text(response)
    db.session.refresh(first)
    assert (first.sku, first.name) == (first_sku, "Option 0")
    assert audit("variant.update") == []


# ---- stock -------------------------------------------------------------------------------------


def test_stock_adjustment_by_delta_is_audited(ops, operator, product):
    variant = product.variants[0]
    html = text(
        ops.post_form(
            f"/ops/variants/{variant.id}/stock", {"delta": "5", "reason": "Delivery 42"}, follow_redirects=True
        )
    )
    assert "Stock is now 15." in html
    ops.post_form(f"/ops/variants/{variant.id}/stock", {"delta": "-3", "reason": "Broken in the warehouse"})
    db.session.refresh(variant)
    assert variant.stock == 12
    entries = audit("stock.adjust")
    assert [(e.entity_id, e.actor_id, e.before, e.after, e.reason) for e in entries] == [
        (variant.id, operator.id, {"stock": 10}, {"stock": 15}, "Delivery 42"),
        (variant.id, operator.id, {"stock": 15}, {"stock": 12}, "Broken in the warehouse"),
    ]


def test_stock_cannot_go_below_zero(ops, product):
    variant = product.variants[0]
    html = text(
        ops.post_form(f"/ops/variants/{variant.id}/stock", {"delta": "-11", "reason": "Count"}, follow_redirects=True)
    )
    assert "Only 10 in stock: cannot remove 11." in html
    db.session.refresh(variant)
    assert variant.stock == 10
    assert audit("stock.adjust") == []
    ops.post_form(f"/ops/variants/{variant.id}/stock", {"delta": "-10", "reason": "Sold out"})
    db.session.refresh(variant)
    assert variant.stock == 0


@pytest.mark.parametrize(
    "data, message",
    [
        ({"delta": "5", "reason": ""}, "Enter a whole number and a reason."),
        ({"delta": "1.5", "reason": "Count"}, "Enter a whole number and a reason."),
        ({"delta": "0", "reason": "Count"}, "Enter a change other than zero."),
    ],
)
def test_stock_adjustment_needs_a_nonzero_whole_number_and_a_reason(ops, product, data, message):
    variant = product.variants[0]
    html = text(ops.post_form(f"/ops/variants/{variant.id}/stock", data, follow_redirects=True))
    assert message in html
    db.session.refresh(variant)
    assert variant.stock == 10
    assert audit("stock.adjust") == []


# ---- pictures ----------------------------------------------------------------------------------


def upload(client, product, data: bytes, filename: str, **kwargs):
    return client.post_form(
        f"/ops/products/{product.id}/images",
        {"image": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        **kwargs,
    )


def test_a_real_png_is_stored_and_served_under_media(app, ops, product):
    data = png_bytes((4, 3))
    html = text(upload(ops, product, data, "photo.jpg", follow_redirects=True))  # the name does not matter
    assert "Picture added." in html
    image = db.session.scalar(select(ProductImage))
    assert (image.product_id, image.width, image.height) == (product.id, 4, 3)
    assert image.filename.endswith(".png") and image.filename in uploads(app)
    assert audit("product.image_add")[0].after == {"image": image.filename}

    response = ops.get(f"/media/{image.filename}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    served = Image.open(io.BytesIO(response.get_data()))  # the stored copy is re-encoded
    assert served.format == "PNG" and served.convert("RGB").tobytes() == Image.open(io.BytesIO(data)).tobytes()
    response.close()
    assert f'src="/media/{image.filename}"' in text(ops.get(f"/p/{product.slug}"))


def test_a_text_file_named_png_is_refused(app, ops, product):
    before = uploads(app)
    html = text(upload(ops, product, b"<?php system($_GET['c']); ?>\n", "x.png", follow_redirects=True))
    assert "The file is not a picture we can read (JPEG, PNG, WebP or GIF)." in html
    assert count(ProductImage) == 0 and uploads(app) == before


def test_a_picture_in_an_unsupported_format_is_refused(app, ops, product):
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "BMP")
    before = uploads(app)
    html = text(upload(ops, product, out.getvalue(), "x.png", follow_redirects=True))
    assert "Pictures must be JPEG, PNG, WebP or GIF." in html
    assert count(ProductImage) == 0 and uploads(app) == before


def test_a_picture_above_the_upload_limit_is_refused(app, ops, product, monkeypatch):
    out = io.BytesIO()
    Image.frombytes("RGB", (120, 120), os.urandom(120 * 120 * 3)).save(out, "PNG")  # noise: ~43 kB
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 20_000)
    before = uploads(app)
    response = upload(ops, product, out.getvalue(), "big.png")
    assert response.status_code == 413
    assert "File too large" in text(response)
    assert count(ProductImage) == 0 and uploads(app) == before


def test_removing_a_picture_deletes_it_and_its_file(app, ops, product):
    upload(ops, product, png_bytes(), "a.png")
    image_id, filename = db.session.execute(select(ProductImage.id, ProductImage.filename)).one()
    html = text(ops.post_form(f"/ops/images/{image_id}/delete", follow_redirects=True))
    assert "Picture removed." in html
    assert count(ProductImage) == 0
    assert filename not in uploads(app)
    assert audit("product.image_remove")[0].before == {"image": filename}
    response = ops.get(f"/media/{filename}")
    assert response.status_code == 404
    response.close()


def test_media_does_not_serve_files_outside_the_upload_folder(client):
    assert client.get("/media/..%2Fsecret_key").status_code == 404
    assert client.get("/media/../secret_key").status_code == 404


# ---- orders ------------------------------------------------------------------------------------


def paid(buyer, variant, quantity: int = 1, *, when: datetime | None = None, place) -> Order:
    """An order placed and paid by payroll at ``when`` (default: now)."""
    when = when or utcnow()
    order = place(buyer, variant, quantity, now=when - timedelta(minutes=1))
    pay_by_payroll(buyer, order, now=when)
    db.session.commit()
    return order


def test_order_list_filters_by_status_buyer_and_dates(ops, employee, make_user, make_product, place):
    bob = make_user(name="Bob Buyer", email="bob@neigou.example")
    early = paid(employee, make_product().variants[0], place=place)  # erin, paid
    late_evening = place(employee, make_product().variants[0], 1)  # erin, pending
    pending = place(bob, make_product().variants[0], 1)  # bob, pending
    cancelled = place(bob, make_product().variants[0], 1)  # bob, cancelled
    cancel_order(bob, cancelled)
    early.created_at = at("2026-11-03T04:00:00")
    late_evening.created_at = at("2026-11-10T17:00:00")  # 11 Nov, 01:00 in Shanghai
    pending.created_at = at("2026-11-20T04:00:00")
    cancelled.created_at = at("2026-10-15T04:00:00")
    db.session.commit()
    everything = {early.id, late_evening.id, pending.id, cancelled.id}

    def listed(query: str) -> set[int]:
        html = text(ops.get(f"/ops/orders{query}"))
        return {order_id for order_id in everything if f'href="/ops/orders/{order_id}"' in html}

    assert listed("") == everything
    assert listed("?status=paid") == {early.id}
    assert listed("?status=cancelled") == {cancelled.id}
    assert listed("?buyer=BOB") == {pending.id, cancelled.id}
    assert listed(f"?buyer={quote(employee.email.upper())}") == {early.id, late_evening.id}
    assert listed("?status=pending_payment&buyer=bob") == {pending.id}
    assert listed("?date_from=2026-11-01&date_to=2026-11-10") == {early.id}
    assert listed("?date_from=2026-11-11") == {late_evening.id, pending.id}
    assert listed("?date_to=2026-10-31") == {cancelled.id}
    assert listed("?status=refunded") == set()


def test_a_bad_date_in_the_order_filter_does_not_list_unfiltered_orders(ops, employee, make_product, place):
    unpaid = place(employee, make_product().variants[0], 1)
    html = text(ops.get("/ops/orders?status=paid&date_from=2026-02-30"))
    assert "Not a valid date value." in html
    assert f'href="/ops/orders/{unpaid.id}"' not in html


def test_order_page_shows_the_order_and_its_chain(ops, make_user, employee, product, place):
    l1 = make_user(name="Lucy Lin", kind=Kind.contact, level=1, referrer_id=employee.id, root_employee_id=employee.id)
    l2 = make_user(
        name="Leo Liu", kind=Kind.contact, level=2, referrer_id=l1.id, root_employee_id=employee.id, l1_contact_id=l1.id
    )
    order = place(l2, product.variants[0], 2)
    html = text(ops.get(f"/ops/orders/{order.id}"))
    assert order.number in html
    assert "Leo Liu" in html and l2.email in html and "L2" in html and "contact prices" in html
    assert "root employee: Erin Employee" in html and "L1: Lucy Lin" in html
    assert "Tea Set · Option 0" in html and product.variants[0].sku in html and "CN¥170.00" in html
    assert "order.place" in html
    assert ops.get("/ops/orders/999999").status_code == 404


def test_operator_ships_and_completes_a_paid_order(client, ops, employee, product, place):
    order = paid(employee, product.variants[0], place=place)
    html = text(
        ops.post_form(
            f"/ops/orders/{order.id}/ship", {"carrier": "SF Express", "tracking_number": " "}, follow_redirects=True
        )
    )
    assert "Enter the carrier and the tracking number." in html
    db.session.refresh(order)
    assert order.status == OrderStatus.paid and order.carrier is None and order.shipped_at is None

    html = text(
        ops.post_form(
            f"/ops/orders/{order.id}/ship", {"carrier": "SF Express", "tracking_number": "SF123"}, follow_redirects=True
        )
    )
    assert "Marked shipped." in html and "order.shipped" in html
    db.session.refresh(order)
    assert (order.status, order.carrier, order.tracking_number) == (OrderStatus.shipped, "SF Express", "SF123")
    assert order.shipped_at is not None

    html = text(ops.post_form(f"/ops/orders/{order.id}/complete", follow_redirects=True))
    assert "Marked completed." in html and "order.completed" in html
    db.session.refresh(order)
    assert order.status == OrderStatus.completed and order.completed_at is not None

    login(client, employee)
    html = text(client.get(f"/orders/{order.id}"))
    assert "completed" in html and "SF Express" in html and "SF123" in html


def test_illegal_fulfilment_transitions_are_refused_and_change_nothing(ops, employee, make_product, place):
    pending = place(employee, make_product().variants[0], 1)
    html = text(
        ops.post_form(
            f"/ops/orders/{pending.id}/ship", {"carrier": "SF", "tracking_number": "1"}, follow_redirects=True
        )
    )
    assert "An order that is pending payment cannot become shipped." in html
    html = text(ops.post_form(f"/ops/orders/{pending.id}/complete", follow_redirects=True))
    assert "An order that is pending payment cannot become completed." in html
    db.session.refresh(pending)
    assert pending.status == OrderStatus.pending_payment and pending.carrier is None and pending.shipped_at is None

    done = paid(employee, make_product().variants[0], place=place)
    html = text(ops.post_form(f"/ops/orders/{done.id}/complete", follow_redirects=True))
    assert "An order that is paid cannot become completed." in html
    ops.post_form(f"/ops/orders/{done.id}/ship", {"carrier": "SF", "tracking_number": "1"})
    ops.post_form(f"/ops/orders/{done.id}/complete")
    html = text(
        ops.post_form(f"/ops/orders/{done.id}/ship", {"carrier": "EMS", "tracking_number": "2"}, follow_redirects=True)
    )
    assert "An order that is completed cannot become shipped." in html
    db.session.refresh(done)
    assert (done.status, done.carrier, done.tracking_number) == (OrderStatus.completed, "SF", "1")
    assert len(audit("order.shipped")) == 1 and len(audit("order.completed")) == 1


# ---- commands ----------------------------------------------------------------------------------


def test_cli_expire_orders_expires_overdue_orders_and_gives_stock_back(app, employee, make_product, place):
    stale_item, fresh_item = make_product().variants[0], make_product().variants[0]
    stale = place(employee, stale_item, 3, now=utcnow() - timedelta(hours=1))
    fresh = place(employee, fresh_item, 2)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["shop", "expire-orders"])
    assert result.exit_code == 0, result.output
    assert "expired 1 order(s)" in result.output
    db.session.expire_all()
    assert db.session.get(Order, stale.id).status == OrderStatus.expired
    assert db.session.get(Order, fresh.id).status == OrderStatus.pending_payment
    assert db.session.get(Variant, stale_item.id).stock == 10
    assert db.session.get(Variant, fresh_item.id).stock == 8

    result = runner.invoke(args=["shop", "expire-orders"])
    assert "expired 0 order(s)" in result.output
    db.session.expire_all()
    assert db.session.get(Variant, stale_item.id).stock == 10
