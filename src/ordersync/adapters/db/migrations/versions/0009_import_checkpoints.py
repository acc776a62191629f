"""import checkpoints: one row per partition of a job, the last line applied; a row that
succeeded keeps no result of its own

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    checkpoints = op.create_table(
        "import_checkpoints",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("done_through", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["import_jobs.id"],
            name=op.f("fk_import_checkpoints_job_id_import_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "partition", name=op.f("pk_import_checkpoints")),
    )
    # Jobs left unfinished by the release before: their rows' results were written one by
    # one (and are still read), so their partitions start at line 0.
    unfinished = op.get_bind().execute(
        sa.text("SELECT id, partitions FROM import_jobs WHERE status IN ('PENDING', 'RUNNING')")
    )
    rows = [
        {"job_id": job_id, "partition": p, "done_through": 0}
        for job_id, partitions in unfinished
        for p in range(partitions)
    ]
    if rows:
        op.bulk_insert(checkpoints, rows)


def downgrade() -> None:
    # The release before reads a success from the row itself.
    op.execute(
        sa.text(
            "UPDATE import_rows SET result = 'SUCCESS' WHERE result IS NULL AND line_number <= "
            "(SELECT c.done_through FROM import_checkpoints c WHERE c.job_id = import_rows.job_id "
            "AND c.partition = import_rows.partition)"
        )
    )
    op.drop_table("import_checkpoints")
