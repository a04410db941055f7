"""session tokens

Each user gets a session token, part of the login id in the session and remember-me cookies,
so that rotating it (log-out, password change or reset, deactivation, role change, "log out
everywhere") refuses every cookie written before. Existing users get a random token each: the
cookies they hold now (with the old, token-less login id) stop working once, and they log in
again.

Revision ID: 5e55107a7c3e
Revises: 8b74d398a45f
Create Date: 2026-12-06 10:40:00.000000

"""

import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5e55107a7c3e"
down_revision = "8b74d398a45f"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("session_token", sa.String(length=43), server_default="", nullable=False))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("session_token", sa.String))
    bind = op.get_bind()
    ids = list(bind.execute(sa.select(users.c.id)).scalars())
    if ids:
        bind.execute(
            users.update().where(users.c.id == sa.bindparam("user_id")).values(session_token=sa.bindparam("token")),
            [{"user_id": user_id, "token": secrets.token_urlsafe(16)} for user_id in ids],
        )


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("session_token")
