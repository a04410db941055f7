"""Operators manage quota rules: list them as sentences, create, change or switch off, and
grant and revoke exceptions. The rules themselves live in shop.quotas.services."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from shop.accounts.session import operator_required
from shop.catalog.festival_models import Festival, FestivalItem
from shop.catalog.models import Product, SalesMode, Variant
from shop.catalog.services import list_categories
from shop.database import utcnow
from shop.extensions import db
from shop.i18n import to_major, to_minor
from shop.ops.views import bp
from shop.quotas import services
from shop.quotas.forms import NONE, ChangeRuleForm, ExceptionForm, RevokeExceptionForm, RuleForm
from shop.quotas.models import Audience, Measure, QuotaRule, Scope, Target, Window
from shop.quotas.sentences import describe
from shop.web import unit_of_work


def _status() -> int:
    return 200 if request.method == "GET" else 422


def _stored(value: Decimal, measure: Measure) -> int:
    """A limit as typed (units, or money in major units) as the rule keeps it."""
    return int(value) if measure == Measure.units else to_minor(value, current_app.config["CURRENCY"])


def _typed(value: int, measure: Measure) -> Decimal:
    return Decimal(value) if measure == Measure.units else to_major(value, current_app.config["CURRENCY"])


def _rule_form() -> RuleForm:
    """The create form with today's categories, products, and festivals that have not ended."""
    form = RuleForm()
    none = [SelectChoice(NONE, _("— choose —"))]
    now = utcnow()
    products = db.session.scalars(
        select(Product).where(Product.sales_mode == SalesMode.direct).order_by(Product.name)
    ).all()
    festivals = db.session.scalars(select(Festival).where(Festival.ends_at > now).order_by(Festival.launch_at)).all()
    items = db.session.execute(
        select(FestivalItem.id, Festival.name, Product.name, Variant.name)
        .join(Festival, Festival.id == FestivalItem.festival_id)
        .join(Variant, Variant.id == FestivalItem.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .where(Festival.ends_at > now)
        .order_by(Festival.launch_at, FestivalItem.id)
    ).all()
    form.category_id.choices = none + [SelectChoice(c.id, c.name) for c in list_categories()]
    form.product_id.choices = none + [SelectChoice(p.id, p.name) for p in products]
    form.festival_item_id.choices = none + [SelectChoice(i, f"{f}: {p} ({v})") for i, f, p, v in items]
    form.festival_id.choices = none + [SelectChoice(f.id, f.name) for f in festivals]
    return form


def _create(form: RuleForm) -> QuotaRule | None:
    measure = Measure(form.measure.data)
    with unit_of_work(flash_refusal=False) as work:
        rule = services.create_rule(
            current_user,
            scope=Scope(form.scope.data),
            target=Target(form.target.data),
            window=Window(form.window.data),
            measure=measure,
            limit_value=_stored(form.limit.data, measure),
            audience=Audience(form.audience.data),
            per_sku=form.per_sku.data,
            category_id=form.category_id.data or None,
            product_id=form.product_id.data or None,
            festival_item_id=form.festival_item_id.data or None,
            festival_id=form.festival_id.data or None,
        )
        sentence = describe(rule)
    if work.refused:
        form.form_errors.append(work.refusal.message)
        return None
    flash(_("Rule created: %(rule)s.", rule=sentence), "success")
    return rule


@bp.route("/quotas", methods=["GET", "POST"])
@operator_required
def quotas():
    form = _rule_form()
    if form.validate_on_submit() and (rule := _create(form)) is not None:
        return redirect(url_for("ops.quota", rule_id=rule.id))
    return render_template("ops/quotas.html", form=form, rules=services.rules_listing(), describe=describe), _status()


def _rule(rule_id: int) -> QuotaRule:
    return services.rule_by_id(rule_id) or abort(404)


def _page(rule: QuotaRule, change_form: ChangeRuleForm | None = None, exception_form: ExceptionForm | None = None):
    if change_form is None:
        change_form = ChangeRuleForm(
            formdata=None, measure=rule.measure, is_active=rule.is_active, limit=_typed(rule.limit_value, rule.measure)
        )
    return render_template(
        "ops/quota.html",
        rule=rule,
        sentence=describe(rule),
        change_form=change_form,
        exception_form=exception_form or ExceptionForm(formdata=None, measure=rule.measure),
        revoke_form=RevokeExceptionForm(formdata=None),
    )


@bp.route("/quotas/<int:rule_id>", methods=["GET", "POST"])
@operator_required
def quota(rule_id: int):
    """The rule, its exceptions, and the form that changes its limit or switches it off."""
    rule = _rule(rule_id)
    if request.method == "GET":
        return _page(rule)
    form = ChangeRuleForm(measure=rule.measure)
    if form.validate_on_submit():
        with unit_of_work(flash_refusal=False) as work:
            services.change_rule(
                current_user, rule, limit_value=_stored(form.limit.data, rule.measure), is_active=form.is_active.data
            )
            sentence = describe(rule)
        if work.refused:
            form.limit.errors.append(work.refusal.message)
        else:
            flash(
                _(
                    "Saved: %(rule)s (%(state)s).",
                    rule=sentence,
                    state=_("active") if form.is_active.data else _("switched off"),
                ),
                "success",
            )
            return redirect(url_for("ops.quota", rule_id=rule_id))
    return _page(rule, change_form=form), 422


@bp.route("/quotas/<int:rule_id>/exceptions", methods=["POST"])
@operator_required
def grant_quota_exception(rule_id: int):
    rule = _rule(rule_id)
    form = ExceptionForm(measure=rule.measure)
    if form.validate_on_submit():
        user = services.user_by_email(form.email.data)
        if user is None:
            form.email.errors.append(_("Nobody has this e-mail address."))
        else:
            with unit_of_work(flash_refusal=False) as work:
                exception = services.grant_exception(
                    current_user, rule, user, _stored(form.extra.data, rule.measure), form.reason.data
                )
                name = exception.user.name
            if work.refused:
                form.extra.errors.append(work.refusal.message)
            else:
                flash(
                    _("Exception granted to the chain of %(name)s.", name=name)
                    if rule.scope == Scope.chain
                    else _("Exception granted to %(name)s.", name=name),
                    "success",
                )
                return redirect(url_for("ops.quota", rule_id=rule_id))
    return _page(rule, exception_form=form), 422


@bp.route("/quotas/<int:rule_id>/exceptions/<int:exception_id>/revoke", methods=["POST"])
@operator_required
def revoke_quota_exception(rule_id: int, exception_id: int):
    """Take an exception back, with a reason; the next order is held to the rule without it."""
    rule = _rule(rule_id)
    form = RevokeExceptionForm()
    if form.validate_on_submit():
        with unit_of_work(_("Exception revoked.")):
            services.revoke_exception_of(current_user, rule, exception_id, form.reason.data)
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    return redirect(url_for("ops.quota", rule_id=rule_id))
