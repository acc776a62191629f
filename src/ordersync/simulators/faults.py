"""The call pipeline both simulators share: statistics, run-time faults, the error body.

Every call of a business endpoint goes through `answer_call`: it is counted as it arrives,
then answered with the faults switched on at that moment. The control endpoints
(`/_control`, `/_stats`) stand apart from it and never fail because of a fault.

Order of a call: count it; a failing status answers without doing the work (the system
refused); otherwise do the work, then wait (latency, hang), then shape the answer
(malformed, missing line, unknown line, negative price). Doing the work before waiting is
what a slow real system does: a create whose answer came too late for the client has still
happened, which is why CPQ clients send an idempotency key.

`latencyMs` is the system's response time: the call is answered that long after it arrived,
the simulator's own work included (as soon as the work is done, if it took longer). A
simulator "answering in 20 ms" answers in 20 ms, not in 20 ms plus the time it took to read
the catalog and price 200 lines.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

DEFAULT_FAILURE_STATUS = 503  # what `failEvery` fails with when no `status` is set
HANG_S = 60.0  # far beyond any sane client timeout
HANG_POLL_S = 0.05  # how soon switching `hang` off releases the calls it holds
MALFORMED_BODY = b'{"lines": [{"lineId": '  # cut short: starts like the answer, is not JSON
NEGATIVE_PRICE = "-1.00"
UNKNOWN_LINE_ID = "unknown-line"
IDEMPOTENCY_KEY = "Idempotency-Key"


class WireModel(BaseModel):
    """A camelCase JSON body; Python code uses the snake_case names."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class FaultSettings(WireModel):
    """What the business endpoints do wrong, switched at run time by `POST /_control`."""

    model_config = ConfigDict(extra="forbid")  # a misspelt fault is refused, not ignored

    latency_ms: int = Field(0, ge=0, le=600_000)
    status: int | None = Field(None, ge=400, le=599)
    fail_every: int | None = Field(None, ge=1)
    malformed: bool = False
    missing_line: bool = False
    unknown_line: bool = False
    negative_price: bool = False
    hang: bool = False

    def failure_status(self, call_number: int) -> int | None:
        """The status call `call_number` (1, 2, … since the faults were last set) fails with:
        every call with `status` alone, only every n-th with `failEvery` n."""
        if self.fail_every is not None:
            if call_number % self.fail_every:
                return None
            return self.status or DEFAULT_FAILURE_STATUS
        return self.status


class PricingFaultSettings(FaultSettings):
    """The pricing simulator's faults, and its discount per account group (percent)."""

    discounts: dict[str, Annotated[Decimal, Field(ge=0, le=100)]] = Field(
        default_factory=lambda: {"GOLD": Decimal(5)}
    )


F = TypeVar("F", bound=FaultSettings)


@dataclass(frozen=True)
class Call(Generic[F]):
    """One business call as it arrived, and the faults in force at that moment."""

    number: int  # since the faults were last set: what `failEvery` counts
    faults: F
    body: bytes


class SimulatorState(Generic[F]):
    """Faults and statistics of one simulator. Calls arrive on the event loop and the
    control endpoints may be driven from other threads (tests), so every read and write
    holds the lock; nothing awaits while holding it."""

    def __init__(self, defaults: F, routes: Sequence[str]) -> None:
        self._lock = threading.Lock()
        self._defaults = defaults
        self._faults = defaults
        self._routes = tuple(routes)
        self._since_set = 0
        self._calls: dict[str, int] = dict.fromkeys(self._routes, 0)
        self._last_request: dict[str, Any] | None = None

    @property
    def faults(self) -> F:
        with self._lock:
            return self._faults

    def set_faults(self, given: F) -> F:
        """Merge the fields `given` names into the current faults; `failEvery` counts anew."""
        with self._lock:
            update = {name: getattr(given, name) for name in given.model_fields_set}
            self._faults = self._faults.model_copy(update=update)
            self._since_set = 0
            return self._faults

    def reset_faults(self) -> F:
        with self._lock:
            self._faults = self._defaults
            self._since_set = 0
            return self._faults

    def receive(self, route: str, request: Request, body: bytes) -> Call[F]:
        """Count a call of `route` and keep it as the last request."""
        key = request.headers.get(IDEMPOTENCY_KEY)
        last_request = {
            "route": route,
            "path": request.url.path,
            "body": _as_received(body),
            "headers": {} if key is None else {IDEMPOTENCY_KEY: key},
        }
        with self._lock:
            self._since_set += 1
            self._calls[route] = self._calls.get(route, 0) + 1
            self._last_request = last_request
            return Call(self._since_set, self._faults, body)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": sum(self._calls.values()),
                "byPath": dict(self._calls),
                "lastRequest": copy.deepcopy(self._last_request),
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._calls = dict.fromkeys(self._routes, 0)
            self._last_request = None


