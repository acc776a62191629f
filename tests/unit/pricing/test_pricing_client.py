"""The real-time pricing client: what it sends, which answers it accepts, when it tries again,
how long it may take, and its circuit breaker per pricing URL. No network: httpx's
MockTransport answers, except where a real socket is the point."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from ordersync.adapters.circuit_breaker import CircuitBreaker, CircuitOpen
from ordersync.adapters.outside_calls import is_breaker_failure
from ordersync.adapters.pricing import HttpPricingGateway, PricingClients
from ordersync.domain.money import MAX_UNIT_PRICE
from ordersync.domain.pricing import PriceRequest, PriceRequestLine, PricingUnavailable
from ordersync.settings import Settings

Handler = Callable[[httpx.Request], httpx.Response]


class Pricing:
    """A MockTransport that records each request and answers with `handler`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    @property
    def calls(self) -> int:
        return len(self.requests)


def price_request(*line_ids: str, metadata: dict[str, Any] | None = None) -> PriceRequest:
    return PriceRequest(
        order_reference="CO-1",
        account_external_id="ACC-1",
        store_external_id="STORE-1",
        currency="EUR",
        metadata=metadata,
        lines=tuple(
            PriceRequestLine(
                line_id=line_id,
                variant_external_id=f"VAR-{line_id}",
                offer_price_external_id=f"OP-{line_id}",
                supplier_external_id="SUP-1",
                quantity=3,
            )
            for line_id in (line_ids or ("L1", "L2"))
        ),
    )


def answer_line(line_id: str, **overrides: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "lineId": line_id,
        "available": True,
        "availableQuantity": None,
        "netUnitPrice": "10.00",
        "grossUnitPrice": "12.00",
        "taxAmount": "2.00",
    }
    return line | overrides


def answer(*lines: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"lines": list(lines)})


def prices_both(request: httpx.Request) -> httpx.Response:
    return answer(answer_line("L1"), answer_line("L2"))


def gateway(
    pricing: Pricing,
    *,
    timeout_s: float = 1.0,
    breaker: CircuitBreaker | None = None,
    base_url: str = "http://pricing.test/",
) -> HttpPricingGateway:
    return HttpPricingGateway(
        base_url,
        connect_timeout_s=0.2,
        timeout_s=timeout_s,
        breaker=breaker or CircuitBreaker(failures_to_open=5, half_open_after_s=30),
        http=httpx.Client(transport=pricing.transport),
    )


def fail_with(status: int) -> Handler:
    return lambda request: httpx.Response(status, json={"error": "no"})


def unavailable_message(gw: HttpPricingGateway, request: PriceRequest | None = None) -> str:
    with pytest.raises(PricingUnavailable) as caught:
        gw.quote(request or price_request())
    return str(caught.value)


# --- the request and a good answer ---------------------------------------------------------


def test_quote_posts_the_whole_order_once_and_returns_a_quote_per_line() -> None:
    pricing = Pricing(
        lambda request: answer(
            answer_line("L1", netUnitPrice=9.5, grossUnitPrice=11.4, taxAmount="1.9"),
            answer_line("L2", available=False, availableQuantity=0),
        )
    )
    request = price_request("L1", "L2", metadata={"channel": "web", "tags": [1, 2]})

    quotes = gateway(pricing).quote(request)

    assert pricing.calls == 1
    sent = pricing.requests[0]
    assert (sent.method, str(sent.url)) == ("POST", "http://pricing.test/prices")
    assert sent.headers["content-type"] == "application/json"
    assert orjson.loads(sent.content) == {
        "orderReference": "CO-1",
        "accountExternalId": "ACC-1",
        "storeExternalId": "STORE-1",
        "currency": "EUR",
        "metadata": {"channel": "web", "tags": [1, 2]},
        "lines": [
            {
                "lineId": line_id,
                "variantExternalId": f"VAR-{line_id}",
                "offerPriceExternalId": f"OP-{line_id}",
                "supplierExternalId": "SUP-1",
                "quantity": 3,
                "metadata": None,
            }
            for line_id in ("L1", "L2")
        ],
    }
    assert set(quotes) == {"L1", "L2"}
    first = quotes["L1"]
    assert (first.net_unit_price, first.gross_unit_price, first.tax_amount) == (
        Decimal("9.5"),
        Decimal("11.4"),
        Decimal("1.9"),
    )
    assert (first.available, first.available_quantity) == (True, None)
    assert (quotes["L2"].available, quotes["L2"].available_quantity) == (False, 0)


