"""The CPQ client (SPEC §5.2): create (`POST {cpqUrl}/transactions`) or update
(`PUT {cpqUrl}/transactions/{id}`) the order's transaction, with an `Idempotency-Key` on both,
bounded in time, retried within the budget, behind a circuit breaker, and the answer validated
before anything is stored."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import structlog
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    StringConstraints,
)

from ordersync.adapters.circuit_breaker import CircuitBreaker, CircuitOpen
from ordersync.adapters.outside_calls import (
    AnswerAmount,
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
from ordersync.domain.cpq import CpqCharge, CpqLineResult, CpqOrder, CpqResult, CpqUnavailable

# --- retry policy -------------------------------------------------------------------------
# A push is a write, and retrying a write is safe here only because every attempt carries the
# same Idempotency-Key: a create that timed out after CPQ made the transaction answers that
# same transaction when tried again. So: gateway statuses, every failure to get the request or
# the answer across, and timeouts (a connect timeout leaves budget for another attempt).
RETRYABLE_STATUS_CODES = frozenset({502, 503, 504})
RETRYABLE_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.NetworkError,  # ConnectError, ReadError, WriteError, CloseError
    httpx.RemoteProtocolError,
    httpx.TimeoutException,  # ConnectTimeout, ReadTimeout, WriteTimeout, PoolTimeout
)
# Three attempts within the 5 s budget; more would pile writes on a struggling system.
MAX_ATTEMPTS = 3
# Backoff 100 ms, then 200 ms, capped at 500 ms, plus up to 100 ms of jitter: a push is a
# deliberate action, a little slower than a price look-up, still with someone waiting.
RETRY_WAIT_INITIAL_S = 0.1
RETRY_WAIT_MAX_S = 0.5
RETRY_WAIT_JITTER_S = 0.1
# A 1,000-line answer with a few charges per line is well under 1 MB.
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


def _line_number_as_text(value: object) -> object:
    # CPQ systems number lines with integers or with strings; we keep the text.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# Lengths are those of the columns that store them.
TransactionId = Annotated[StrictStr, StringConstraints(max_length=128), AfterValidator(_not_blank)]
LineNumber = Annotated[
    StrictStr,
    BeforeValidator(_line_number_as_text),
    StringConstraints(max_length=64),
    AfterValidator(_not_blank),
]


class _Charge(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: Annotated[StrictStr, StringConstraints(max_length=128)]
    unit_price: AnswerUnitPrice = Field(alias="unitPrice")
    amount: AnswerAmount
    price_type: Annotated[StrictStr, StringConstraints(max_length=64)] = Field(alias="priceType")


class _SyncInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    status: Annotated[StrictStr, StringConstraints(min_length=1, max_length=64)]
    error_message: Annotated[StrictStr, StringConstraints(max_length=2000)] | None = Field(
        None, alias="errorMessage"
    )


# A line without syncInfo was synchronised, as in the seed.
_DEFAULT_LINE_STATUS = "completed"


class _AnswerLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    line_id: StrictStr = Field(alias="lineId")
    txn_line_number: LineNumber = Field(alias="txnLineNumber")
    unit_price: AnswerUnitPrice = Field(alias="unitPrice")
    charges: list[_Charge]
    sync_info: _SyncInfo | None = Field(None, alias="syncInfo")


class _Answer(BaseModel):
    # Unknown keys are ignored so that CPQ may add fields without breaking us.
    model_config = ConfigDict(frozen=True, extra="ignore")

    transaction_id: TransactionId = Field(alias="transactionId")
    lines: list[_AnswerLine]


class HttpCpqGateway:
    """CpqGateway over HTTP for one CPQ URL. `breaker` is this URL's breaker; `http` the
    client to use instead of a new one (the gateway closes it in `close()`)."""

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
        self._connect_timeout_s = connect_timeout_s
        self._timeout_s = timeout_s
        self.breaker = breaker
        self._http = http if http is not None else new_http_client()

    def push(
        self, order: CpqOrder, *, transaction_id: str | None, idempotency_key: str
    ) -> CpqResult:
        """Create the transaction (no id yet) or update it; CpqUnavailable on any failure
        (down, timed out, circuit open, refused, or an invalid answer). Every attempt sends
        the same Idempotency-Key."""
        deadline = time.monotonic() + self._timeout_s
        if transaction_id is None:
            method, url = "POST", f"{self._base_url}/transactions"
        else:
            method, url = "PUT", f"{self._base_url}/transactions/{quote(transaction_id, safe='')}"
        headers = {**_HEADERS, "Idempotency-Key": _header_value(idempotency_key)}
        try:
            with self.breaker.guard(is_failure=is_breaker_failure):
                body = exchange_within(
                    self._http,
                    Exchange(method, url, json_body(_request_body(order)), headers),
                    policy=POLICY,
                    connect_timeout_s=self._connect_timeout_s,
                    timeout_s=self._timeout_s,
                    deadline=deadline,
                )
                return _result(parse_answer(body, _Answer), order)
        except (CircuitOpen, CallFailed, RequestRefused) as exc:
            reason = str(exc)
            log.warning("cpq_unavailable", host=host_of(self._base_url), reason=reason)
            raise CpqUnavailable(f"CPQ unavailable: {reason}.") from None

    def close(self) -> None:
        self._http.close()


_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


_PRINTABLE_ASCII = "".join(chr(code) for code in range(0x20, 0x7F))


def _header_value(key: str) -> str:
    # A header value is printable ASCII; a key with any other character is percent-encoded,
    # the same way on every attempt and every push, so it stays one key.
    if key.isascii() and key.isprintable():
        return key
    return quote(key, safe=_PRINTABLE_ASCII.replace("%", ""))


def _money(amount: Decimal) -> str:
    return format(amount, "f")  # never exponent notation: 1E+2 is "100"


def _request_body(order: CpqOrder) -> dict[str, Any]:
    return {
        "reference": order.reference,
        "accountExternalId": order.account_external_id,
        "storeExternalId": order.store_external_id,
        "currency": order.currency,
        "totalNet": _money(order.total_net),
        "totalTax": _money(order.total_tax),
        "totalGross": _money(order.total_gross),
        "customFields": dict(order.custom_fields),
        "lines": [
            {
                "lineId": line.line_id,
                "variantExternalId": line.variant_external_id,
                "offerPriceExternalId": line.offer_price_external_id,
                "quantity": line.quantity,
                "netUnitPrice": _money(line.net_unit_price),
                "grossUnitPrice": _money(line.gross_unit_price),
                "taxAmount": _money(line.tax_amount),
                "totalNet": _money(line.total_net),
                "customFields": dict(line.custom_fields),
            }
            for line in order.lines
        ],
    }


def _result(answer: _Answer, order: CpqOrder) -> CpqResult:
    """Every pushed line exactly once, nothing else; CallFailed otherwise."""
    pushed = {line.line_id for line in order.lines}
    lines: dict[str, CpqLineResult] = {}
    for line in answer.lines:
        if line.line_id not in pushed:
            raise CallFailed(f"invalid answer: line {short_id(line.line_id)} was not pushed")
        if line.line_id in lines:
            raise CallFailed(f"invalid answer: line {short_id(line.line_id)} comes twice")
        sync = line.sync_info
        lines[line.line_id] = CpqLineResult(
            line_id=line.line_id,
            txn_line_number=line.txn_line_number,
            unit_price=line.unit_price,
            charges=tuple(
                CpqCharge(
                    name=charge.name,
                    unit_price=charge.unit_price,
                    amount=charge.amount,
                    price_type=charge.price_type,
                )
                for charge in line.charges
            ),
            status=_DEFAULT_LINE_STATUS if sync is None else sync.status,
            error_message=None if sync is None else sync.error_message,
        )
    missing = [line.line_id for line in order.lines if line.line_id not in lines]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise CallFailed(f"invalid answer: line {short_id(missing[0])}{more} is missing")
    return CpqResult(transaction_id=answer.transaction_id, lines=lines)
