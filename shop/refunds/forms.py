"""The operator's refund form: a quantity per order line, or an amount, or everything left."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, IntegerField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from shop.forms import MONEY, currency_places
from shop.i18n import to_minor
from shop.orders.models import Order


class RefundForm(FlaskForm):
    full = BooleanField(_l("Refund everything not yet refunded"))
    amount = DecimalField(
        _l("Amount (empty: the value of the items chosen)"), places=2, validators=[Optional(), MONEY, currency_places]
    )
    reason = TextAreaField(
        _l("Reason (the buyer reads it)"),
        validators=[DataRequired(message=_l("Give a reason for the refund.")), Length(max=500)],
    )
    restock = BooleanField(_l("The goods came back: put the items back in stock"))
    submit = SubmitField(_l("Refund"))

    line_fields: list = []

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.amount.data is not None and self.amount.data <= 0:
            self.amount.errors = [*self.amount.errors, _l("Enter an amount above zero.")]
            valid = False
        if valid and not self.full.data and self.amount.data is None and not self.quantities():
            self.form_errors.append(_l("Choose the items to refund, enter an amount, or refund everything."))
            valid = False
        return valid

    def quantities(self) -> dict[int, int]:
        return {line.id: field.data for line, field in self.line_fields if field.data}

    def amount_minor(self, currency: str) -> int | None:
        return None if self.amount.data is None else to_minor(self.amount.data, currency)


def refund_form_for(order: Order, **kwargs) -> RefundForm:
    """A refund form with a quantity field per line of ``order`` (at most what is left)."""

    class OrderRefundForm(RefundForm):
        pass

    for line in order.lines:
        setattr(
            OrderRefundForm,
            f"line_{line.id}",
            IntegerField(
                f"{line.product_name} · {line.variant_name}",
                default=0,
                validators=[
                    Optional(),
                    NumberRange(
                        min=0,
                        max=line.refundable_quantity,
                        message=_l("From 0 to %(max)d.", max=line.refundable_quantity),
                    ),
                ],
            ),
        )
    form = OrderRefundForm(**kwargs)
    form.line_fields = [(line, form[f"line_{line.id}"]) for line in order.lines]
    return form