def test_line_metadata_is_forwarded_as_given() -> None:
    pricing = Pricing(prices_both)
    request = price_request("L1", "L2")
    with_metadata = replace(request.lines[0], metadata={"promo": {"code": "X", "n": 1.5}})

    gateway(pricing).quote(replace(request, lines=(with_metadata, request.lines[1])))

    sent = orjson.loads(pricing.requests[0].content)
    assert [line["metadata"] for line in sent["lines"]] == [
        {"promo": {"code": "X", "n": 1.5}},
        None,
    ]


def test_answer_keys_the_client_does_not_know_are_ignored() -> None:
    pricing = Pricing(
        lambda request: httpx.Response(
            200,
            json={"lines": [answer_line("L1", promo="X"), answer_line("L2")], "currency": "EUR"},
        )
    )

    assert set(gateway(pricing).quote(price_request())) == {"L1", "L2"}


# --- invalid answers: refused, not retried, one call ------------------------------------------


def raw(body: bytes) -> Handler:
    return lambda request: httpx.Response(200, content=body)


def lines_json(*lines: dict[str, Any]) -> Handler:
    return lambda request: answer(*lines)


INVALID_ANSWERS: dict[str, Handler] = {
    "a line missing": lines_json(answer_line("L1")),
    "an unknown line id": lines_json(answer_line("L1"), answer_line("L2"), answer_line("L9")),
    "a line twice": lines_json(answer_line("L1"), answer_line("L2"), answer_line("L1")),
    "a negative price": lines_json(answer_line("L1", netUnitPrice="-0.01"), answer_line("L2")),
    "a price over the limit": lines_json(
        answer_line("L1", grossUnitPrice=str(MAX_UNIT_PRICE + 1)), answer_line("L2")
    ),
    "a price that is not a number": lines_json(
        answer_line("L1", taxAmount="ten"), answer_line("L2")
    ),
    "a price as a boolean": lines_json(answer_line("L1", netUnitPrice=True), answer_line("L2")),
    "a price as NaN text": lines_json(answer_line("L1", netUnitPrice="NaN"), answer_line("L2")),
    "a bare NaN": raw(
        b'{"lines":[{"lineId":"L1","available":true,"availableQuantity":null,'
        b'"netUnitPrice":NaN,"grossUnitPrice":"1","taxAmount":"0"}]}'
    ),
    "Infinity": raw(b'{"lines":[{"netUnitPrice":Infinity}]}'),
    "availableQuantity as a float": lines_json(
        answer_line("L1", availableQuantity=2.0), answer_line("L2")
    ),
    "availableQuantity negative": lines_json(
        answer_line("L1", availableQuantity=-1), answer_line("L2")
    ),
    "availableQuantity as a boolean": lines_json(
        answer_line("L1", availableQuantity=True), answer_line("L2")
    ),
    "availableQuantity absent": lines_json(
        {k: v for k, v in answer_line("L1").items() if k != "availableQuantity"},
        answer_line("L2"),
    ),
    "available as text": lines_json(answer_line("L1", available="true"), answer_line("L2")),
    "a line id as a number": lines_json(answer_line("L1", lineId=1), answer_line("L2")),
    "not JSON": raw(b"<html>Service temporarily unavailable</html>"),
    "an empty body": raw(b""),
    "a lone surrogate escape": raw(b'{"lines":[{"lineId":"\\ud800"}]}'),
    "a NUL in a string": raw(b'{"lines":[{"lineId":"L\\u0000"}]}'),
    "no lines key": lines_json(),
    "a list at the top": raw(b"[]"),
}
INVALID_ANSWERS["no lines key"] = raw(b'{"prices":[]}')