def _as_received(body: bytes) -> Any:
    """The body as JSON, or as text when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", errors="replace")


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"status": status, "code": code, "message": message, **extra}, status)


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], body: bytes) -> M | JSONResponse:
    """The body as `model`, or the 422 that says why not."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(part) for part in err["loc"]), "message": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        return error_response(
            422, "INVALID_REQUEST", "The request body is invalid.", errors=errors
        )


@dataclass(frozen=True)
class LineFaults:
    """How the line faults apply to one simulator's answer: which field of the first line
    `negativePrice` spoils, and the line `unknownLine` adds."""

    price_field: str
    unknown_line: dict[str, Any]


async def answer_call(
    state: SimulatorState[F],
    route: str,
    request: Request,
    handle: Callable[[Call[F]], Awaitable[dict[str, Any] | Response]],
    line_faults: LineFaults,
) -> Response:
    """Count the call, then answer it through `handle` with the faults in force on arrival.
    `handle` returns the answer's JSON (shaped here by the line faults) or a finished
    response (an error of the business itself, such as a 404)."""
    arrived = time.monotonic()
    call = state.receive(route, request, await request.body())
    failure = call.faults.failure_status(call.number)
    if failure is not None:
        await _wait(state, call.faults, arrived)
        return error_response(failure, "SIMULATED_FAULT", f"Simulated failure ({failure}).")
    answer = await handle(call)
    await _wait(state, call.faults, arrived)
    if isinstance(answer, Response):
        return answer
    if call.faults.malformed:
        return Response(MALFORMED_BODY, 200, media_type="application/json")
    return JSONResponse(_spoil_lines(answer, call.faults, line_faults))


async def _wait(state: SimulatorState[Any], faults: FaultSettings, arrived: float) -> None:
    if faults.hang:
        # Hold the call until the deadline, or until `hang` is switched off, so a test can
        # release what it left hanging instead of waiting a minute.
        deadline = time.monotonic() + HANG_S
        while state.faults.hang and time.monotonic() < deadline:
            await asyncio.sleep(HANG_POLL_S)
    if faults.latency_ms:
        remaining = arrived + faults.latency_ms / 1000 - time.monotonic()
        if remaining > 0:
            await asyncio.sleep(remaining)


def _spoil_lines(
    answer: dict[str, Any], faults: FaultSettings, line_faults: LineFaults
) -> dict[str, Any]:
    lines = [dict(line) for line in answer["lines"]]
    if faults.negative_price and lines:
        lines[0][line_faults.price_field] = NEGATIVE_PRICE
    if faults.missing_line and lines:
        lines.pop()
    if faults.unknown_line:
        lines.append({**line_faults.unknown_line, "lineId": UNKNOWN_LINE_ID})
    return {**answer, "lines": lines}


def control_router(state: SimulatorState[F], settings_model: type[F]) -> APIRouter:
    """`/_control` (faults: GET shows, POST merges any subset, DELETE resets) and `/_stats`
    (GET counts, DELETE resets), never affected by a fault."""
    router = APIRouter(tags=["control"])

    def shown(faults: FaultSettings) -> dict[str, Any]:
        return faults.model_dump(mode="json", by_alias=True)

    @router.get("/_control")
    async def show_faults() -> dict[str, Any]:
        return shown(state.faults)

    @router.post("/_control")
    async def set_faults(request: Request) -> Response:
        given = validated(settings_model, await request.body() or b"{}")
        if isinstance(given, Response):
            return given
        return JSONResponse(shown(state.set_faults(given)))

    @router.delete("/_control")
    async def reset_faults() -> dict[str, Any]:
        return shown(state.reset_faults())

    @router.get("/_stats")
    async def show_stats() -> dict[str, Any]:
        return state.stats()

    @router.delete("/_stats")
    async def reset_stats() -> dict[str, Any]:
        state.reset_stats()
        return state.stats()

    return router
