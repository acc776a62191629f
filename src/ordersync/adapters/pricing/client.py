"""The real-time pricing client (SPEC §5.1): one `POST {pricingUrl}/prices` per request for
every line in play, bounded in time, retried only where safe, behind a circuit breaker, and
its answer validated before any rule sees it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Annotated, Any

import httpx
import structlog
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from ordersync.adapters.circuit_breaker import CircuitBreaker, CircuitOpen
from ordersync.adapters.outside_calls import (
    AnswerUnitPrice,
    CallFailed,
    CallPolicy,
    Exchange,
    RequestRefused,
    exchange_within,
    host_of,
    is_breaker_failure,
    json_body,
    new_http_client,
    parse_answer,
    short_id,
    url_key,
)
from ordersync.domain.pricing import LineQuote, PriceRequest, PricingUnavailable

# --- retry policy -------------------------------------------------------------------------
# Statuses that mean "a gateway or the service itself is briefly unavailable"; another attempt
# may well be answered. A 500 is a failure of this request's handling and is not retried.
RETRYABLE_STATUS_CODES = frozenset({502, 503, 504})
# Pricing is a read with no effect on the other side, so any failure to get the answer across
# may be retried: no connection, a connection dropped or reset (a pooled keep-alive connection
# the server just closed is the usual case), a timeout. A read timeout spends the attempt's
# budget, which is all that is left, so in practice only a connect timeout leaves room for
# another attempt.
RETRYABLE_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.NetworkError,  # ConnectError, ReadError, WriteError, CloseError
    httpx.RemoteProtocolError,
    httpx.TimeoutException,  # ConnectTimeout, ReadTimeout, WriteTimeout, PoolTimeout
)
# Three attempts at most: the default budget of 2 s holds three quick tries, and more would
# only add load to a system that is struggling.
MAX_ATTEMPTS = 3
# Exponential backoff between attempts: 50 ms, then 100 ms, capped at 200 ms, plus up to
# 50 ms of jitter so that callers failing together do not retry together. Small, because a
# shopper is waiting.
RETRY_WAIT_INITIAL_S = 0.05
RETRY_WAIT_MAX_S = 0.2
RETRY_WAIT_JITTER_S = 0.05
# An answer for a 1,000-line order is ~200 KB; anything near this is not a pricing answer.
MAX_ANSWER_BYTES = 8 * 1024 * 1024

log = structlog.get_logger(__name__)

POLICY = CallPolicy(
    retryable_status_codes=RETRYABLE_STATUS_CODES,
    retryable_errors=RETRYABLE_ERRORS,
    max_attempts=MAX_ATTEMPTS,
    wait_initial_s=RETRY_WAIT_INITIAL_S,
    wait_max_s=RETRY_WAIT_MAX_S,
    wait_jitter_s=RETRY_WAIT_JITTER_S,
    max_answer_bytes=MAX_ANSWER_BYTES,
)


class _AnswerLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    line_id: StrictStr = Field(alias="lineId")
    available: StrictBool
    available_quantity: Annotated[StrictInt, Field(ge=0)] | None = Field(alias="availableQuantity")
    net_unit_price: AnswerUnitPrice = Field(alias="netUnitPrice")
    gross_unit_price: AnswerUnitPrice = Field(alias="grossUnitPrice")
    tax_amount: AnswerUnitPrice = Field(alias="taxAmount")


class _Answer(BaseModel):
    # Unknown keys are ignored so that a pricing system may add fields without breaking us.
    model_config = ConfigDict(frozen=True, extra="ignore")

    lines: list[_AnswerLine]


class HttpPricingGateway:
    """PricingGateway over HTTP for one pricing URL. `breaker` is this URL's breaker; `http`
    the client to use instead of a new one (the gateway closes it in `close()`)."""

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout_s: float,
        timeout_s: float,
        breaker: CircuitBreaker,
        http: httpx.Client | None = None,
    ) -> None:
        self._base_url = url_key(base_url)
        self._url = f"{self._base_url}/prices"
        self._connect_timeout_s = connect_timeout_s
        self._timeout_s = timeout_s
        self.breaker = breaker
        self._http = http if http is not None else new_http_client()

    def quote(self, request: PriceRequest) -> Mapping[str, LineQuote]:
        """One quote per requested line id, or PricingUnavailable (down, timed out, circuit
        open, refused, or an invalid answer)."""
        deadline = time.monotonic() + self._timeout_s
        try:
            with self.breaker.guard(is_failure=is_breaker_failure):
                body = exchange_within(
                    self._http,
                    Exchange("POST", self._url, json_body(_request_body(request)), _HEADERS),
                    policy=POLICY,
                    connect_timeout_s=self._connect_timeout_s,
                    timeout_s=self._timeout_s,
                    deadline=deadline,
                )
                return _quotes(parse_answer(body, _Answer), request)
        except (CircuitOpen, CallFailed, RequestRefused) as exc:
            reason = str(exc)
            log.warning("pricing_unavailable", host=host_of(self._base_url), reason=reason)
            raise PricingUnavailable(f"Pricing system unavailable: {reason}.") from None

    def close(self) -> None:
        self._http.close()


_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def _request_body(request: PriceRequest) -> dict[str, Any]:
    return {
        "orderReference": request.order_reference,
        "accountExternalId": request.account_external_id,
        "storeExternalId": request.store_external_id,
        "currency": request.currency,
        "metadata": _plain(request.metadata),
        "lines": [
            {
                "lineId": line.line_id,
                "variantExternalId": line.variant_external_id,
                "offerPriceExternalId": line.offer_price_external_id,
                "supplierExternalId": line.supplier_external_id,
                "quantity": line.quantity,
                "metadata": _plain(line.metadata),
            }
            for line in request.lines
        ],
    }


def _plain(metadata: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # Forwarded as the client sent it (parsed JSON), never stored; None stays null.
    return None if metadata is None else dict(metadata)


def _quotes(answer: _Answer, request: PriceRequest) -> dict[str, LineQuote]:
    """Every requested line exactly once, nothing else; CallFailed otherwise."""
    asked = {line.line_id for line in request.lines}
    quotes: dict[str, LineQuote] = {}
    for line in answer.lines:
        if line.line_id not in asked:
            raise CallFailed(f"invalid answer: line {short_id(line.line_id)} was not asked for")
        if line.line_id in quotes:
            raise CallFailed(f"invalid answer: line {short_id(line.line_id)} is priced twice")
        quotes[line.line_id] = LineQuote(
            line_id=line.line_id,
            available=line.available,
            available_quantity=line.available_quantity,
            net_unit_price=line.net_unit_price,
            gross_unit_price=line.gross_unit_price,
            tax_amount=line.tax_amount,
        )
    missing = [line.line_id for line in request.lines if line.line_id not in quotes]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise CallFailed(f"invalid answer: line {short_id(missing[0])}{more} is missing")
    return quotes
