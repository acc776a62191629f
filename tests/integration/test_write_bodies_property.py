"""Property (issue 9): whatever body a client sends to a write endpoint — arbitrary Unicode
with lone surrogates and NUL, numbers past any column, NaN, nesting, the real field names with
wrong values — the answer is 2xx or 4xx with a JSON body, never 5xx, and every order of the
account stays readable afterwards (its GET and the account's order list answer 200).

Bundles posted here only create entities whose external ids start with `HYP-` (and users with
`hyp-key-` API keys), so the catalog the other tests share keeps every row it had
(write_bodies.py). `--hypothesis-show-statistics` shows how the answers were spread.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
import structlog
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings

from tests.api import create_order, headers, put_lines
from tests.bundle import KEY_1, KEY_OPS
from tests.integration.write_bodies import (
    Sent,
    bundle_bodies,
    create_order_bodies,
    delete_lines_bodies,
    logistic_patch_bodies,
    sent,
    update_lines_bodies,
)

ORDERS = "/v2/shop/commercial-orders"
PROPERTY = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,  # CI runs the same examples every time
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --- the property ------------------------------------------------------------------------------


@dataclass
class Api:
    """Sends the generated requests and checks every answer and, afterwards, every order."""

    http: TestClient
    verified: set[str] = field(default_factory=set)

    def send(self, method: str, path: str, request: Sent, key: str = KEY_1) -> tuple[int, Any]:
        """The status and parsed body of the answer."""
        caller = headers(key, "OPERATOR" if key == KEY_OPS else "ACCOUNT")
        extra = {"content-type": request.content_type} if request.content_type else {}
        if request.if_match is not None:
            extra["if-match"] = request.if_match  # type: ignore[assignment]
        response = self.http.request(
            method, path, content=request.body, headers={**caller, **extra}
        )
        body = self.answer(response, f"{method} {path} with {request!r}")
        # --hypothesis-show-statistics tells how many examples got past validation.
        event(f"{response.status_code} {body['code'] if response.status_code >= 400 else ''}")
        return response.status_code, body

    def answer(self, response: Any, what: str) -> Any:
        """The parsed body of a 2xx or 4xx answer (None for 204)."""
        status = response.status_code
        assert 200 <= status < 500, f"{what}: {status} {response.text[:2000]}"
        if status == 204:
            assert response.content == b"", what
            return None
        assert response.headers["content-type"] == "application/json", what
        body = orjson.loads(response.content)  # strict JSON: no NaN, no lone surrogate
        if status >= 400:
            assert body["status"] == status, (what, body)
            assert isinstance(body["code"], str) and isinstance(body["errors"], list), body
        return body

    def assert_readable(self, *references: str, everything: bool = False) -> None:
        """The account's order list answers 200; the given orders, and every listed one not
        verified yet (or all of them), answer 200 to the shop and the operator."""
        listed = self.http.get(ORDERS, params={"size": 100}, headers=headers())
        page = self.answer(listed, "the order list")
        assert listed.status_code == 200, page
        on_page = {order["reference"] for order in page["content"]}
        todo = {*references} | (on_page if everything else on_page - self.verified)
        for reference in sorted(todo):
            shop = self.http.get(f"/v1/shop/commercial-orders/{reference}", headers=headers())
            assert shop.status_code == 200, (reference, self.answer(shop, reference))
            operator = self.http.get(
                f"/v1/operator/commercial-orders/{reference}", headers=headers(KEY_OPS, "OPERATOR")
            )
            assert operator.status_code == 200, (reference, self.answer(operator, reference))
        self.verified |= todo


@pytest.fixture
def api(client: TestClient) -> Iterator[Api]:
    checker = Api(TestClient(client.app, raise_server_exceptions=False))
    yield checker
    checker.assert_readable(everything=True)


@pytest.fixture
def order(client: TestClient) -> str:
    """A draft order of ACC-1 with two lines."""
    reference = create_order(client)
    lines = [{"id": "OP-TIER", "quantity": 3}, {"id": "OP-0001", "quantity": 2}]
    assert put_lines(client, reference, lines).status_code == 200
    return reference


@PROPERTY
@given(request=sent(create_order_bodies()))
def test_create_order_answers_4xx_or_a_readable_order(api: Api, request: Sent) -> None:
    status, created = api.send("POST", ORDERS, request)
    api.assert_readable(*([created["reference"]] if status == 201 else []))


@PROPERTY
@given(request=sent(update_lines_bodies(), if_match=True))
def test_update_lines_answers_4xx_or_leaves_the_order_readable(
    api: Api, order: str, request: Sent
) -> None:
    api.send("PUT", f"{ORDERS}/{order}/lines", request)
    api.assert_readable(order)


@PROPERTY
@given(request=sent(delete_lines_bodies(), if_match=True))
def test_delete_lines_answers_4xx_or_leaves_the_order_readable(
    api: Api, order: str, request: Sent
) -> None:
    api.send("DELETE", f"{ORDERS}/{order}/lines", request)
    api.assert_readable(order)
    # Lines back for the next example, whatever this one deleted.
    lines = [{"id": "OP-TIER", "quantity": 3}, {"id": "OP-0001", "quantity": 2}]
    assert put_lines(api.http, order, lines).status_code == 200


@PROPERTY
@given(request=sent(logistic_patch_bodies(), if_match=True))
def test_logistic_order_patch_answers_4xx_or_leaves_the_order_readable(
    api: Api, order: str, request: Sent
) -> None:
    logistic = api.http.get(
        f"/v1/operator/commercial-orders/{order}", headers=headers(KEY_OPS, "OPERATOR")
    ).json()["logisticOrders"]
    for logistic_order in logistic:
        path = f"/v1/operator/logistic-orders/{logistic_order['reference']}"
        api.send("PATCH", path, request, key=KEY_OPS)
        api.answer(api.http.get(path, headers=headers(KEY_OPS, "OPERATOR")), path)
    listed = api.http.get("/v1/operator/logistic-orders", headers=headers(KEY_OPS, "OPERATOR"))
    api.answer(listed, "the logistic order list")
    assert listed.status_code == 200
    api.assert_readable(order)


@PROPERTY
@given(request=sent(bundle_bodies()))
def test_a_bundle_answers_4xx_or_loads_and_every_order_stays_readable(
    api: Api, request: Sent
) -> None:
    status, counts = api.send("POST", "/v1/operator/data", request, key=KEY_OPS)
    if status == 200:
        assert all(isinstance(n, int) for n in counts.values()), counts
    api.assert_readable()


def test_the_generated_bundles_only_create_hyp_entities() -> None:
    """The guard behind the module docstring's promise, checked on the generator itself."""

    @settings(max_examples=200, derandomize=True, deadline=None)
    @given(bundle_bodies())
    def check(text: str) -> None:
        try:
            bundle = json.loads(text.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
        except ValueError:
            return  # not JSON to Python either: the server refuses it before any look
        assert "settings" not in bundle
        for kind, entities in bundle.items():
            if kind == "x-unknown" or not isinstance(entities, list):
                continue
            for entity in entities:
                if isinstance(entity, dict):
                    assert entity["externalId"].startswith("HYP-"), entity
                    assert entity.get("default") in (None, False)
                    assert entity.get("required") in (None, False)
                    assert str(entity.get("apiKey", "hyp-key-")).startswith("hyp-key-")

    check()


# --- bundles the property draws too rarely, each a 500 today ----------------------------------


def _post_bundle(client: TestClient, bundle: dict[str, Any]) -> Any:
    http = TestClient(client.app, raise_server_exceptions=False)
    # Captured, not rendered: a console traceback of a 500 takes seconds to draw.
    with structlog.testing.capture_logs():
        return http.post("/v1/operator/data", json=bundle, headers=headers(KEY_OPS, "OPERATOR"))


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "BUNDLE_INVALID"
    assert field in [e["field"] for e in body["errors"]], body


@pytest.mark.parametrize("step", [2**31, 2**63], ids=["2**31", "2**63"])
def test_a_quantity_step_past_the_column_is_refused_at_load(client: TestClient, step: int) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    price = {
        "externalId": f"HYP-OP-STEP-{tag}",
        "currency": "EUR",
        "taxRate": "20",
        "tiers": [{"minQuantity": 1, "netUnitPrice": "1.00", "grossUnitPrice": "1.20"}],
        "quantityStep": step,
    }
    bundle = {
        "variants": [{"externalId": f"HYP-V-STEP-{tag}", "name": "Stepped"}],
        "offers": [
            {
                "externalId": f"HYP-OFR-STEP-{tag}",
                "supplier": "SUP-A",
                "variant": f"HYP-V-STEP-{tag}",
                "prices": [price],
            }
        ],
    }
    _refused(_post_bundle(client, bundle), "offers[0].prices[0].quantityStep")


@pytest.mark.parametrize("shared", ["externalId", "reference"])
def test_two_bundle_orders_sharing_an_id_or_a_reference_are_refused(
    client: TestClient, shared: str
) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    orders = [
        {
            "externalId": f"HYP-ORD-{tag}-{n}",
            "reference": f"999-{n:03d}-{int(tag, 16) % 10**7:07d}",
            "account": "ACC-1",
            "user": "U-1",
        }
        for n in range(2)
    ]
    orders[1][shared] = orders[0][shared]
    before = client.get(ORDERS, headers=headers()).json()["totalElements"]
    _refused(_post_bundle(client, {"orders": orders}), f"orders[1].{shared}")
    assert client.get(ORDERS, headers=headers()).json()["totalElements"] == before
