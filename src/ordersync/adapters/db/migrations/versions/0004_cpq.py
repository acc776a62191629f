"""cpq: per-line CPQ results, and the lease that keeps one push in flight per order

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ordersync.adapters.db.types import ExactDecimal, UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(sa.Column("cpq_unit_price", ExactDecimal(18, 4), nullable=True))
        batch.add_column(sa.Column("cpq_charges", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("cpq_sync_info", sa.JSON(), nullable=True))
    op.create_table(
        "cpq_push_leases",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["commercial_orders.id"],
            name=op.f("fk_cpq_push_leases_order_id_commercial_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_cpq_push_leases")),
    )


def downgrade() -> None:
    op.drop_table("cpq_push_leases")
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("cpq_sync_info")
        batch.drop_column("cpq_charges")
        batch.drop_column("cpq_unit_price")
