"""list indexes: account, store, sort column (and reference), so a page comes off an index

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

OLD = ("created_at", "updated_at", "validated_at", "reference", "source_type", "source_id")
# column, then-by-reference, nullable (PostgreSQL also gets a DESC NULLS LAST twin)
SORTED = (
    ("created_at", False, False),
    ("updated_at", False, False),
    ("validated_at", False, True),
    ("source_type", True, True),
    ("source_id", True, True),
)
TABLE = "commercial_orders"


def _columns(col: str, then_reference: bool, desc: bool = False) -> list[str | sa.TextClause]:
    sort: str | sa.TextClause = sa.text(f"{col} DESC NULLS LAST") if desc else col
    return ["account_id", "store_id", sort] + (
        [sa.text("lower(reference)")] if then_reference else []
    )


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for col in OLD:
        op.drop_index(f"ix_commercial_orders_account_{col}", table_name=TABLE)
    for col, then_reference, nullable in SORTED:
        name = f"ix_commercial_orders_account_store_{col}"
        op.create_index(name, TABLE, _columns(col, then_reference))
        if nullable and postgresql:
            op.create_index(f"{name}_desc", TABLE, _columns(col, then_reference, desc=True))
    op.create_index(
        "ix_commercial_orders_account_store_lower_reference",
        TABLE,
        ["account_id", "store_id", sa.text("lower(reference)")],
    )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.drop_index("ix_commercial_orders_account_store_lower_reference", table_name=TABLE)
    for col, _then, nullable in SORTED:
        name = f"ix_commercial_orders_account_store_{col}"
        op.drop_index(name, table_name=TABLE)
        if nullable and postgresql:
            op.drop_index(f"{name}_desc", table_name=TABLE)
    for col in OLD:
        op.create_index(f"ix_commercial_orders_account_{col}", TABLE, ["account_id", col])
