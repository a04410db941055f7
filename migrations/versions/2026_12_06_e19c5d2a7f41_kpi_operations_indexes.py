"""KPI operations pages: orders by placing and shipping time, festival and chain; users by department

The operator-efficiency and platform pages count the orders placed (created_at) and read those
shipped (shipped_at) in a window and the one before it; every department cut reads the
department's users. Without these indexes each of them scanned the whole table. The festival
report reads its festivals' paid orders and buyers from one index (which leads with festival_id
and so replaces ix_orders_festival_id), and each of their chains' first paid order by
(root_employee_id, paid_at).

Revision ID: e19c5d2a7f41
Revises: bfe3c629b399
Create Date: 2026-12-06 18:50:00.000000

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "e19c5d2a7f41"
down_revision = "bfe3c629b399"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_orders_shipped_at", ["shipped_at"], unique=False)
        batch_op.create_index(
            "ix_orders_festival_chain_paid",
            ["festival_id", "root_employee_id", "paid_at", "buyer_id", "status"],
            unique=False,
        )
        batch_op.create_index("ix_orders_root_employee_id_paid_at", ["root_employee_id", "paid_at"], unique=False)
        batch_op.drop_index("ix_orders_festival_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index("ix_users_department_id", ["department_id"], unique=False)


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_department_id")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_festival_id", ["festival_id"], unique=False)
        batch_op.drop_index("ix_orders_root_employee_id_paid_at")
        batch_op.drop_index("ix_orders_festival_chain_paid")
        batch_op.drop_index("ix_orders_shipped_at")
        batch_op.drop_index("ix_orders_created_at")