@pytest.mark.parametrize("handler", INVALID_ANSWERS.values(), ids=INVALID_ANSWERS.keys())
def test_an_invalid_answer_is_pricing_unavailable_and_not_retried(handler: Handler) -> None:
    pricing = Pricing(handler)

    message = unavailable_message(gateway(pricing))

    assert "invalid answer" in message
    assert pricing.calls == 1


def test_an_invalid_answer_says_which_line_and_field() -> None:
    pricing = Pricing(lines_json(answer_line("L1"), answer_line("L2", taxAmount="-1")))

    assert "lines[1].taxAmount" in unavailable_message(gateway(pricing))


def test_a_missing_line_is_named() -> None:
    pricing = Pricing(lines_json(answer_line("L1")))

    assert "line 'L2' is missing" in unavailable_message(gateway(pricing))


def test_a_negative_zero_price_is_zero() -> None:
    pricing = Pricing(lines_json(answer_line("L1", taxAmount="-0.00"), answer_line("L2")))

    assert str(gateway(pricing).quote(price_request())["L1"].tax_amount) == "0.00"


# --- retries ---------------------------------------------------------------------------------


def failing_then_answering(failures: list[Handler]) -> Handler:
    pending = list(failures)

    def handle(request: httpx.Request) -> httpx.Response:
        return pending.pop(0)(request) if pending else prices_both(request)

    return handle


def raise_(exc: Exception) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc

    return handle


def test_a_503_is_tried_again_and_the_next_answer_is_used() -> None:
    pricing = Pricing(failing_then_answering([fail_with(503), fail_with(503)]))

    quotes = gateway(pricing).quote(price_request())

    assert set(quotes) == {"L1", "L2"}
    assert pricing.calls == 3


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("connect"),
        httpx.RemoteProtocolError("server closed the connection"),
        httpx.ReadError("reset"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_a_connection_failure_is_tried_again(failure: Exception) -> None:
    pricing = Pricing(failing_then_answering([raise_(failure)]))

    assert set(gateway(pricing).quote(price_request())) == {"L1", "L2"}
    assert pricing.calls == 2


def test_gives_up_after_three_attempts_and_says_the_last_status() -> None:
    pricing = Pricing(fail_with(503))

    message = unavailable_message(gateway(pricing))

    assert "HTTP 503" in message
    assert pricing.calls == 3


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_a_refused_request_is_not_tried_again(status: int) -> None:
    pricing = Pricing(fail_with(status))

    assert f"HTTP {status}" in unavailable_message(gateway(pricing))
    assert pricing.calls == 1


@pytest.mark.parametrize("status", [500, 408, 429, 302])
def test_other_failures_are_not_tried_again(status: int) -> None:
    pricing = Pricing(fail_with(status))

    assert f"HTTP {status}" in unavailable_message(gateway(pricing))
    assert pricing.calls == 1


# --- bounded time ----------------------------------------------------------------------------


def slow(delay_s: float, then: Handler) -> Handler:
    """Like a server that takes `delay_s` to answer: the attempt's read timeout (httpx's
    per-request extension) cuts the wait short with a ReadTimeout, as the network would."""

    def handle(request: httpx.Request) -> httpx.Response:
        read_timeout = request.extensions["timeout"]["read"]
        if delay_s > read_timeout:
            time.sleep(read_timeout)
            raise httpx.ReadTimeout("timed out", request=request)
        time.sleep(delay_s)
        return then(request)

    return handle


def test_a_server_slower_than_the_budget_fails_in_about_the_budget() -> None:
    pricing = Pricing(slow(5.0, prices_both))

    started = time.monotonic()
    message = unavailable_message(gateway(pricing, timeout_s=0.3))
    elapsed = time.monotonic() - started

    assert "timeout after 0.3 s" in message
    assert 0.28 <= elapsed < 0.7  # one budget (0.3 s), not one per attempt (0.9 s)
    assert pricing.calls == 1  # the first attempt had the whole budget; none was left


def test_retries_share_one_budget() -> None:
    pricing = Pricing(slow(0.15, fail_with(503)))

    started = time.monotonic()
    unavailable_message(gateway(pricing, timeout_s=0.4))
    elapsed = time.monotonic() - started

    assert elapsed < 0.65  # the budget of 0.4 s, plus slack for a busy machine
    read_timeouts = [r.extensions["timeout"]["read"] for r in pricing.requests]
    assert len(read_timeouts) >= 2
    assert read_timeouts[0] <= 0.4
    assert all(later < earlier for earlier, later in itertools.pairwise(read_timeouts))
    assert all(r.extensions["timeout"]["connect"] <= 0.2 for r in pricing.requests)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        host, port = listener.getsockname()
        yield f"http://{host}:{port}"


def test_a_real_server_that_never_answers_fails_in_about_the_budget(silent_server: str) -> None:
    gw = HttpPricingGateway(
        silent_server,
        connect_timeout_s=0.2,
        timeout_s=0.3,
        breaker=CircuitBreaker(failures_to_open=5, half_open_after_s=30),
    )

    started = time.monotonic()
    message = unavailable_message(gw)
    elapsed = time.monotonic() - started
    gw.close()

    assert "timeout after 0.3 s" in message
    assert 0.28 <= elapsed < 0.75  # the 0.3 s budget, plus slack for a busy machine


def test_a_failure_message_never_shows_the_urls_credentials() -> None:
    with socket.socket() as closed:  # a port nothing listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    gw = HttpPricingGateway(
        f"http://pricer:s3cret-pw@127.0.0.1:{port}/",
        connect_timeout_s=0.2,
        timeout_s=0.5,
        breaker=CircuitBreaker(failures_to_open=5, half_open_after_s=30),
    )

    message = unavailable_message(gw)
    gw.close()

    assert "cannot connect" in message
    assert "s3cret" not in message
    assert "pricer" not in message


