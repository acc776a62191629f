"""The CPQ client: create and update requests with their idempotency key, which answers it
accepts, when it tries again, how long it may take, and its breaker per CPQ URL. No network:
httpx's MockTransport answers."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from ordersync.adapters.circuit_breaker import CircuitBreaker
from ordersync.adapters.cpq import CpqClients, HttpCpqGateway
from ordersync.domain.cpq import CpqLine, CpqOrder, CpqResult, CpqUnavailable
from ordersync.domain.money import MAX_AMOUNT
from ordersync.settings import Settings

Handler = Callable[[httpx.Request], httpx.Response]
KEY = "CO-1:v3"


class Cpq:
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


def cpq_line(line_id: str) -> CpqLine:
    return CpqLine(
        line_id=line_id,
        variant_external_id=f"VAR-{line_id}",
        offer_price_external_id=f"OP-{line_id}",
        quantity=2,
        net_unit_price=Decimal("10.50"),
        gross_unit_price=Decimal("12.60"),
        tax_amount=Decimal("4.20"),
        total_net=Decimal("21.00"),
        custom_fields={"CF-NOTE": "fragile"},
    )


def cpq_order(*line_ids: str) -> CpqOrder:
    return CpqOrder(
        reference="CO-1",
        account_external_id="ACC-1",
        store_external_id="STORE-1",
        currency="EUR",
        total_net=Decimal("42.00"),
        total_tax=Decimal("8.40"),
        total_gross=Decimal("5.04E+1"),
        custom_fields={"CF-PO": "PO-7"},
        lines=tuple(cpq_line(line_id) for line_id in (line_ids or ("L1", "L2"))),
    )


def answer_line(line_id: str, number: Any, **overrides: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "lineId": line_id,
        "txnLineNumber": number,
        "unitPrice": "10.50",
        "charges": [
            {"name": "Handling", "unitPrice": "1.00", "amount": "2.00", "priceType": "ONE_TIME"}
        ],
    }
    return line | overrides


def answer(*lines: dict[str, Any], transaction_id: Any = "TXN-1") -> Handler:
    body = {"transactionId": transaction_id, "lines": list(lines)}
    return lambda request: httpx.Response(200, json=body)


both_lines = answer(answer_line("L1", 1), answer_line("L2", 2))


def gateway(
    cpq: Cpq, *, timeout_s: float = 1.0, breaker: CircuitBreaker | None = None
) -> HttpCpqGateway:
    return HttpCpqGateway(
        "http://cpq.test/api/",
        connect_timeout_s=0.2,
        timeout_s=timeout_s,
        breaker=breaker or CircuitBreaker(failures_to_open=5, half_open_after_s=30),
        http=httpx.Client(transport=cpq.transport),
    )


def push(gw: HttpCpqGateway, transaction_id: str | None = None) -> CpqResult:
    return gw.push(cpq_order(), transaction_id=transaction_id, idempotency_key=KEY)


def unavailable_message(gw: HttpCpqGateway, transaction_id: str | None = None) -> str:
    with pytest.raises(CpqUnavailable) as caught:
        push(gw, transaction_id)
    return str(caught.value)


def fail_with(status: int) -> Handler:
    return lambda request: httpx.Response(status, json={"error": "no"})


# --- create and update -----------------------------------------------------------------------


def test_a_first_push_creates_the_transaction_with_the_idempotency_key() -> None:
    cpq = Cpq(
        answer(
            answer_line("L1", 1, syncInfo={"status": "error", "errorMessage": "price check"}),
            answer_line("L2", 2, txnLineNumber="0002"),
        )
    )

    result = push(gateway(cpq))

    sent = cpq.requests[0]
    assert (sent.method, str(sent.url)) == ("POST", "http://cpq.test/api/transactions")
    assert sent.headers["idempotency-key"] == KEY
    body = orjson.loads(sent.content)
    assert {k: v for k, v in body.items() if k != "lines"} == {
        "reference": "CO-1",
        "accountExternalId": "ACC-1",
        "storeExternalId": "STORE-1",
        "currency": "EUR",
        "totalNet": "42.00",
        "totalTax": "8.40",
        "totalGross": "50.4",
        "customFields": {"CF-PO": "PO-7"},
    }
    assert body["lines"][0] == {
        "lineId": "L1",
        "variantExternalId": "VAR-L1",
        "offerPriceExternalId": "OP-L1",
        "quantity": 2,
        "netUnitPrice": "10.50",
        "grossUnitPrice": "12.60",
        "taxAmount": "4.20",
        "totalNet": "21.00",
        "customFields": {"CF-NOTE": "fragile"},
    }
    assert result.transaction_id == "TXN-1"
    first, second = result.lines["L1"], result.lines["L2"]
    assert (first.txn_line_number, second.txn_line_number) == ("1", "0002")
    assert first.unit_price == Decimal("10.50")
    assert (first.charges[0].name, first.charges[0].amount) == ("Handling", Decimal("2.00"))
    assert (first.status, first.error_message) == ("error", "price check")
    assert (second.status, second.error_message) == ("completed", None)


def test_a_later_push_updates_the_transaction_by_its_quoted_id() -> None:
    cpq = Cpq(both_lines)

    push(gateway(cpq), transaction_id="TXN 1/é")

    sent = cpq.requests[0]
    assert sent.method == "PUT"
    assert sent.url.raw_path == b"/api/transactions/TXN%201%2F%C3%A9"
    assert sent.headers["idempotency-key"] == KEY


def test_a_key_that_is_not_ascii_is_sent_percent_encoded() -> None:
    cpq = Cpq(both_lines)

    gateway(cpq).push(cpq_order(), transaction_id=None, idempotency_key="CO-é:3")

    assert cpq.requests[0].headers["idempotency-key"] == "CO-%C3%A9:3"


# --- invalid answers -------------------------------------------------------------------------


def raw(body: bytes) -> Handler:
    return lambda request: httpx.Response(200, content=body)


def one_charge(**overrides: Any) -> list[dict[str, Any]]:
    charge = {"name": "Handling", "unitPrice": "1.00", "amount": "2.00", "priceType": "X"}
    return [charge | overrides]


INVALID_ANSWERS: dict[str, Handler] = {
    "transactionId empty": answer(answer_line("L1", 1), answer_line("L2", 2), transaction_id=""),
    "transactionId blank": answer(answer_line("L1", 1), answer_line("L2", 2), transaction_id="  "),
    "transactionId too long": answer(
        answer_line("L1", 1), answer_line("L2", 2), transaction_id="T" * 129
    ),
    "transactionId a number": answer(answer_line("L1", 1), answer_line("L2", 2), transaction_id=7),
    "transactionId missing": raw(b'{"lines":[]}'),
    "a line missing": answer(answer_line("L1", 1)),
    "an unknown line": answer(answer_line("L1", 1), answer_line("L2", 2), answer_line("L3", 3)),
    "a line twice": answer(answer_line("L1", 1), answer_line("L2", 2), answer_line("L1", 3)),
    "a negative unit price": answer(answer_line("L1", 1, unitPrice="-1"), answer_line("L2", 2)),
    "a charge over the amount limit": answer(
        answer_line("L1", 1, charges=one_charge(amount=str(MAX_AMOUNT + 1))),
        answer_line("L2", 2),
    ),
    "a charge price as a boolean": answer(
        answer_line("L1", 1, charges=one_charge(unitPrice=False)), answer_line("L2", 2)
    ),
    "a charge name too long": answer(
        answer_line("L1", 1, charges=one_charge(name="n" * 129)), answer_line("L2", 2)
    ),
    "a txnLineNumber as a boolean": answer(answer_line("L1", True), answer_line("L2", 2)),
    "a txnLineNumber too long": answer(
        answer_line("L1", 1, txnLineNumber="9" * 65), answer_line("L2", 2)
    ),
    "a txnLineNumber as a float": answer(answer_line("L1", 1.0), answer_line("L2", 2)),
    "charges missing": answer(
        {k: v for k, v in answer_line("L1", 1).items() if k != "charges"},
        answer_line("L2", 2),
    ),
    "a price as NaN text": answer(answer_line("L1", 1, unitPrice="NaN"), answer_line("L2", 2)),
    "a bare NaN": raw(b'{"transactionId":"T","lines":[{"unitPrice":NaN}]}'),
    "a lone surrogate escape": raw(b'{"transactionId":"\\udc00","lines":[]}'),
    "not JSON": raw(b"OK"),
}


@pytest.mark.parametrize("handler", INVALID_ANSWERS.values(), ids=INVALID_ANSWERS.keys())
def test_an_invalid_answer_is_cpq_unavailable_and_not_retried(handler: Handler) -> None:
    cpq = Cpq(handler)

    message = unavailable_message(gateway(cpq))

    assert "invalid answer" in message
    assert cpq.calls == 1


def test_an_empty_transaction_id_is_named_in_the_message() -> None:
    cpq = Cpq(answer(answer_line("L1", 1), answer_line("L2", 2), transaction_id=""))

    assert "transactionId" in unavailable_message(gateway(cpq))


# --- retries and the idempotency key ---------------------------------------------------------


def failing_then_answering(failures: list[Handler]) -> Handler:
    pending = list(failures)

    def handle(request: httpx.Request) -> httpx.Response:
        return pending.pop(0)(request) if pending else both_lines(request)

    return handle


def timing_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def connection_reset(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("server disconnected", request=request)


@pytest.mark.parametrize(
    "failure", [fail_with(503), fail_with(502), connection_reset], ids=["503", "502", "reset"]
)
def test_a_retried_create_sends_the_same_idempotency_key(failure: Handler) -> None:
    cpq = Cpq(failing_then_answering([failure]))

    result = push(gateway(cpq))

    assert result.transaction_id == "TXN-1"
    assert cpq.calls == 2
    assert [r.headers["idempotency-key"] for r in cpq.requests] == [KEY, KEY]
    assert cpq.requests[0].content == cpq.requests[1].content


def test_a_read_timeout_with_budget_left_is_tried_again() -> None:
    cpq = Cpq(failing_then_answering([timing_out]))

    assert push(gateway(cpq)).transaction_id == "TXN-1"
    assert cpq.calls == 2


def test_a_retried_update_keeps_method_path_and_key() -> None:
    cpq = Cpq(failing_then_answering([fail_with(504)]))

    push(gateway(cpq), transaction_id="TXN-1")

    assert [(r.method, r.url.path, r.headers["idempotency-key"]) for r in cpq.requests] == [
        ("PUT", "/api/transactions/TXN-1", KEY)
    ] * 2


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_a_refused_push_is_not_tried_again(status: int) -> None:
    cpq = Cpq(fail_with(status))

    assert f"HTTP {status}" in unavailable_message(gateway(cpq))
    assert cpq.calls == 1


def test_gives_up_after_three_attempts() -> None:
    cpq = Cpq(fail_with(503))

    assert "HTTP 503" in unavailable_message(gateway(cpq, timeout_s=2.0))
    assert cpq.calls == 3


def test_a_cpq_slower_than_the_budget_fails_in_about_the_budget() -> None:
    def never_in_time(request: httpx.Request) -> httpx.Response:
        time.sleep(request.extensions["timeout"]["read"])
        raise httpx.ReadTimeout("timed out", request=request)

    cpq = Cpq(never_in_time)

    started = time.monotonic()
    message = unavailable_message(gateway(cpq, timeout_s=0.3))
    elapsed = time.monotonic() - started

    assert "timeout after 0.3 s" in message
    assert 0.28 <= elapsed < 0.7  # one budget (0.3 s), not one per attempt
    assert cpq.calls == 1


# --- the breaker, per URL --------------------------------------------------------------------


def test_the_breaker_opens_and_then_fails_fast_without_calling_cpq() -> None:
    cpq = Cpq(fail_with(500))
    gw = gateway(cpq, breaker=CircuitBreaker(failures_to_open=2, half_open_after_s=0.2))
    for _ in range(2):
        assert "HTTP 500" in unavailable_message(gw)

    assert "circuit open" in unavailable_message(gw)
    assert cpq.calls == 2

    cpq.handler = both_lines
    time.sleep(0.2)
    assert push(gw).transaction_id == "TXN-1"
    assert not gw.breaker.is_open


def test_each_cpq_url_has_its_own_breaker() -> None:
    def down_a_up_b(request: httpx.Request) -> httpx.Response:
        return fail_with(500)(request) if request.url.host == "a.test" else both_lines(request)

    cpq = Cpq(down_a_up_b)
    clients = CpqClients(
        Settings(pricing_breaker_failures=1, pricing_breaker_reset_s=30.0),
        transport=cpq.transport,
    )
    unavailable_message(clients("http://a.test"))
    assert "circuit open" in unavailable_message(clients("http://a.test/"))

    assert push(clients("http://b.test")).transaction_id == "TXN-1"
    assert cpq.calls == 2
    clients.close()


def test_the_registry_uses_the_cpq_timeouts() -> None:
    cpq = Cpq(both_lines)
    clients = CpqClients(
        Settings(cpq_connect_timeout_s=0.3, cpq_timeout_s=0.7), transport=cpq.transport
    )

    push(clients("http://a.test"))

    timeouts = cpq.requests[0].extensions["timeout"]
    assert timeouts["connect"] == pytest.approx(0.3)
    assert 0.6 < timeouts["read"] <= 0.7
    clients.close()
