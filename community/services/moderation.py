"""Moderation: operators hide and lock posts (audited). Editing is in articles and questions."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import gettext as _

from community.errors import CommunityError
from community.models import Answer, Article, Question
from shop.accounts.models import User
from shop.audit.services import record
from shop.errors import NotAllowed

Post = Article | Question | Answer
POST_KINDS = {"article": Article, "question": Question, "answer": Answer}


class Action(StrEnum):
    hide = "hide"
    unhide = "unhide"
    lock = "lock"
    unlock = "unlock"


def moderate(actor: User, post: Post, action: Action, *, reason: str = "") -> Post:
    """Hide or show a post again; lock or unlock a question (no answers, votes or edits but an
    operator's). Each step is audited with the operator's reason."""
    if not actor.is_operator:
        raise NotAllowed(_("Only operators moderate posts."))
    if action in (Action.hide, Action.unhide):
        attribute, value = "is_hidden", action == Action.hide
    elif isinstance(post, Question):
        attribute, value = "is_locked", action == Action.lock
    else:
        raise CommunityError(_("Only questions can be locked."))
    if getattr(post, attribute) == value:
        raise CommunityError(_("Nothing to change: the post is like that already."))
    setattr(post, attribute, value)
    kind = next(name for name, model in POST_KINDS.items() if isinstance(post, model))
    record(
        f"{kind}.{action.value}",
        post,
        actor=actor,
        before={attribute: not value},
        after={attribute: value},
        reason=reason.strip()[:500] or None,
    )
    return post
