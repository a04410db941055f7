"""KPI covering indexes: a window of the chain, gap-day and gap-week tables read from an index alone

Each index leads with the day (the week) and holds every column of its table, so that the
dashboard's statements over a window are index-only scans (kpis/models.py).

Revision ID: 3b9e5d1c7a40
Revises: 8c4d1e6f2a57
Create Date: 2026-12-07 15:20:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "3b9e5d1c7a40"
down_revision = "8c4d1e6f2a57"
branch_labels = None
depends_on = None

STAGES = ["share", "visit", "signup", "consultation", "first_order", "repeat_order"]
HISTOGRAM = ["level", "festival_id", "kind", "bucket", "events"]


def upgrade():
    op.create_index(
        "ix_kpi_chain_days_day_with_counts",
        "kpi_chain_days",
        ["day", "root_employee_id", "level", "festival_id", *STAGES],
    )
    op.create_index("ix_kpi_gap_days_day_with_counts", "kpi_gap_days", ["day", *HISTOGRAM])
    op.create_index("ix_kpi_gap_weeks_week_with_counts", "kpi_gap_weeks", ["week", *HISTOGRAM])


def downgrade():
    op.drop_index("ix_kpi_gap_weeks_week_with_counts", table_name="kpi_gap_weeks")
    op.drop_index("ix_kpi_gap_days_day_with_counts", table_name="kpi_gap_days")
    op.drop_index("ix_kpi_chain_days_day_with_counts", table_name="kpi_chain_days")