# --- the circuit breaker ---------------------------------------------------------------------


def test_the_breaker_opens_after_the_threshold_and_then_fails_without_calling() -> None:
    pricing = Pricing(fail_with(500))
    gw = gateway(pricing, breaker=CircuitBreaker(failures_to_open=3, half_open_after_s=30))

    for _ in range(3):
        assert "HTTP 500" in unavailable_message(gw)
    assert pricing.calls == 3

    started = time.monotonic()
    message = unavailable_message(gw)

    assert "circuit open" in message
    assert pricing.calls == 3
    assert time.monotonic() - started < 0.01


def test_a_call_with_its_retries_counts_as_one_failure() -> None:
    pricing = Pricing(fail_with(503))
    gw = gateway(pricing, breaker=CircuitBreaker(failures_to_open=2, half_open_after_s=30))

    unavailable_message(gw)

    assert pricing.calls == 3
    assert not gw.breaker.is_open


def test_the_breaker_half_opens_after_the_delay_and_closes_on_success() -> None:
    pricing = Pricing(fail_with(500))
    gw = gateway(pricing, breaker=CircuitBreaker(failures_to_open=2, half_open_after_s=0.2))
    for _ in range(2):
        unavailable_message(gw)
    assert "circuit open" in unavailable_message(gw)

    pricing.handler = prices_both
    time.sleep(0.2)

    assert set(gw.quote(price_request())) == {"L1", "L2"}
    assert not gw.breaker.is_open
    gw.quote(price_request())
    assert pricing.calls == 4


def test_a_failed_trial_opens_the_breaker_again() -> None:
    pricing = Pricing(fail_with(500))
    gw = gateway(pricing, breaker=CircuitBreaker(failures_to_open=2, half_open_after_s=0.2))
    for _ in range(2):
        unavailable_message(gw)

    time.sleep(0.2)
    assert "HTTP 500" in unavailable_message(gw)  # the trial
    assert "circuit open" in unavailable_message(gw)
    assert pricing.calls == 3


