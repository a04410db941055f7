"""users' chosen language

users.preferred_locale: the language a person chose with the language switch; it beats their
browser's and is the language of the mail sent to them. The languages are now zh_CN and en:
a last-used language recorded as plain "zh" becomes "zh_CN", for which a catalogue exists.

Revision ID: e21a5c7b9d14
Revises: 34fce2ca685d
Create Date: 2026-12-06 13:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e21a5c7b9d14"
down_revision = "34fce2ca685d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("preferred_locale", sa.String(length=16), nullable=True))
    op.execute("UPDATE users SET locale = 'zh_CN' WHERE locale LIKE 'zh%'")


def downgrade():
    op.execute("UPDATE users SET locale = 'zh' WHERE locale = 'zh_CN'")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("preferred_locale")
