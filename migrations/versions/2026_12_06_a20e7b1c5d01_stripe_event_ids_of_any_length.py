"""stripe event ids of any length

A signed Stripe event is recorded whatever the length of its id, type or PaymentIntent id:
the columns become TEXT (PostgreSQL refused ids longer than 255 characters).

Revision ID: a20e7b1c5d01
Revises: 7a1c9d3e4b20
Create Date: 2026-12-06 10:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a20e7b1c5d01"
down_revision = "7a1c9d3e4b20"
branch_labels = None
depends_on = None

COLUMNS = (("id", 255, False), ("type", 100, False), ("payment_intent_id", 255, True))


def upgrade():
    with op.batch_alter_table("stripe_events") as batch_op:
        for name, length, nullable in COLUMNS:
            batch_op.alter_column(name, existing_type=sa.String(length), type_=sa.Text(), existing_nullable=nullable)


def downgrade():
    with op.batch_alter_table("stripe_events") as batch_op:
        for name, length, nullable in COLUMNS:
            batch_op.alter_column(name, existing_type=sa.Text(), type_=sa.String(length), existing_nullable=nullable)
