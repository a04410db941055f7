"""Operators edit categories, products, variants, stock and pictures."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from shop.accounts.session import operator_required
from shop.catalog import services
from shop.catalog.models import Category, Product, ProductImage, SalesMode, Variant
from shop.extensions import db
from shop.i18n import to_major, to_minor
from shop.ops.forms import (
    CategoryForm,
    DeleteForm,
    ImageForm,
    NewProductForm,
    ProductForm,
    StockForm,
    VariantForm,
)
from shop.ops.views import bp
from shop.web import unit_of_work


def _status() -> int:
    return 200 if request.method == "GET" else 422


def _save_category(form: CategoryForm, category: Category | None) -> bool:
    """Validate and save; False (with the error on the form) when the page must be shown again."""
    if not form.validate_on_submit():
        return False
    with unit_of_work(_("Category saved."), flash_refusal=False) as work:
        services.save_category(
            current_user, category, name=form.name.data, slug=form.slug.data, position=form.position.data
        )
    if work.refused:
        form.name.errors.append(work.refusal.message)
    return not work.refused


@bp.route("/categories", methods=["GET", "POST"])
@operator_required
def categories():
    form = CategoryForm()
    if _save_category(form, None):
        return redirect(url_for("ops.categories"))
    return render_template("ops/categories.html", form=form, categories=services.list_categories()), _status()


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@operator_required
def edit_category(category_id: int):
    category = db.session.get(Category, category_id) or abort(404)
    form = CategoryForm(obj=category)
    if _save_category(form, category):
        return redirect(url_for("ops.categories"))
    return render_template("ops/category_edit.html", form=form, category=category), _status()


@bp.route("/products")
@operator_required
def products():
    query = select(Product).options(selectinload(Product.variants), selectinload(Product.category))
    text = request.args.get("q", "").strip()[:100]
    if text:
        query = query.where(Product.name.ilike(f"%{text}%"))
    items = db.session.scalars(query.order_by(Product.name).limit(500)).all()
    return render_template("ops/products.html", products=items, query=text)


def _product_form(product: Product | None) -> ProductForm:
    form = ProductForm(obj=product) if product is not None else NewProductForm()
    form.category_id.choices = [SelectChoice(c.id, c.name) for c in services.list_categories()]
    return form


def _save_product(form: ProductForm, product: Product | None):
    with unit_of_work(_("Product saved."), flash_refusal=False) as work:
        failing = form.slug  # the field the refusal is shown at
        saved = services.save_product(
            current_user,
            product,
            name=form.name.data,
            slug=form.slug.data,
            category_id=form.category_id.data,
            summary=form.summary.data or "",
            description_md=form.description_md.data or "",
            sales_mode=SalesMode(form.sales_mode.data),
            is_active=form.is_active.data,
        )
        if isinstance(form, NewProductForm) and form.has_option():
            failing = form.option_sku  # nothing of the product is kept either
            services.save_variant(
                current_user,
                saved,
                None,
                sku=form.option_sku.data,
                name=form.option_name.data,
                currency=current_app.config["CURRENCY"],
                is_active=True,
                initial_stock=form.initial_stock.data or 0,
                **_variant_prices(form),
            )
    if work.refused:
        failing.errors.append(work.refusal.message)
        return None
    return redirect(url_for("ops.edit_product", product_id=saved.id))


@bp.route("/products/new", methods=["GET", "POST"])
@operator_required
def new_product():
    form = _product_form(None)
    if form.validate_on_submit():
        response = _save_product(form, None)
        if response:
            return response
    return render_template("ops/product_edit.html", form=form, product=None), _status()


@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
@operator_required
def edit_product(product_id: int):
    product = db.session.get(Product, product_id) or abort(404)
    form = _product_form(product)
    if request.method == "GET":
        form.sales_mode.data = product.sales_mode.value
    if form.validate_on_submit():
        response = _save_product(form, product)
        if response:
            return response
    return render_template(
        "ops/product_edit.html", form=form, product=product, image_form=ImageForm(), delete_form=DeleteForm()
    ), _status()


def _variant_prices(form: VariantForm | NewProductForm) -> dict:
    currency = current_app.config["CURRENCY"]
    return {
        name: to_minor(getattr(form, name).data, currency)
        for name in ("market_price", "employee_price", "contact_price")
    }


@bp.route("/products/<int:product_id>/variants/new", methods=["GET", "POST"])
@operator_required
def new_variant(product_id: int):
    product = db.session.get(Product, product_id) or abort(404)
    form = VariantForm()
    if form.validate_on_submit():
        with unit_of_work(_("Option saved."), flash_refusal=False) as work:
            services.save_variant(
                current_user,
                product,
                None,
                sku=form.sku.data,
                name=form.name.data,
                currency=current_app.config["CURRENCY"],
                is_active=form.is_active.data,
                initial_stock=form.initial_stock.data or 0,
                **_variant_prices(form),
            )
        if not work.refused:
            return redirect(url_for("ops.edit_product", product_id=product.id))
        form.sku.errors.append(work.refusal.message)
    return render_template("ops/variant_edit.html", form=form, product=product, variant=None), _status()


@bp.route("/variants/<int:variant_id>", methods=["GET", "POST"])
@operator_required
def edit_variant(variant_id: int):
    variant = db.session.get(Variant, variant_id) or abort(404)
    form = VariantForm(obj=variant)
    del form.initial_stock
    if request.method == "GET":
        for name in ("market_price", "employee_price", "contact_price"):
            getattr(form, name).data = to_major(getattr(variant, name), variant.currency)
    if form.validate_on_submit():
        with unit_of_work(_("Option saved."), flash_refusal=False) as work:
            services.save_variant(
                current_user,
                variant.product,
                variant,
                sku=form.sku.data,
                name=form.name.data,
                currency=variant.currency,
                is_active=form.is_active.data,
                **_variant_prices(form),
            )
        if not work.refused:
            return redirect(url_for("ops.edit_product", product_id=variant.product_id))
        form.sku.errors.append(work.refusal.message)
    return render_template(
        "ops/variant_edit.html", form=form, product=variant.product, variant=variant, stock_form=StockForm()
    ), _status()


@bp.route("/variants/<int:variant_id>/stock", methods=["POST"])
@operator_required
def adjust_stock(variant_id: int):
    variant = db.session.get(Variant, variant_id) or abort(404)
    form = StockForm()
    if form.validate_on_submit():
        with unit_of_work() as work:
            services.adjust_stock(current_user, variant, form.delta.data, form.reason.data)
        if not work.refused:
            flash(_("Stock is now %(stock)d.", stock=variant.stock), "success")
    else:
        flash(_("Enter a whole number and a reason."), "error")
    return redirect(url_for("ops.edit_variant", variant_id=variant_id))


@bp.route("/products/<int:product_id>/images", methods=["POST"])
@operator_required
def upload_image(product_id: int):
    product = db.session.get(Product, product_id) or abort(404)
    form = ImageForm()
    if form.validate_on_submit():
        with unit_of_work(_("Picture added.")):
            services.add_image(current_user, product, form.image.data.read())
    else:
        flash(_("Choose a picture to upload."), "error")
    return redirect(url_for("ops.edit_product", product_id=product_id))


@bp.route("/images/<int:image_id>/delete", methods=["POST"])
@operator_required
def delete_image(image_id: int):
    image = db.session.get(ProductImage, image_id) or abort(404)
    product_id = image.product_id
    if DeleteForm().validate_on_submit():
        with unit_of_work(_("Picture removed.")):
            services.remove_image(current_user, image)
    return redirect(url_for("ops.edit_product", product_id=product_id))
