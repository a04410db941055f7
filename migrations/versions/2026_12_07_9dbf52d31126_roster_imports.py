"""Roster imports: an uploaded HR roster imported by the worker, its progress on a page

Revision ID: 9dbf52d31126
Revises: 3b9e5d1c7a40
Create Date: 2026-12-07 19:09:31.914218

"""

import sqlalchemy as sa
from alembic import op

import shop.database

# revision identifiers, used by Alembic.
revision = "9dbf52d31126"
down_revision = "3b9e5d1c7a40"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "roster_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", shop.database.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("deactivate_missing", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "applying",
                "inviting",
                "done",
                "failed",
                name="roster_import_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("to_invite", sa.JSON(), nullable=True),
        sa.Column("invited", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", shop.database.UTCDateTime(), nullable=True),
        sa.Column("finished_at", shop.database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_roster_imports_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_imports")),
    )
    with op.batch_alter_table("roster_imports") as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_imports_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("roster_imports") as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_imports_status"))
    op.drop_table("roster_imports")
