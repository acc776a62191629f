"""The CPQ push (SPEC §3.3, §5.2) as the services see it: what is sent, what comes back, and
the gateway protocol the adapter implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class CpqLine:
    line_id: str  # the order line's id
    variant_external_id: str
    offer_price_external_id: str
    quantity: int
    net_unit_price: Decimal
    gross_unit_price: Decimal
    tax_amount: Decimal  # the line's tax
    total_net: Decimal
    custom_fields: Mapping[str, Any]


@dataclass(frozen=True)
class CpqOrder:
    reference: str
    account_external_id: str
    store_external_id: str
    currency: str
    total_net: Decimal
    total_tax: Decimal
    total_gross: Decimal
    custom_fields: Mapping[str, Any]
    lines: tuple[CpqLine, ...]


@dataclass(frozen=True)
class CpqCharge:
    name: str
    unit_price: Decimal
    amount: Decimal
    price_type: str


@dataclass(frozen=True)
class CpqLineResult:
    line_id: str
    txn_line_number: str
    unit_price: Decimal
    charges: tuple[CpqCharge, ...]
    status: str = "completed"  # the seed's syncInfo.status
    error_message: str | None = None


@dataclass(frozen=True)
class CpqResult:
    transaction_id: str
    lines: Mapping[str, CpqLineResult]  # by line id, exactly the pushed ones


class CpqUnavailable(Exception):
    """Down, timed out, circuit open, or an answer that failed validation."""


class CpqGateway(Protocol):
    def push(
        self, order: CpqOrder, *, transaction_id: str | None, idempotency_key: str
    ) -> CpqResult:
        """Create the transaction (no transaction id yet) or update it; CpqUnavailable on any
        failure. The idempotency key makes a retried create return the same transaction."""
        ...


class CpqGateways(Protocol):
    def __call__(self, url: str) -> CpqGateway: ...
