"""Card payments keep Stripe's code for their last failure, to tell the buyer why in their language

Revision ID: b6d1f0a8c247
Revises: 4e7a2c9d1b58
Create Date: 2026-12-07 22:05:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b6d1f0a8c247"
down_revision = "4e7a2c9d1b58"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("card_payments") as batch_op:
        batch_op.add_column(sa.Column("last_error_code", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("card_payments") as batch_op:
        batch_op.drop_column("last_error_code")
