"""history.diff: the changes between two snapshots of an order, worked out from every
followed field or, when the flushes between them say which columns they wrote, from those
alone (unit of work's commit)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ordersync.domain.history import Changed, Entity, Snapshot, diff


def _line(line_id: int, **values: Any) -> dict[str, Any]:
    return {
        "id": line_id,
        "external_id": None,
        "offer_price_external_id": f"OP-{line_id}",
        "quantity": 1,
        "net_unit_price": Decimal("1.5000"),
        "total_net": Decimal("1.5000"),
        "variant_name": "Item",
        "custom_fields": {},
        **values,
    }


def _snapshots() -> tuple[Snapshot, Snapshot, Changed]:
    before: Snapshot = {
        (Entity.ORDER, 1): {"id": 1, "total_net": Decimal("3.0000"), "version": 4},
        (Entity.LINE, 10): _line(10),
        (Entity.LINE, 11): _line(11),
        (Entity.LINE, 12): _line(12),
    }
    after: Snapshot = {
        (Entity.ORDER, 1): {"id": 1, "total_net": Decimal("3.5000"), "version": 5},
        # Repriced: two followed columns, and one the history does not follow.
        (Entity.LINE, 10): _line(
            10, net_unit_price=Decimal("1.7500"), total_net=Decimal("1.7500"), updated=True
        ),
        # Written with a value equal to the stored one (1.5 is 1.5000): no change.
        (Entity.LINE, 11): _line(11, net_unit_price=Decimal("1.5")),
        (Entity.LINE, 13): _line(13, quantity=2),  # added; line 12 removed
    }
    written: Changed = {
        (Entity.ORDER, 1): ("total_net", "version"),
        (Entity.LINE, 10): ("net_unit_price", "total_net", "updated"),
        (Entity.LINE, 11): ("net_unit_price",),
    }
    return before, after, written


def test_the_written_columns_give_the_same_changes_as_every_followed_field() -> None:
    before, after, written = _snapshots()
    changes = diff(before, after, written)
    assert changes == diff(before, after)
    assert changes == [
        (Entity.ORDER, 1, "total_net", "3.0000", "3.5000"),
        (Entity.LINE, 10, "net_unit_price", "1.5000", "1.7500"),
        (Entity.LINE, 10, "total_net", "1.5000", "1.7500"),
        (
            Entity.LINE,
            12,
            None,
            {"externalId": None, "offerPriceExternalId": "OP-12", "quantity": 1},
            None,
        ),
        (
            Entity.LINE,
            13,
            None,
            None,
            {"externalId": None, "offerPriceExternalId": "OP-13", "quantity": 2},
        ),
    ]


def test_an_entity_no_flush_wrote_is_not_compared() -> None:
    before, after, written = _snapshots()
    del written[(Entity.LINE, 10)]
    fields = {change[:3] for change in diff(before, after, written)}
    assert (Entity.LINE, 10, "net_unit_price") not in fields
    assert (Entity.ORDER, 1, "total_net") in fields


def test_only_the_written_of_a_written_entitys_fields_are_compared() -> None:
    before, after, written = _snapshots()
    written[(Entity.LINE, 10)] = ("total_net",)
    line_fields = [field for _, ident, field, *_ in diff(before, after, written) if ident == 10]
    assert line_fields == ["total_net"]
