"""What the pricing and CPQ clients share: one HTTP exchange bounded by a deadline, retried
(stamina) while the deadline allows and only on what the client's policy calls transient,
the answer read up to a size cap, decoded as strict JSON and validated; and one gateway per
outside URL.

Failures come in two kinds. `CallFailed`: the system did not give a usable answer (down,
timing out, a 5xx, nonsense); the breaker counts it and, when `retryable`, another attempt
may help. `RequestRefused`: the system answered and refused our request (a 4xx other than
408/429); it is up, so the breaker does not count it, and the same request would be refused
again, so it is never retried. Each client turns both into its own "unavailable" error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx
import orjson
import stamina
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, ValidationError

from ordersync.domain.money import MAX_AMOUNT, MAX_UNIT_PRICE
from ordersync.domain.text import InvalidJson, InvalidText, parse_json

# Never start an attempt with less budget than this: it could only time out, and a timeout
# tells less than the failure that came before it.
MIN_ATTEMPT_S = 0.01

# 4xx statuses that say "not now" rather than "not this request": they count as failures for
# the breaker, like a 5xx. They are not retried either: within a budget of seconds there is no
# point honouring a Retry-After.
NOT_NOW_STATUS_CODES = frozenset({408, 429})

# Pool of connections per outside URL, shared by every thread of the process. Keep-alive saves
# a TCP (and TLS) handshake per call, which matters with a budget of a few hundred ms.
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5)

_REASON_MAX_CHARS = 200


class CallFailed(Exception):
    """No usable answer: counted by the breaker; tried again only when `retryable`."""

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.retryable = retryable


class RequestRefused(Exception):
    """The system answered with a refusal of this request: not retried, not a breaker
    failure (the system is up)."""


def is_breaker_failure(exc: BaseException) -> bool:
    """Anything but a refusal counts against the system, our own surprises included: the
    breaker errs on the side of leaving a misbehaving system alone."""
    return not isinstance(exc, RequestRefused)


@dataclass(frozen=True)
class CallPolicy:
    """A client's retry policy; each client declares its values as named module constants."""

    retryable_status_codes: frozenset[int]
    retryable_errors: tuple[type[httpx.TransportError], ...]
    max_attempts: int
    wait_initial_s: float
    wait_max_s: float
    wait_jitter_s: float
    max_answer_bytes: int


@dataclass(frozen=True)
class Exchange:
    """One request to send, as many times as the policy allows."""

    method: str
    url: str
    body: bytes
    headers: Mapping[str, str]


