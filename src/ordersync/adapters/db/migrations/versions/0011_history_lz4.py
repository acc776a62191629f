"""order history's changes compressed with lz4 where PostgreSQL has it, not its default pglz:
a synchronise of a big order writes one entry of several hundred kilobytes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 17:00:00
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy.exc import DBAPIError

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _has_column_compression() -> bool:
    """PostgreSQL 14 and later."""
    dialect = op.get_bind().dialect
    return dialect.name == "postgresql" and (dialect.server_version_info or ()) >= (14,)


def upgrade() -> None:
    # Values written from now on; stored ones keep the compression they were written with,
    # and both read back alike. A server built without lz4 (it is optional) refuses the
    # method: the column then keeps pglz, as before.
    if not _has_column_compression():
        return
    try:
        with op.get_bind().begin_nested():
            op.execute("ALTER TABLE order_history ALTER COLUMN changes SET COMPRESSION lz4")
    except DBAPIError as exc:
        # feature_not_supported: "compression method lz4 not supported". Anything else (a
        # lock not granted, say) is an error of the migration like any other.
        if getattr(exc.orig, "sqlstate", None) != "0A000":
            raise


def downgrade() -> None:
    if _has_column_compression():
        op.execute("ALTER TABLE order_history ALTER COLUMN changes SET COMPRESSION default")
