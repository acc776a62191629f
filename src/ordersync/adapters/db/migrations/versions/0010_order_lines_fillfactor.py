"""order lines leave room in each page for their next version (PostgreSQL fillfactor 70), so
that rewriting an order's prices is a heap-only update

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Pages written from now on keep 30 % free; existing pages fill up as they are rewritten.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE order_lines SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE order_lines RESET (fillfactor)")
