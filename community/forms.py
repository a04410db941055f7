"""Community forms. Choices that come from the database are filled in by the views."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional, ValidationError

from community.models import ArticleKind
from community.services.moderation import Action
from shop.forms import DateField, coerce_int, not_before


class TagsField(StringField):
    """Comma-separated tags. Filled from an article or question (``obj=``), it holds their tags'
    names, so a post without the field keeps the tags instead of handing a list to the parser."""

    def process_data(self, value) -> None:
        if isinstance(value, list | tuple):
            value = ", ".join(getattr(tag, "name", str(tag)) for tag in value)
        super().process_data(value)


TITLE = Length(max=200)
BODY = Length(max=50_000)
TAGS = Length(max=400)


def article_kind_choices() -> list[SelectChoice]:
    labels = {
        ArticleKind.faq: _l("FAQ"),
        ArticleKind.manual: _l("Manual"),
        ArticleKind.comparison: _l("Competitor comparison"),
        ArticleKind.sales_script: _l("Sales script"),
        ArticleKind.announcement: _l("Announcement"),
    }
    return [SelectChoice(kind.value, labels[kind]) for kind in ArticleKind]


class ArticleForm(FlaskForm):
    kind = SelectField(_l("Type"), choices=article_kind_choices())
    title = StringField(_l("Title"), validators=[DataRequired(), TITLE])
    body_md = TextAreaField(_l("Text (Markdown)"), validators=[DataRequired(), BODY])
    tags = TagsField(_l("Tags (comma-separated)"), validators=[Optional(), TAGS])
    product_ids = SelectMultipleField(_l("Products"), coerce=coerce_int, validators=[Optional()])
    save = SubmitField(_l("Save"))
    publish = SubmitField(_l("Publish"))


class AskForm(FlaskForm):
    """One form for the three ways out: find what is written, ask the community, ask an operator."""

    title = StringField(
        _l("Your question in one line"), validators=[DataRequired(), TITLE], render_kw={"autocomplete": "off"}
    )
    body_md = TextAreaField(_l("Details (Markdown)"), validators=[Optional(), BODY])
    product_id = SelectField(_l("Product (optional)"), coerce=coerce_int, default=0, validate_choice=False)
    tags = TagsField(_l("Tags (comma-separated)"), validators=[Optional(), TAGS])
    find = SubmitField(_l("Find answers"))
    post_question = SubmitField(_l("Ask the community"))
    open_ticket = SubmitField(_l("Ask an operator"))

    def validate_body_md(self, field) -> None:
        if self.open_ticket.data and not (field.data or "").strip():
            raise ValidationError(_l("Describe your question for the operator."))


class QuestionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), TITLE])
    body_md = TextAreaField(_l("Details (Markdown)"), validators=[Optional(), BODY])
    product_id = SelectField(_l("Product (optional)"), coerce=coerce_int, default=0, validate_choice=False)
    tags = TagsField(_l("Tags (comma-separated)"), validators=[Optional(), TAGS])
    submit = SubmitField(_l("Save"))


class AnswerForm(FlaskForm):
    body_md = TextAreaField(_l("Your answer (Markdown)"), validators=[DataRequired(), BODY])
    submit = SubmitField(_l("Post answer"))


class VoteForm(FlaskForm):
    value = HiddenField(validators=[InputRequired(), AnyOf(["1", "-1"])])


class ActionForm(FlaskForm):
    """A button that changes a state; only the CSRF token is checked."""


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("What should the author change?"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Send back"))


class ModerationForm(FlaskForm):
    action = SelectField(choices=[SelectChoice(a.value) for a in Action], validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class ReplyForm(FlaskForm):
    body_md = TextAreaField(_l("Message (Markdown)"), validators=[DataRequired(), BODY])
    submit = SubmitField(_l("Send"))


class AssignForm(FlaskForm):
    assignee_id = SelectField(_l("Assignee"), coerce=coerce_int, validators=[InputRequired()])
    submit = SubmitField(_l("Assign"))


class MetricsForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To (inclusive)"), validators=[Optional(), not_before("date_from")])
