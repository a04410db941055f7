"""KPI gap histograms by week: kpi_gap_days summed by company week

A window's whole weeks are read from kpi_gap_weeks and only its other days from the day
table. Its rows are counted here from the day table, a week (Monday to Sunday) at a time.

Revision ID: 5f0c2e7a9b31
Revises: 26741d222582
Create Date: 2026-12-07 00:20:00.000000

"""

from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5f0c2e7a9b31"
down_revision = "26741d222582"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kpi_gap_weeks",
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("festival_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week", "level", "festival_id", "kind", "bucket", name=op.f("pk_kpi_gap_weeks")),
    )
    bind = op.get_bind()
    first, last = bind.execute(sa.text("SELECT min(day), max(day) FROM kpi_gap_days")).one()
    if first is None:
        return
    if isinstance(first, str):  # SQLite hands dates back as text in a plain statement
        first, last = date.fromisoformat(first), date.fromisoformat(last)
    statement = sa.text(
        "INSERT INTO kpi_gap_weeks (week, level, festival_id, kind, bucket, events) "
        "SELECT :week, level, festival_id, kind, bucket, sum(events) FROM kpi_gap_days "
        "WHERE day >= :week AND day < :next GROUP BY level, festival_id, kind, bucket"
    ).bindparams(sa.bindparam("week", type_=sa.Date()), sa.bindparam("next", type_=sa.Date()))
    week = first - timedelta(days=first.weekday())
    while week <= last:
        bind.execute(statement, {"week": week, "next": week + timedelta(days=7)})
        week += timedelta(days=7)


def downgrade():
    op.drop_table("kpi_gap_weeks")
