"""KPI chain days by actor level and festival, the stages side by side

kpi_chain_days kept a row per day, chain and stage without the level or festival, so a
festival or level cut of any per-employee figure read kpi_funnel_days. The table now keeps
a row per day, chain, level and festival with a column per stage; its rows are recounted
here from kpi_funnel_days, which holds them all.

Revision ID: 26741d222582
Revises: 326c4a9085a0
Create Date: 2026-12-06 21:40:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "26741d222582"
down_revision = "326c4a9085a0"
branch_labels = None
depends_on = None

STAGES = ("share", "visit", "signup", "consultation", "first_order", "repeat_order")
INDEX = "ix_kpi_chain_days_root_employee_id_day"


def upgrade():
    with op.batch_alter_table("kpi_chain_days", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
    op.drop_table("kpi_chain_days")
    op.create_table(
        "kpi_chain_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("root_employee_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("festival_id", sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(kind, sa.Integer(), nullable=False) for kind in STAGES),
        sa.PrimaryKeyConstraint("day", "root_employee_id", "level", "festival_id", name=op.f("pk_kpi_chain_days")),
    )
    with op.batch_alter_table("kpi_chain_days", schema=None) as batch_op:
        batch_op.create_index(INDEX, ["root_employee_id", "day"], unique=False)
    sums = ", ".join(f"sum(CASE WHEN kind = '{kind}' THEN events ELSE 0 END)" for kind in STAGES)
    op.execute(
        f"INSERT INTO kpi_chain_days (day, root_employee_id, level, festival_id, {', '.join(STAGES)}) "
        f"SELECT day, root_employee_id, level, festival_id, {sums} FROM kpi_funnel_days "
        "GROUP BY day, root_employee_id, level, festival_id"
    )


def downgrade():
    with op.batch_alter_table("kpi_chain_days", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
    op.drop_table("kpi_chain_days")
    op.create_table(
        "kpi_chain_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("root_employee_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "root_employee_id", "kind", name=op.f("pk_kpi_chain_days")),
    )
    with op.batch_alter_table("kpi_chain_days", schema=None) as batch_op:
        batch_op.create_index(INDEX, ["root_employee_id", "day"], unique=False)
    op.execute(
        "INSERT INTO kpi_chain_days (day, root_employee_id, kind, events) "
        "SELECT day, root_employee_id, kind, sum(events) FROM kpi_funnel_days "
        "GROUP BY day, root_employee_id, kind"
    )
