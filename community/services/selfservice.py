""" "This answered it": a question answered by what is already written, without posting anything."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from community.errors import CommunityError
from community.models import Article, Question, SelfServiceResolution
from shop.accounts.models import User
from shop.database import utcnow
from shop.extensions import db

# The same user confirming the same item again within this time counts once.
REPEAT_WINDOW = timedelta(days=1)


def record_self_service(
    user: User, source: Article | Question, *, query: str = "", now: datetime | None = None
) -> SelfServiceResolution:
    """Record that ``source`` (a public article or a solved question) answered ``user``'s question."""
    now = now or utcnow()
    if isinstance(source, Article):
        if not source.is_public:
            raise CommunityError(_("This article is not published."))
        key, value = SelfServiceResolution.article_id, source.id
    else:
        if source.is_hidden:
            raise CommunityError(_("This question was hidden by a moderator."))
        key, value = SelfServiceResolution.question_id, source.id
    recent = db.session.scalar(
        select(SelfServiceResolution).where(
            SelfServiceResolution.user_id == user.id,
            key == value,
            SelfServiceResolution.created_at > now - REPEAT_WINDOW,
        )
    )
    if recent is not None:
        return recent
    resolution = SelfServiceResolution(
        user_id=user.id, query=" ".join((query or "").split())[:200], created_at=now, **{key.key: value}
    )
    db.session.add(resolution)
    db.session.flush()
    return resolution
