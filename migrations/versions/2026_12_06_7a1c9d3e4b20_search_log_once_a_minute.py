"""search log once a minute

The community search page is a GET that logs the search: a reload, a prefetch or a shared
link opened again added a row each time. From now on a search is logged once per user, query
and minute (``created_at`` is the minute), held by a unique index; rows that are exact
duplicates of an earlier one are removed first so that the index can be built.

Revision ID: 7a1c9d3e4b20
Revises: 5e55107a7c3e
Create Date: 2026-12-06 10:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7a1c9d3e4b20"
down_revision = "5e55107a7c3e"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        sa.text(
            "DELETE FROM community_query_log WHERE id IN ("
            " SELECT later.id FROM community_query_log AS later"
            " JOIN community_query_log AS earlier ON earlier.user_id = later.user_id"
            " AND earlier.query = later.query AND earlier.created_at = later.created_at"
            " AND earlier.id < later.id)"
        )
    )
    with op.batch_alter_table("community_query_log", schema=None) as batch_op:
        batch_op.create_index("ix_community_query_log_once_a_minute", ["user_id", "query", "created_at"], unique=True)


def downgrade():
    with op.batch_alter_table("community_query_log", schema=None) as batch_op:
        batch_op.drop_index("ix_community_query_log_once_a_minute")
