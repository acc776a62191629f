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


def upgrade() -> None:
    # Values written from now on; stored ones keep the compression they were written with,
    # and both read back alike. A server built without lz4 (it is optional, PostgreSQL 14
    # and later) refuses the method: the column then keeps pglz, as before.
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or bind.dialect.server_version_info < (14,):
        return
    try:
        with bind.begin_nested():
            op.execute("ALTER TABLE order_history ALTER COLUMN changes SET COMPRESSION lz4")
    except DBAPIError:
        pass


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and bind.dialect.server_version_info >= (14,):
        op.execute("ALTER TABLE order_history ALTER COLUMN changes SET COMPRESSION default")