def new_http_client(*, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """The client of one outside URL. Timeouts are set per attempt from the deadline;
    redirects are not followed (a moved pricing system is a configuration error, and a POST
    must not silently become a GET); proxy variables of the environment are ignored, so the
    configured URL is where calls go."""
    return httpx.Client(
        transport=transport, limits=POOL_LIMITS, follow_redirects=False, trust_env=False
    )


def json_body(value: Any) -> bytes:
    """Request JSON; Decimals should already be strings, any left over are written exactly."""
    return orjson.dumps(value, default=_exact_decimal)


def _exact_decimal(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def exchange_within(
    http: httpx.Client,
    exchange: Exchange,
    *,
    policy: CallPolicy,
    connect_timeout_s: float,
    timeout_s: float,
    deadline: float,
) -> bytes:
    """The body of a 2xx answer, the whole call - every attempt and every wait between them -
    ending by `deadline` (a `time.monotonic()` instant). CallFailed or RequestRefused."""

    def worth_another_attempt(exc: Exception) -> bool:
        # The wait before the next attempt is at most wait_max_s: retry only when that wait
        # still leaves an attempt room to run.
        left = deadline - time.monotonic()
        return (
            isinstance(exc, CallFailed)
            and exc.retryable
            and left >= policy.wait_max_s + MIN_ATTEMPT_S
        )

    for attempt in stamina.retry_context(
        on=worth_another_attempt,
        attempts=policy.max_attempts,
        timeout=timeout_s,
        wait_initial=policy.wait_initial_s,
        wait_max=policy.wait_max_s,
        wait_jitter=policy.wait_jitter_s,
    ):
        with attempt:
            return _attempt(
                http,
                exchange,
                policy=policy,
                connect_timeout_s=connect_timeout_s,
                timeout_s=timeout_s,
                deadline=deadline,
            )
    raise AssertionError("stamina neither returned nor raised")  # pragma: no cover


def _attempt(
    http: httpx.Client,
    exchange: Exchange,
    *,
    policy: CallPolicy,
    connect_timeout_s: float,
    timeout_s: float,
    deadline: float,
) -> bytes:
    left = deadline - time.monotonic()
    if left < MIN_ATTEMPT_S:
        raise CallFailed(f"timeout after {timeout_s:g} s")
    # httpx bounds each phase (connect, each socket read or write, waiting for a pooled
    # connection), not the whole exchange: each gets the remaining budget, and the deadline
    # is checked again between chunks of the body. Known limit: a peer that trickles its
    # status line and headers a few bytes at a time, each read within the timeout, can hold
    # an attempt past the deadline (bounding that would need a watchdog thread per call).
    timeout = httpx.Timeout(left, connect=min(connect_timeout_s, left))
    try:
        with http.stream(
            exchange.method,
            exchange.url,
            content=exchange.body,
            headers=exchange.headers,
            timeout=timeout,
        ) as response:
            _check_status(response.status_code, policy)
            return _read_capped(response, policy.max_answer_bytes, deadline, timeout_s)
    except httpx.TimeoutException as exc:
        retryable = isinstance(exc, policy.retryable_errors)
        reason = (
            f"cannot connect within {timeout.connect:g} s"
            if isinstance(exc, httpx.ConnectTimeout)
            else f"timeout after {timeout_s:g} s"
        )
        raise CallFailed(reason, retryable=retryable) from None
    except httpx.TransportError as exc:
        retryable = isinstance(exc, policy.retryable_errors)
        raise CallFailed(_transport_reason(exc, exchange.url), retryable=retryable) from None
    except httpx.DecodingError:
        raise CallFailed("invalid answer: the body cannot be decoded") from None


def _check_status(status: int, policy: CallPolicy) -> None:
    if 200 <= status < 300:
        return
    if status in policy.retryable_status_codes:
        raise CallFailed(f"HTTP {status}", retryable=True)
    if 400 <= status < 500 and status not in NOT_NOW_STATUS_CODES:
        raise RequestRefused(f"request refused with HTTP {status}")
    raise CallFailed(f"HTTP {status}")


def _read_capped(
    response: httpx.Response, max_bytes: int, deadline: float, timeout_s: float
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise CallFailed(f"invalid answer: larger than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise CallFailed(f"timeout after {timeout_s:g} s")
        chunks.append(chunk)
    return b"".join(chunks)


def _transport_reason(exc: httpx.TransportError, url: str) -> str:
    """What went wrong on the wire, in words that carry no part of the URL's credentials."""
    kind = {
        httpx.ConnectError: "cannot connect",
        httpx.ReadError: "connection lost while reading the answer",
        httpx.WriteError: "connection lost while sending the request",
        httpx.RemoteProtocolError: "connection closed or broken by the other side",
    }.get(type(exc), "transport error")
    detail = _without_credentials(str(exc), url)
    return f"{kind} ({detail})" if detail else kind


def _without_credentials(text: str, url: str) -> str:
    # httpx moves a URL's user and password into the Authorization header before connecting,
    # so wire errors should not carry them; if one ever does, the detail is dropped whole.
    parts = urlsplit(url)
    if any(secret and secret in text for secret in (parts.username, parts.password)):
        return ""
    return text[:_REASON_MAX_CHARS]


def _number_as_text(value: object) -> object:
    # A JSON number 1.2 becomes Decimal("1.2") through str(), not the float's binary expansion;
    # a boolean is not an amount.
    if isinstance(value, bool):
        raise ValueError("expected a decimal string or number, not a boolean")
    if isinstance(value, int | float):
        return str(value)
    return value


def _unsigned_zero(value: Decimal) -> Decimal:
    return value.copy_abs() if value.is_zero() else value  # "-0" would print as -0.00


# Prices and amounts in answers: a decimal string or a JSON number, finite, >= 0, and within
# what the NUMERIC(18,4) columns hold.
AnswerUnitPrice = Annotated[
    Decimal,
    BeforeValidator(_number_as_text),
    Field(ge=0, le=MAX_UNIT_PRICE, allow_inf_nan=False),
    AfterValidator(_unsigned_zero),
]
AnswerAmount = Annotated[
    Decimal,
    BeforeValidator(_number_as_text),
    Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False),
    AfterValidator(_unsigned_zero),
]

M = TypeVar("M", bound=BaseModel)


def parse_answer(body: bytes, model: type[M]) -> M:
    """The answer as `model`, or CallFailed("invalid answer: …"): strict JSON first (no NaN,
    no Infinity, no lone surrogate, no NUL), then the model's rules."""
    try:
        value = parse_json(body)
    except InvalidText as exc:
        raise CallFailed(f"invalid answer: {exc.problem.where} {exc.problem.problem}") from None
    except InvalidJson:
        raise CallFailed("invalid answer: not JSON") from None
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise CallFailed(f"invalid answer: {first_error(exc)}") from None


def first_error(exc: ValidationError) -> str:
    """`lines[2].netUnitPrice: Input should be ...` - where and why, never the value."""
    error = exc.errors(include_url=False, include_input=False)[0]
    where = ""
    for part in error["loc"]:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    message = error["msg"].split(" or instance of ")[0]  # pydantic's words for a non-object
    return f"{where or 'answer'}: {message}"[:_REASON_MAX_CHARS]


def short_id(value: str) -> str:
    """An id from an answer, quoted and cut, for a message."""
    return repr(value if len(value) <= 64 else value[:61] + "...")


def host_of(url: str) -> str:
    """The host and port of a URL, for logs: never its credentials."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def url_key(base_url: str) -> str:
    """The one spelling of a base URL: with or without a trailing slash is the same system."""
    return base_url.rstrip("/")


class Closeable(Protocol):
    def close(self) -> None: ...


G = TypeVar("G", bound=Closeable)


class GatewaysByUrl(Generic[G]):
    """One gateway per outside URL, made on first use and kept: its connection pool and its
    breaker live as long as the process. A bundle that points at another URL gets a new
    gateway, and so a closed breaker. Thread-safe."""

    def __init__(self, make: Callable[[str], G]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._gateways: dict[str, G] = {}

    def get(self, url: str) -> G:
        key = url_key(url)
        gateway = self._gateways.get(key)
        if gateway is not None:
            return gateway
        with self._lock:
            gateway = self._gateways.get(key)
            if gateway is None:
                gateway = self._gateways[key] = self._make(key)
            return gateway

    def close(self) -> None:
        with self._lock:
            gateways, self._gateways = list(self._gateways.values()), {}
        for gateway in gateways:
            gateway.close()
