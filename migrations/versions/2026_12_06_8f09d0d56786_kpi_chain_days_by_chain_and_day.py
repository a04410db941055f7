"""kpi_chain_days by chain and day: one chain's funnel on /network

Revision ID: 8f09d0d56786
Revises: 2773a9fb303b
Create Date: 2026-12-06 18:34:05.507569

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "8f09d0d56786"
down_revision = "2773a9fb303b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("kpi_chain_days", schema=None) as batch_op:
        batch_op.create_index("ix_kpi_chain_days_root_employee_id_day", ["root_employee_id", "day"], unique=False)


def downgrade():
    with op.batch_alter_table("kpi_chain_days", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_chain_days_root_employee_id_day")
