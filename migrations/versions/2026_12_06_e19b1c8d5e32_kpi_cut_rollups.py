"""KPI: rollups for the product cut by order lines and for retention under the cuts

Revision ID: e19b1c8d5e32
Revises: e21b7c4a9f10
Create Date: 2026-12-06 13:20:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e19b1c8d5e32"
down_revision = "e21b7c4a9f10"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kpi_product_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("root_employee_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("buyer_level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("festival_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("product_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "root_employee_id", "buyer_level", "festival_id", "product_id", name=op.f("pk_kpi_product_days")
        ),
    )
    with op.batch_alter_table("kpi_product_days", schema=None) as batch_op:
        batch_op.create_index("ix_kpi_product_days_product_id_day", ["product_id", "day"], unique=False)

    op.create_table(
        "kpi_buyer_cut_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("root_employee_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("buyer_level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("festival_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("product_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month",
            "buyer_id",
            "root_employee_id",
            "buyer_level",
            "festival_id",
            "product_id",
            name=op.f("pk_kpi_buyer_cut_months"),
        ),
    )
    with op.batch_alter_table("kpi_buyer_cut_months", schema=None) as batch_op:
        batch_op.create_index("ix_kpi_buyer_cut_months_product_id_month", ["product_id", "month"], unique=False)


def downgrade():
    with op.batch_alter_table("kpi_buyer_cut_months", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_buyer_cut_months_product_id_month")
    op.drop_table("kpi_buyer_cut_months")
    with op.batch_alter_table("kpi_product_days", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_product_days_product_id_day")
    op.drop_table("kpi_product_days")
