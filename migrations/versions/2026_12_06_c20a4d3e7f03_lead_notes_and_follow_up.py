"""lead notes and follow-up

leads.follow_up_on: the day of the rep's next step (the "due today" list); lead_notes: what the
rep wrote down about a lead.

Revision ID: c20a4d3e7f03
Revises: b20f3c2d6e02
Create Date: 2026-12-06 11:00:00.000000

"""

from alembic import op
import sqlalchemy as sa

import shop.database


# revision identifiers, used by Alembic.
revision = "c20a4d3e7f03"
down_revision = "b20f3c2d6e02"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("leads") as batch_op:
        batch_op.add_column(sa.Column("follow_up_on", sa.Date(), nullable=True))
    op.create_table(
        "lead_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", shop.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_lead_notes_author_id_users")),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_lead_notes_lead_id_leads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_notes")),
    )
    with op.batch_alter_table("lead_notes") as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_notes_lead_id"), ["lead_id"], unique=False)


def downgrade():
    with op.batch_alter_table("lead_notes") as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_notes_lead_id"))
    op.drop_table("lead_notes")
    with op.batch_alter_table("leads") as batch_op:
        batch_op.drop_column("follow_up_on")
