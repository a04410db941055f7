"""What every form-post view does with a service call: commit it, or show why it was refused."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, flash

from shop.errors import DomainError
from shop.extensions import db


def commit_or_refuse(action: Callable[[], object], done: str) -> bool:
    """Run ``action``; commit and flash ``done``, or roll back and flash the rule that refused it."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return False
    db.session.commit()
    flash(done, "success")
    return True


def render_without_user(template: str, **context) -> str:
    """Render ``template`` without the template context processors: Flask-Login's loads the
    user from the database for ``current_user`` on every render. For pages answered from the
    session alone; the template may use the Jinja globals (``url_for``, ``_``,
    ``company_name``), never ``current_user``, ``request``, ``session``, ``g`` or ``config``."""
    return current_app.jinja_env.get_template(template).render(**context)
