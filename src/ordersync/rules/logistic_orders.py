"""Back-office changes to a logistic order, checked against the status table (SPEC §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple, Protocol

from ordersync.domain.errors import Conflict, ErrorCode, FieldError, Unprocessable
from ordersync.domain.statuses import (
    LogisticOrderStatus,
    TransitionRefusal,
    check_transition,
    edit_rights,
)

DRAFT_STATUSES = frozenset(
    {LogisticOrderStatus.DRAFT_ORDER, LogisticOrderStatus.DRAFT_ORDER_ON_HOLD}
)


class LogisticOrderPatch(NamedTuple):
    status: LogisticOrderStatus | None = None
    external_id: str | None = None
    shipping_address: dict[str, Any] | None = None


def parse_status(value: str, field: str = "status") -> LogisticOrderStatus:
    try:
        return LogisticOrderStatus.parse(value)
    except ValueError:
        raise Unprocessable(
            ErrorCode.STATUS_UNKNOWN,
            f"Unknown status {value!r}.",
            [
                FieldError(
                    ErrorCode.STATUS_UNKNOWN,
                    field,
                    "Expected one of " + ", ".join(s.value for s in LogisticOrderStatus),
                )
            ],
        ) from None


class PatchableOrder(Protocol):
    """What a patch changes on the owning commercial order (the aggregate, or the CSV
    import's lighter state)."""

    is_validated: bool
    validated_at: datetime | None
    updated_at: datetime


class PatchableLogisticOrder(Protocol):
    reference: str
    external_id: str | None
    status: LogisticOrderStatus
    shipping_address: dict[str, Any] | None
    updated_at: datetime


def apply_patch(
    order: PatchableOrder, lo: PatchableLogisticOrder, patch: LogisticOrderPatch, now: datetime
) -> bool:
    """Check every requested change against the logistic order's current status, then apply
    them all (or none). True when something changed; the owning order is marked changed so
    its version moves."""
    current = lo.status
    rights = edit_rights(current)
    if (
        patch.external_id is not None
        and patch.external_id != lo.external_id
        and lo.external_id is not None
    ):
        raise Conflict(
            ErrorCode.EXTERNAL_ID_ALREADY_SET,
            f"Logistic order {lo.reference} already has external id "
            f"{lo.external_id}; it can be set only once.",
        )
    if patch.shipping_address is not None and not rights.shipping_address:
        raise Unprocessable(
            ErrorCode.FIELD_NOT_EDITABLE_IN_STATUS,
            f"The shipping address cannot change in status {current.value}.",
            [
                FieldError(
                    ErrorCode.FIELD_NOT_EDITABLE_IN_STATUS,
                    "shippingAddress",
                    f"Status is {current.value}.",
                )
            ],
        )
    if patch.status is not None:
        refusal = check_transition(current, patch.status)
        if refusal is not None:
            code = (
                ErrorCode.STATUS_FINAL
                if refusal is TransitionRefusal.FROM_FINAL
                else ErrorCode.STATUS_TRANSITION_NOT_ALLOWED
            )
            raise Unprocessable(
                code,
                f"Status cannot move from {current.value} to "
                f"{patch.status.value}: statuses move forward only.",
                [FieldError(code, "status", f"Status is {current.value}.")],
            )
    changed = False
    if patch.external_id is not None and lo.external_id is None:
        lo.external_id = patch.external_id
        changed = True
    if patch.shipping_address is not None and patch.shipping_address != lo.shipping_address:
        lo.shipping_address = dict(patch.shipping_address)
        changed = True
    if patch.status is not None and patch.status != current:
        lo.status = patch.status
        changed = True
        if patch.status not in DRAFT_STATUSES and not order.is_validated:
            # A logistic order that leaves the draft statuses places its commercial order.
            order.is_validated = True
            order.validated_at = now
    if changed:
        lo.updated_at = now
        order.updated_at = now
    return changed
