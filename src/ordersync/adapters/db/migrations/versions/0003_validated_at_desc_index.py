"""validated_at DESC NULLS LAST index for the newest-validated-first list (PostgreSQL)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_commercial_orders_account_store_validated_at_desc"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            NAME,
            "commercial_orders",
            ["account_id", "store_id", sa.text("validated_at DESC NULLS LAST")],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(NAME, table_name="commercial_orders")
