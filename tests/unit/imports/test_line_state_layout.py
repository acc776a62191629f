"""The import reads lines straight into LineState by position: the repository's column
order must be the dataclass's."""

from dataclasses import fields

from ordersync.adapters.db.import_repository import _LINE_COLUMNS
from ordersync.adapters.db.tables import order_lines
from ordersync.rules.internal_order_update import LineState


def test_line_state_is_the_id_then_the_columns_the_import_reads_in_order() -> None:
    names = [f.name for f in fields(LineState)]
    assert names[: len(_LINE_COLUMNS) + 1] == ["id", *_LINE_COLUMNS]
    assert names[len(_LINE_COLUMNS) + 1 :] == ["changed"]  # bookkeeping, not a column
    assert set(_LINE_COLUMNS) <= set(order_lines.c.keys())
