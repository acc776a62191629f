"""Bounding a requested quantity to an offer's min, step, max and stock."""

from __future__ import annotations

from typing import NamedTuple

from ordersync.domain.catalog import OfferPrice, OperationLine
from ordersync.domain.warnings import WarningCode


# Named tuples, not frozen dataclasses, for what the rules make per line: as immutable, and
# built in a third of the time (a frozen dataclass sets each field through
# object.__setattr__; stop 21). Changed with `_replace`.
class QuantityLimits(NamedTuple):
    minimum: int | None = None
    maximum: int | None = None
    step: int = 1
    stock: int | None = None  # None: unlimited

    @classmethod
    def of(
        cls,
        offer_price: OfferPrice,
        operation_line: OperationLine | None = None,
        *,
        local_stock: bool = True,
    ) -> QuantityLimits:
        """The offer price's limits, narrowed by the operation's min/max when one applies;
        without the stored stock when the pricing system answers for availability."""
        minimum = offer_price.min_order_quantity
        maximum = offer_price.max_order_quantity
        if operation_line is not None:
            if operation_line.min_quantity is not None:
                minimum = max(minimum or 0, operation_line.min_quantity)
            if operation_line.max_quantity is not None:
                maximum = (
                    operation_line.max_quantity
                    if maximum is None
                    else min(maximum, operation_line.max_quantity)
                )
        stock = offer_price.available_quantity if local_stock else None
        return cls(minimum, maximum, max(offer_price.quantity_step, 1), stock)


class BoundedQuantity(NamedTuple):
    quantity: int
    adjustments: tuple[tuple[WarningCode, str], ...] = ()

    @property
    def orderable(self) -> bool:
        return self.quantity > 0


def bound_quantity(requested: int, limits: QuantityLimits) -> BoundedQuantity:
    """Raise to the minimum, round up to the step, lower within the maximum, then within
    the stock. A result below the minimum (or 0) is not orderable: quantity 0."""
    adjustments: list[tuple[WarningCode, str]] = []
    step = limits.step
    q = requested
    if limits.minimum is not None and q < limits.minimum:
        q = limits.minimum
        adjustments.append(
            (
                WarningCode.QUANTITY_ADJUSTED_MIN,
                f"Quantity raised from {requested} to the minimum {q}.",
            )
        )
    if q % step:
        rounded = (q // step + 1) * step
        adjustments.append(
            (
                WarningCode.QUANTITY_ADJUSTED_STEP,
                f"Quantity rounded up from {q} to {rounded}, a multiple of {step}.",
            )
        )
        q = rounded
    if limits.maximum is not None and q > limits.maximum:
        lowered = limits.maximum // step * step
        adjustments.append(
            (
                WarningCode.QUANTITY_ADJUSTED_MAX,
                f"Quantity lowered from {q} to {lowered} (maximum {limits.maximum}).",
            )
        )
        q = lowered
    if limits.stock is not None and q > limits.stock:
        lowered = limits.stock // step * step
        adjustments.append(
            (
                WarningCode.QUANTITY_ADJUSTED_STOCK,
                f"Quantity lowered from {q} to {lowered} (stock {limits.stock}).",
            )
        )
        q = lowered
    if q <= 0 or (limits.minimum is not None and q < limits.minimum):
        return BoundedQuantity(0, tuple(adjustments))
    return BoundedQuantity(q, tuple(adjustments))