def test_invalid_answers_count_as_failures_for_the_breaker() -> None:
    pricing = Pricing(raw(b"not json"))
    gw = gateway(pricing, breaker=CircuitBreaker(failures_to_open=2, half_open_after_s=30))

    for _ in range(2):
        unavailable_message(gw)

    assert "circuit open" in unavailable_message(gw)


def test_refused_requests_do_not_open_the_breaker() -> None:
    pricing = Pricing(fail_with(400))
    gw = gateway(pricing, breaker=CircuitBreaker(failures_to_open=2, half_open_after_s=30))

    for _ in range(4):
        assert "HTTP 400" in unavailable_message(gw)

    assert pricing.calls == 4
    assert not gw.breaker.is_open


def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    pricing = Pricing(fail_with(500))
    gw = gateway(pricing, breaker=CircuitBreaker(failures_to_open=2, half_open_after_s=30))

    unavailable_message(gw)
    pricing.handler = prices_both
    gw.quote(price_request())
    pricing.handler = fail_with(500)
    unavailable_message(gw)

    assert not gw.breaker.is_open


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_half_open_lets_one_trial_through_at_a_time() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures_to_open=1, half_open_after_s=10, clock=clock)
    with pytest.raises(RuntimeError), breaker.guard(is_failure=is_breaker_failure):
        raise RuntimeError("down")
    clock.now = 10.0
    trial_started, trial_may_end = threading.Event(), threading.Event()

    def trial() -> None:
        with breaker.guard(is_failure=is_breaker_failure):
            trial_started.set()
            trial_may_end.wait(1)

    thread = threading.Thread(target=trial)
    thread.start()
    trial_started.wait(1)
    with pytest.raises(CircuitOpen, match="trial"), breaker.guard(is_failure=is_breaker_failure):
        pass
    trial_may_end.set()
    thread.join()

    assert not breaker.is_open


# --- one gateway per pricing URL -------------------------------------------------------------


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"pricing_breaker_failures": 2, "pricing_breaker_reset_s": 30.0}
    return Settings(**(values | overrides))


def test_the_registry_keeps_one_gateway_per_url() -> None:
    clients = PricingClients(settings(), transport=Pricing(prices_both).transport)

    first = clients("http://pricing-a.test")

    assert clients("http://pricing-a.test/") is first
    assert clients("http://pricing-b.test") is not first
    clients.close()


def test_another_url_has_its_own_closed_breaker() -> None:
    def down_a_up_b(request: httpx.Request) -> httpx.Response:
        return fail_with(500)(request) if request.url.host == "a.test" else prices_both(request)

    pricing = Pricing(down_a_up_b)
    clients = PricingClients(settings(), transport=pricing.transport)
    for _ in range(2):
        unavailable_message(clients("http://a.test"))
    assert "circuit open" in unavailable_message(clients("http://a.test"))

    assert set(clients("http://b.test").quote(price_request())) == {"L1", "L2"}
    assert [r.url.host for r in pricing.requests] == ["a.test", "a.test", "b.test"]
    clients.close()


def test_the_registry_uses_the_pricing_settings() -> None:
    pricing = Pricing(slow(5.0, prices_both))
    clients = PricingClients(
        settings(pricing_timeout_s=0.2, pricing_connect_timeout_s=0.1),
        transport=pricing.transport,
    )

    assert "timeout after 0.2 s" in unavailable_message(clients("http://a.test"))
    assert pricing.requests[0].extensions["timeout"]["connect"] == pytest.approx(0.1)
    clients.close()


def test_the_registry_is_safe_to_share_between_threads() -> None:
    clients = PricingClients(settings(), transport=Pricing(prices_both).transport)
    seen: list[HttpPricingGateway] = []
    start = threading.Barrier(8)

    def fetch() -> None:
        start.wait()
        seen.append(clients("http://a.test"))

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({id(gw) for gw in seen}) == 1
    clients.close()
