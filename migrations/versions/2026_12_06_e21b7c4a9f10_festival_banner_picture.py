"""festival banner picture

festivals.banner_filename, banner_width, banner_height: the banner an operator gives a festival
(a bounded copy under instance/uploads, like product pictures), shown on the home page and on the
festival's page.

Revision ID: e21b7c4a9f10
Revises: e21c4a5d8b07
Create Date: 2026-12-06 13:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e21b7c4a9f10"
down_revision = "e21c4a5d8b07"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("festivals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("banner_filename", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("banner_width", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("banner_height", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("festivals", schema=None) as batch_op:
        batch_op.drop_column("banner_height")
        batch_op.drop_column("banner_width")
        batch_op.drop_column("banner_filename")
