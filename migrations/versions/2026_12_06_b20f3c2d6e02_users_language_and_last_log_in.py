"""users' language and last log-in

users.locale: the language a person last used the shop in, so that mail sent to them later
(shipments, invitations) is written in it. users.last_login_at: shown to admins.

Revision ID: b20f3c2d6e02
Revises: a20e7b1c5d01
Create Date: 2026-12-06 10:45:00.000000

"""

from alembic import op
import sqlalchemy as sa

import shop.database


# revision identifiers, used by Alembic.
revision = "b20f3c2d6e02"
down_revision = "a20e7b1c5d01"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("last_login_at", shop.database.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("last_login_at")
        batch_op.drop_column("locale")
