"""KPI network gaps: each chain's median time between stages over the /network window

Counted by the aggregation run (kpis.network_gaps); empty until its next run, and the page
counts a chain's medians itself meanwhile.

Revision ID: 8c4d1e6f2a57
Revises: 5f0c2e7a9b31
Create Date: 2026-12-07 06:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "8c4d1e6f2a57"
down_revision = "5f0c2e7a9b31"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kpi_network_gaps",
        sa.Column("root_employee_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("visit", sa.BigInteger(), nullable=True),
        sa.Column("signup", sa.BigInteger(), nullable=True),
        sa.Column("consultation", sa.BigInteger(), nullable=True),
        sa.Column("first_order", sa.BigInteger(), nullable=True),
        sa.Column("repeat_order", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("root_employee_id", name=op.f("pk_kpi_network_gaps")),
    )
    with op.batch_alter_table("kpi_state") as batch:
        batch.add_column(sa.Column("network_gaps_window_end", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("kpi_state") as batch:
        batch.drop_column("network_gaps_window_end")
    op.drop_table("kpi_network_gaps")
