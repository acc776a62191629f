"""Catalog value objects the rules read: offers, prices, operations, custom fields.

They are immutable snapshots loaded per request; the rules never write them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple


class Status(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class OperationStatus(StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class OperationType(StrEnum):
    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"


class CustomFieldEntity(StrEnum):
    ORDER = "ORDER"
    ORDER_LINE = "ORDER_LINE"


class CustomFieldType(StrEnum):
    STRING = "STRING"
    NUMBER = "NUMBER"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"
    LIST = "LIST"


class PriceTier(NamedTuple):
    min_quantity: int
    net_unit_price: Decimal
    gross_unit_price: Decimal


class OfferPrice(NamedTuple):
    """An offer price with what eligibility needs of its offer, supplier and variant.

    A named tuple, not a frozen dataclass: as immutable, and built in a fifth of the time
    (a frozen dataclass sets each of its 23 fields through object.__setattr__), which counts
    when a catalog load makes a big order's synchronise read a thousand of them again."""

    id: int
    external_id: str
    offer_id: int
    offer_status: Status
    supplier_id: int
    supplier_external_id: str
    supplier_status: Status
    variant_id: int
    variant_external_id: str
    variant_name: str
    variant_description: str | None
    classification_external_id: str | None
    currency: str
    tax_rate: Decimal
    tiers: tuple[PriceTier, ...]
    min_order_quantity: int | None = None
    max_order_quantity: int | None = None
    quantity_step: int = 1
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    eligible_account_ids: frozenset[int] = frozenset()
    eligible_account_groups: frozenset[str] = frozenset()
    available_quantity: int | None = None  # None: unlimited stock


@dataclass(frozen=True)
class Account:
    id: int
    external_id: str
    name: str
    status: Status
    groups: frozenset[str] = frozenset()
    shipping_addresses: tuple[dict[str, str | None], ...] = ()

    @property
    def default_shipping_address(self) -> dict[str, str | None] | None:
        return dict(self.shipping_addresses[0]) if self.shipping_addresses else None


@dataclass(frozen=True)
class OperationLine:
    variant_id: int
    variant_external_id: str
    min_quantity: int | None
    max_quantity: int | None
    recommended_quantity: int | None


@dataclass(frozen=True)
class Operation:
    id: int
    external_id: str
    status: OperationStatus
    type: OperationType
    start_date: datetime | None
    end_date: datetime | None
    account_ids: frozenset[int] = frozenset()
    lines: tuple[OperationLine, ...] = ()

    def line_for(self, variant_id: int) -> OperationLine | None:
        return next((ln for ln in self.lines if ln.variant_id == variant_id), None)


@dataclass(frozen=True)
class CustomField:
    id: int
    external_id: str
    entity: CustomFieldEntity
    type: CustomFieldType
    required: bool = False
    allowed_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuyerContext:
    """Who is buying, where, and when: what every eligibility rule is evaluated against."""

    account: Account
    store_id: int
    store_view_id: int | None
    now: datetime
    visible_variant_ids: frozenset[int] = field(default_factory=frozenset)
    # RTP: availability and stock come from the pricing system's answer, not the catalog.
    stock_from_pricing: bool = False
