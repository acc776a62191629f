"""Logistic-order lifecycle and what may change in each status (SPEC §1 and §4).

This module is the one place that knows the status table; the operator PATCH and
the CSV import both ask it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LogisticOrderStatus(StrEnum):
    DRAFT_ORDER = "DRAFT_ORDER"
    DRAFT_ORDER_ON_HOLD = "DRAFT_ORDER_ON_HOLD"
    ORDER_CREATED = "ORDER_CREATED"
    WAITING_CUSTOMER_APPROVAL = "WAITING_CUSTOMER_APPROVAL"
    WAITING_SUPPLIER_APPROVAL = "WAITING_SUPPLIER_APPROVAL"
    ACCEPTED_BY_SUPPLIER = "ACCEPTED_BY_SUPPLIER"
    WAITING_SHIPMENT = "WAITING_SHIPMENT"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    COMPLETED = "COMPLETED"
    DECLINED_BY_CUSTOMER = "DECLINED_BY_CUSTOMER"
    DECLINED_BY_SUPPLIER = "DECLINED_BY_SUPPLIER"
    CANCELED = "CANCELED"

    @classmethod
    def parse(cls, value: str) -> LogisticOrderStatus:
        """Accept the CSV spelling `ORDER_DRAFT_ON_HOLD`; raise ValueError on anything unknown."""
        value = value.strip().upper()
        return cls(_ALIASES.get(value, value))


_ALIASES = {"ORDER_DRAFT_ON_HOLD": "DRAFT_ORDER_ON_HOLD"}

S = LogisticOrderStatus

# The forward path; a status may jump ahead along it but never go back.
LIFECYCLE: tuple[LogisticOrderStatus, ...] = (
    S.DRAFT_ORDER,
    S.DRAFT_ORDER_ON_HOLD,
    S.ORDER_CREATED,
    S.WAITING_CUSTOMER_APPROVAL,
    S.WAITING_SUPPLIER_APPROVAL,
    S.ACCEPTED_BY_SUPPLIER,
    S.WAITING_SHIPMENT,
    S.PARTIALLY_SHIPPED,
    S.SHIPPED,
    S.COMPLETED,
)
SIDE_EXITS = frozenset({S.DECLINED_BY_CUSTOMER, S.DECLINED_BY_SUPPLIER, S.CANCELED})
FINAL = frozenset({S.COMPLETED} | SIDE_EXITS)


@dataclass(frozen=True)
class EditRights:
    """What may change on a logistic order in a given status (SPEC §4 table)."""

    lines_created_or_deleted: bool
    line_values: bool  # quantity, prices, tax, names
    shipping_address: bool
    status: bool


_ALL = EditRights(True, True, True, True)
_NO_LINE_SET = EditRights(False, True, True, True)
_ADDRESS_AND_STATUS = EditRights(False, False, True, True)
_STATUS_ONLY = EditRights(False, False, False, True)
_NOTHING = EditRights(False, False, False, False)

STATUS_TABLE: dict[LogisticOrderStatus, EditRights] = {
    S.DRAFT_ORDER: _ALL,
    S.DRAFT_ORDER_ON_HOLD: _ALL,
    S.ORDER_CREATED: _ALL,
    S.WAITING_CUSTOMER_APPROVAL: _NO_LINE_SET,
    S.WAITING_SUPPLIER_APPROVAL: _NO_LINE_SET,
    S.ACCEPTED_BY_SUPPLIER: _ADDRESS_AND_STATUS,
    S.WAITING_SHIPMENT: _ADDRESS_AND_STATUS,
    S.PARTIALLY_SHIPPED: _STATUS_ONLY,
    S.SHIPPED: _STATUS_ONLY,
    S.COMPLETED: _NOTHING,
    S.CANCELED: _NOTHING,
    S.DECLINED_BY_CUSTOMER: _NOTHING,
    S.DECLINED_BY_SUPPLIER: _NOTHING,
}


def edit_rights(status: LogisticOrderStatus) -> EditRights:
    return STATUS_TABLE[status]


class TransitionRefusal(StrEnum):
    FROM_FINAL = "STATUS_FINAL"
    BACKWARDS = "STATUS_TRANSITION_NOT_ALLOWED"


def check_transition(
    current: LogisticOrderStatus, target: LogisticOrderStatus
) -> TransitionRefusal | None:
    """None when `current -> target` is allowed: forward along the lifecycle, or a side exit
    from any non-final status. Staying in the same non-final status is allowed (a no-op)."""
    if current in FINAL:
        return None if target == current else TransitionRefusal.FROM_FINAL
    if target in SIDE_EXITS:
        return None
    if LIFECYCLE.index(target) >= LIFECYCLE.index(current):
        return None
    return TransitionRefusal.BACKWARDS
