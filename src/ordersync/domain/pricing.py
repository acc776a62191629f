"""Real-time pricing (SPEC §5.1) as the rules and services see it: a request for one batch of
lines, the quotes that come back, and the gateway protocol the adapter implements.

The rules never call the gateway: a service asks it once per request, before planning, and
hands the quotes over as values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class PriceRequestLine:
    line_id: str  # the order line's id; `new:<offer price external id>` for a line to add
    variant_external_id: str
    offer_price_external_id: str
    supplier_external_id: str
    quantity: int
    metadata: Mapping[str, Any] | None = None  # the client's line metadata, never stored


@dataclass(frozen=True)
class PriceRequest:
    order_reference: str
    account_external_id: str
    store_external_id: str
    currency: str
    lines: tuple[PriceRequestLine, ...]
    metadata: Mapping[str, Any] | None = None  # the client's request metadata, never stored


@dataclass(frozen=True)
class LineQuote:
    """The pricing system's answer for one line, already validated by the adapter."""

    line_id: str
    available: bool
    available_quantity: int | None  # None: unlimited
    net_unit_price: Decimal
    gross_unit_price: Decimal
    tax_amount: Decimal  # the tax of ONE unit


class PricingUnavailable(Exception):
    """No usable answer: down, timed out, circuit open, or an answer that failed validation.
    Never a reason to fall back to stored prices."""


class PricingGateway(Protocol):
    def quote(self, request: PriceRequest) -> Mapping[str, LineQuote]:
        """One quote per requested line id (exactly those ids), or PricingUnavailable."""
        ...


class PricingGateways(Protocol):
    """The gateway for a pricing URL (one client and circuit breaker per URL)."""

    def __call__(self, url: str) -> PricingGateway: ...
