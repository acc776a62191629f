"""list indexes: account, store and sort column, so a page comes off the index in order

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SORTED = ("created_at", "updated_at", "validated_at", "source_type", "source_id")


def upgrade() -> None:
    for col in (*SORTED, "reference"):
        op.drop_index(f"ix_commercial_orders_account_{col}", table_name="commercial_orders")
    for col in SORTED:
        op.create_index(
            f"ix_commercial_orders_account_store_{col}",
            "commercial_orders",
            ["account_id", "store_id", col],
        )
    op.create_index(
        "ix_commercial_orders_account_store_lower_reference",
        "commercial_orders",
        ["account_id", "store_id", sa.text("lower(reference)")],
    )


def downgrade() -> None:
    op.drop_index("ix_commercial_orders_account_store_lower_reference", "commercial_orders")
    for col in SORTED:
        op.drop_index(f"ix_commercial_orders_account_store_{col}", "commercial_orders")
    for col in (*SORTED, "reference"):
        op.create_index(
            f"ix_commercial_orders_account_{col}", "commercial_orders", ["account_id", col]
        )
