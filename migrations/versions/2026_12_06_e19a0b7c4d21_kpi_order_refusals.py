"""KPI: order refusals by reason, one row each (festival "buy now" and checkout)

Revision ID: e19a0b7c4d21
Revises: 48a760250e0e
Create Date: 2026-12-06 13:05:00.000000

"""

from alembic import op
import sqlalchemy as sa

import shop.database


# revision identifiers, used by Alembic.
revision = "e19a0b7c4d21"
down_revision = "48a760250e0e"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kpi_order_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", shop.database.UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("buyer_level", sa.SmallInteger(), nullable=False),
        sa.Column("root_employee_id", sa.Integer(), nullable=True),
        sa.Column("festival_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_order_refusals")),
    )
    with op.batch_alter_table("kpi_order_refusals", schema=None) as batch_op:
        batch_op.create_index("ix_kpi_order_refusals_at", ["at"], unique=False)


def downgrade():
    with op.batch_alter_table("kpi_order_refusals", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_order_refusals_at")
    op.drop_table("kpi_order_refusals")
