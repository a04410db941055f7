"""KPI employees by name: an index of users by kind and lowered name

The KPI employees table, sorted by name, reads its page of 25 in this order instead of
lowering and sorting every active employee's name.

Revision ID: 4e7a2c9d1b58
Revises: 9dbf52d31126
Create Date: 2026-12-07 19:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "4e7a2c9d1b58"
down_revision = "9dbf52d31126"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_users_kind_lower_name", "users", ["kind", sa.text("lower(name)"), "id"], unique=False)


def downgrade():
    op.drop_index("ix_users_kind_lower_name", table_name="users")
