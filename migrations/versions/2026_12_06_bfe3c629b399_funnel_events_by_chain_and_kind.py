"""funnel_events by chain and kind: a chain's shares, visits and sign-ups on /network

Revision ID: bfe3c629b399
Revises: 8f09d0d56786
Create Date: 2026-12-06 19:08:32.000000

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "bfe3c629b399"
down_revision = "8f09d0d56786"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("funnel_events", schema=None) as batch_op:
        batch_op.create_index("ix_funnel_events_root_employee_id_kind", ["root_employee_id", "kind"], unique=False)


def downgrade():
    with op.batch_alter_table("funnel_events", schema=None) as batch_op:
        batch_op.drop_index("ix_funnel_events_root_employee_id_kind")
