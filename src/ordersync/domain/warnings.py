"""Warnings returned by update-lines and synchronise."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class WarningCode(StrEnum):
    PRICE_CHANGED = "PRICE_CHANGED"
    QUANTITY_ADJUSTED_MIN = "QUANTITY_ADJUSTED_MIN"
    QUANTITY_ADJUSTED_MAX = "QUANTITY_ADJUSTED_MAX"
    QUANTITY_ADJUSTED_STEP = "QUANTITY_ADJUSTED_STEP"
    QUANTITY_ADJUSTED_STOCK = "QUANTITY_ADJUSTED_STOCK"
    LINE_NOT_ELIGIBLE = "LINE_NOT_ELIGIBLE"
    OFFER_NOT_FOUND = "OFFER_NOT_FOUND"
    SUPPLIER_INACTIVE = "SUPPLIER_INACTIVE"
    VARIANT_NOT_VISIBLE = "VARIANT_NOT_VISIBLE"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    PRICING_UNAVAILABLE = "PRICING_UNAVAILABLE"
    OPERATION_NOT_AVAILABLE = "OPERATION_NOT_AVAILABLE"
    CUSTOM_FIELD_INVALID = "CUSTOM_FIELD_INVALID"
    LINE_NOT_ON_ORDER = "LINE_NOT_ON_ORDER"


class OrderWarning(NamedTuple):
    """`id` is the line's offer price external id (the variant's for an unmatched VARIANT line).
    A named tuple: a repriced synchronise makes one per line (rules.quantities says why)."""

    id: str
    code: WarningCode
    detail: str
    blocked: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "code": self.code.value,
            "detail": self.detail,
            "blocked": self.blocked,
        }
