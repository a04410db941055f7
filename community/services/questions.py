"""Questions and answers: anyone asks and answers, one vote per user per post, and the asker
or an operator accepts an answer, which ranks first and marks the question solved."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import selectinload

from community import events
from community.errors import AlreadyPosted, CommunityError
from community.models import Answer, Question, Tag, Vote
from community.services.common import REPOST_WINDOW, active_product, parse_tags, same_text, tags_named
from shop.accounts.models import User
from shop.accounts.services import lock_person
from shop.audit.services import record
from shop.database import utcnow
from shop.errors import NotAllowed
from shop.extensions import db
from shop.pagination import Page, paginate

TITLE_MAX = 200


def question_for(viewer: User, question_id: int) -> Question | None:
    """A question ``viewer`` may read: hidden ones only for their author and the operators."""
    question = db.session.scalar(
        select(Question)
        .where(Question.id == question_id)
        .options(selectinload(Question.tags), selectinload(Question.author), selectinload(Question.product))
    )
    if question is None or (question.is_hidden and not (viewer.is_operator or question.author_id == viewer.id)):
        return None
    return question


def answer_for(viewer: User, answer_id: int) -> Answer | None:
    answer = db.session.get(Answer, answer_id)
    if answer is None or question_for(viewer, answer.question_id) is None:
        return None
    if answer.is_hidden and not (viewer.is_operator or answer.author_id == viewer.id):
        return None
    return answer


def ranked_answers(viewer: User, question: Question) -> list[Answer]:
    """The accepted answer first, then by votes, then oldest first. Hidden answers are shown
    to the operators and to their author only."""
    answers = db.session.scalars(
        select(Answer).where(Answer.question_id == question.id).options(selectinload(Answer.author))
    ).all()
    visible = [a for a in answers if not a.is_hidden or viewer.is_operator or a.author_id == viewer.id]
    return sorted(visible, key=lambda a: (not a.is_accepted, -a.score, a.created_at, a.id))


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise CommunityError(_("Give the question a title."))
    if len(title) > TITLE_MAX:
        raise CommunityError(_("A title can have at most %(n)d characters.", n=TITLE_MAX))
    return title


def ask_question(
    user: User, *, title: str, body_md: str, product_id: int | None = None, tags: str = "", now: datetime | None = None
) -> Question:
    """Post a question. It is a consultation event of the asker's chain (``community.events``).

    The same title and text again by the same asker within ``REPOST_WINDOW`` is the first
    question sent twice: AlreadyPosted, with that question."""
    now = now or utcnow()
    title, body_md = _clean_title(title), body_md or ""
    product, tag_names = active_product(product_id), parse_tags(tags)
    lock_person(user)
    earlier = db.session.scalars(
        select(Question)
        .where(Question.author_id == user.id, Question.title == title, Question.created_at >= now - REPOST_WINDOW)
        .order_by(Question.id)
    )
    repeated = next((q for q in earlier if same_text(q.body_md, body_md)), None)
    if repeated is not None:
        raise AlreadyPosted(_("You already posted this question."), repeated)
    question = Question(
        author_id=user.id,
        title=title,
        body_md=body_md,
        product=product,
        created_at=now,
        updated_at=now,
    )
    question.tags = tags_named(tag_names)
    db.session.add(question)
    db.session.flush()
    events.record_consultation(user, product_id=question.product_id, source="question", key=question.id)
    return question


def _check_open(actor: User, question: Question) -> None:
    if question.is_hidden and not actor.is_operator:
        raise NotAllowed(_("This question was hidden by a moderator."))
    if question.is_locked and not actor.is_operator:
        raise NotAllowed(_("This question is locked."))


def edit_question(
    actor: User, question: Question, *, title: str, body_md: str, product_id: int | None, tags: str
) -> Question:
    """The asker, or an operator (moderation), edits a question; audited either way."""
    if not (actor.is_operator or actor.id == question.author_id):
        raise NotAllowed(_("Only the asker or an operator can edit a question."))
    _check_open(actor, question)
    before = _question_state(question)
    question.title, question.body_md = _clean_title(title), body_md or ""
    question.product = active_product(product_id)
    question.tags = tags_named(parse_tags(tags))
    record("question.edit", question, actor=actor, before=before, after=_question_state(question))
    return question


def _question_state(question: Question) -> dict:
    return {
        "title": question.title,
        "body_md": question.body_md,
        "product_id": question.product_id,
        "tags": [t.name for t in question.tags],
    }


def post_answer(user: User, question: Question, body_md: str, *, now: datetime | None = None) -> Answer:
    """Answer a question. The same text again by the same author on the same question within
    ``REPOST_WINDOW`` is the first answer sent twice: AlreadyPosted, with that answer."""
    now = now or utcnow()
    _check_open(user, question)
    if not (body_md or "").strip():
        raise CommunityError(_("Write an answer first."))
    lock_person(user)
    earlier = db.session.scalars(
        select(Answer)
        .where(
            Answer.question_id == question.id,
            Answer.author_id == user.id,
            Answer.created_at >= now - REPOST_WINDOW,
        )
        .order_by(Answer.id)
    )
    repeated = next((a for a in earlier if same_text(a.body_md, body_md)), None)
    if repeated is not None:
        raise AlreadyPosted(_("You already posted this answer."), repeated)
    answer = Answer(question_id=question.id, author_id=user.id, body_md=body_md, created_at=now, updated_at=now)
    db.session.add(answer)
    db.session.flush()
    return answer


def edit_answer(actor: User, answer: Answer, body_md: str) -> Answer:
    if not (actor.is_operator or actor.id == answer.author_id):
        raise NotAllowed(_("Only the author or an operator can edit an answer."))
    _check_open(actor, answer.question)
    if answer.is_hidden and not actor.is_operator:
        raise NotAllowed(_("This answer was hidden by a moderator."))
    if not (body_md or "").strip():
        raise CommunityError(_("Write an answer first."))
    before = {"body_md": answer.body_md}
    answer.body_md = body_md
    record("answer.edit", answer, actor=actor, before=before, after={"body_md": body_md})
    return answer


def vote(user: User, post: Question | Answer, value: int) -> int:
    """Vote +1 or -1; voting the same way again takes the vote back. Returns the new score.

    One vote per user per post (a unique key); the score moves by a conditional update, so
    concurrent votes add up."""
    if value not in (-1, 1):
        raise CommunityError(_("Vote up or down."))
    if post.author_id == user.id:
        raise NotAllowed(_("You cannot vote on your own post."))
    question = post if isinstance(post, Question) else post.question
    _check_open(user, question)
    if isinstance(post, Answer) and post.is_hidden:
        raise NotAllowed(_("This answer was hidden by a moderator."))
    key = Vote.question_id if isinstance(post, Question) else Vote.answer_id
    existing = db.session.scalar(select(Vote).where(Vote.user_id == user.id, key == post.id).with_for_update())
    delta = value
    if existing is None:
        db.session.add(Vote(user_id=user.id, value=value, **{key.key: post.id}))
    elif existing.value == value:
        db.session.delete(existing)
        delta = -value
    else:
        existing.value = value
        delta = 2 * value
    db.session.flush()
    model = type(post)
    db.session.execute(
        update(model)
        .where(model.id == post.id)
        .values(score=model.score + delta)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(post, ["score"])
    return post.score


def my_votes(user: User, question: Question, answers: list[Answer]) -> dict[tuple[str, int], int]:
    """(\"question\" | \"answer\", id) -> the user's vote, for showing which arrows are pressed."""
    rows = db.session.execute(
        select(Vote.question_id, Vote.answer_id, Vote.value).where(
            Vote.user_id == user.id, (Vote.question_id == question.id) | Vote.answer_id.in_([a.id for a in answers])
        )
    ).all()
    return {("question", q) if q else ("answer", a): v for q, a, v in rows}


def accept_answer(actor: User, answer: Answer, *, now: datetime | None = None) -> Answer:
    """The asker or an operator accepts an answer; an earlier accepted one is replaced.

    The question row is locked first, so two accepts cannot both win."""
    now = now or utcnow()
    question = answer.question
    if not (actor.is_operator or actor.id == question.author_id):
        raise NotAllowed(_("Only the asker or an operator can accept an answer."))
    _check_open(actor, question)
    if answer.is_hidden:
        raise NotAllowed(_("A hidden answer cannot be accepted."))
    db.session.execute(select(Question.id).where(Question.id == question.id).with_for_update())
    if answer.is_accepted:
        raise CommunityError(_("This answer is accepted already."))
    previous = db.session.scalar(select(Answer).where(Answer.question_id == question.id, Answer.is_accepted.is_(True)))
    if previous is not None:
        previous.is_accepted, previous.accepted_at = False, None
        db.session.flush()
    answer.is_accepted, answer.accepted_at = True, now
    question.solved_at = question.solved_at or now
    record(
        "answer.accept",
        answer,
        actor=actor,
        before={"accepted_answer_id": previous.id if previous else None},
        after={"accepted_answer_id": answer.id, "question_id": question.id},
    )
    return answer


# ---- lists ----------------------------------------------------------------------------------

FILTERS = ("all", "unanswered", "open", "solved")


def list_questions(
    *, show: str = "all", tag: str | None = None, product_id: int | None = None, page: int = 1, per_page: int = 20
) -> Page:
    """Visible questions, newest first. ``unanswered``: no visible answer; ``open``: not solved."""
    query = (
        select(Question)
        .where(Question.is_hidden.is_(False))
        .options(selectinload(Question.tags), selectinload(Question.author))
    )
    has_answer = exists().where(Answer.question_id == Question.id, Answer.is_hidden.is_(False))
    if show == "unanswered":
        query = query.where(~has_answer)
    elif show == "open":
        query = query.where(Question.solved_at.is_(None))
    elif show == "solved":
        query = query.where(Question.solved_at.is_not(None))
    if tag:
        query = query.where(Question.tags.any(Tag.name == tag.lower()))
    if product_id:
        query = query.where(Question.product_id == product_id)
    return paginate(query.order_by(Question.created_at.desc(), Question.id.desc()), page, per_page)


def answer_counts(questions: list[Question]) -> dict[int, int]:
    rows = db.session.execute(
        select(Answer.question_id, func.count())
        .where(Answer.question_id.in_([q.id for q in questions]), Answer.is_hidden.is_(False))
        .group_by(Answer.question_id)
    )
    return {question_id: n for question_id, n in rows}
