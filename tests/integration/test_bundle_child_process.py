"""A bundle over `bundle_inline_bytes` is streamed to a file and loaded by a child process
a chunk of variants or offers at a time (issue 9, finding 9): it loads the same as a small
one, and a bad one is refused with the same 422, naming the item by its place in the whole
bundle, and writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ordersync.adapters.db.tables import suppliers, variants
from ordersync.api.app import create_app
from ordersync.api.routers import operator
from ordersync.settings import Settings
from tests.api import create_order, get_order, headers, put_lines
from tests.bundle import KEY_OPS

INLINE_BYTES = 1_000
CHUNK_ITEMS = 100  # the 300 variants come in three chunks
SUPPLIERS = 20
VARIANTS = 300  # with the suppliers, about 50 KB of JSON
OPS = {**headers(KEY_OPS, "OPERATOR"), "content-type": "application/json"}


@pytest.fixture
def small_inline_app(database_url: str, client: TestClient) -> Iterator[FastAPI]:
    """A second app on the test database (the session's app, through `client`, has loaded
    the catalog) that loads any bundle over 1,000 bytes in a child process."""
    app = create_app(
        Settings(
            database_url=database_url,
            bundle_inline_bytes=INLINE_BYTES,
            bundle_chunk_items=CHUNK_ITEMS,
        )
    )
    yield app
    app.state.engine.dispose()


@pytest.fixture
def child_loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files the route handed to a child process."""
    handed: list[Path] = []

    async def spy(settings: Settings, path: Path) -> dict[str, int]:
        handed.append(path)
        return await real(settings, path)

    real = operator.load_in_child
    monkeypatch.setattr(operator, "load_in_child", spy)
    return handed


def large_bundle(tag: str) -> dict[str, Any]:
    """Fresh suppliers and variants, and one offer to order (`CHILD-<tag>-OP`)."""
    description = "A fastener sold by the piece, zinc-plated, for indoor use. " * 2
    return {
        "suppliers": [
            {"externalId": f"CHILD-{tag}-SUP-{n}", "name": f"Child supplier {n}"}
            for n in range(SUPPLIERS)
        ],
        "variants": [
            {
                "externalId": f"CHILD-{tag}-V-{n}",
                "name": f"Child variant {n}",
                "description": description,
            }
            for n in range(VARIANTS)
        ],
        "offers": [
            {
                "externalId": f"CHILD-{tag}-OFR",
                "supplier": f"CHILD-{tag}-SUP-0",
                "variant": f"CHILD-{tag}-V-0",
                "prices": [
                    {
                        "externalId": f"CHILD-{tag}-OP",
                        "currency": "EUR",
                        "taxRate": "20",
                        "tiers": [
                            {"minQuantity": 1, "netUnitPrice": "2.00", "grossUnitPrice": "2.40"}
                        ],
                    }
                ],
            }
        ],
    }


def rows_of(app: FastAPI, tag: str) -> tuple[int, int]:
    """(suppliers, variants) stored under this tag."""
    prefix = f"CHILD-{tag}-%"
    with app.state.engine.connect() as conn:
        counted = [
            conn.execute(
                select(func.count()).select_from(table).where(table.c.external_id.like(prefix))
            ).scalar_one()
            for table in (suppliers, variants)
        ]
    return counted[0], counted[1]


def post(app: FastAPI, body: bytes) -> Any:
    with TestClient(app, raise_server_exceptions=False) as http:
        return http.post("/v1/operator/data", content=body, headers=OPS)


def test_a_bundle_over_the_inline_size_loads_in_a_child_process(
    small_inline_app: FastAPI, child_loads: list[Path], client: TestClient
) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    body = orjson.dumps(large_bundle(tag))
    assert 40_000 < len(body) < 70_000
    response = post(small_inline_app, body)
    assert response.status_code == 200, response.text
    counts = response.json()
    assert (counts["suppliers"], counts["variants"]) == (SUPPLIERS, VARIANTS)
    assert (counts["offers"], counts["offerPrices"], counts["orders"]) == (1, 1, 0)
    assert len(child_loads) == 1
    assert not child_loads[0].exists()  # the streamed file is removed afterwards
    assert rows_of(small_inline_app, tag) == (SUPPLIERS, VARIANTS)
    # What the child wrote is the catalog the serving processes read.
    reference = create_order(client)
    added = put_lines(client, reference, [{"id": f"CHILD-{tag}-OP", "quantity": 3}])
    assert added.status_code == 200, added.text
    assert get_order(client, reference)["totalGross"] == "7.20"


def _with_nul_in_a_name(bundle: dict[str, Any]) -> tuple[dict[str, Any], str]:
    bundle["variants"][250]["name"] = "Child\x00variant"
    return bundle, "variants[250].name"


def _with_an_unknown_supplier(bundle: dict[str, Any]) -> tuple[dict[str, Any], str]:
    bundle["offers"][0]["supplier"] = "CHILD-NOBODY"
    return bundle, "offers[0].supplier"


def _with_a_variant_twice(bundle: dict[str, Any]) -> tuple[dict[str, Any], str]:
    # In the third chunk, the id of one in the first: only the whole bundle sees it twice.
    bundle["variants"][250]["externalId"] = bundle["variants"][20]["externalId"]
    return bundle, "variants[250].externalId"


def _with_a_bad_name_in_the_last_chunk(bundle: dict[str, Any]) -> tuple[dict[str, Any], str]:
    bundle["variants"][299]["name"] = ""
    return bundle, "variants[299].name"


@pytest.mark.parametrize(
    "spoil",
    [
        _with_nul_in_a_name,
        _with_an_unknown_supplier,
        _with_a_variant_twice,
        _with_a_bad_name_in_the_last_chunk,
    ],
    ids=["nul", "unknown-supplier", "variant-twice", "empty-name"],
)
def test_a_bad_bundle_over_the_inline_size_is_422_from_the_child_and_writes_nothing(
    small_inline_app: FastAPI, child_loads: list[Path], spoil: Any
) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    bundle, field = spoil(large_bundle(tag))
    response = post(small_inline_app, orjson.dumps(bundle))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "BUNDLE_INVALID"
    assert field in [error["field"] for error in body["errors"]], body
    assert len(child_loads) == 1
    assert rows_of(small_inline_app, tag) == (0, 0)


@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        (lambda body: body[:-200], "MALFORMED_JSON"),  # cut short: nothing may be written
        (lambda body: body.replace(b"Child variant 7", b"Child \\udc80 7"), "TEXT_INVALID"),
        (lambda body: b"[" + body + b"]", "BUNDLE_INVALID"),  # not an object
        # `variants` a string (its items moved under a key nobody reads)
        (
            lambda body: body.replace(b'"variants":[', b'"variants":"none","x":[', 1),
            "BUNDLE_INVALID",
        ),
    ],
    ids=["truncated", "lone-surrogate", "not-an-object", "variants-not-a-list"],
)
def test_a_broken_document_over_the_inline_size_is_422_and_writes_nothing(
    small_inline_app: FastAPI, child_loads: list[Path], spoil: Any, code: str
) -> None:
    tag = uuid.uuid4().hex[:8].upper()
    response = post(small_inline_app, spoil(orjson.dumps(large_bundle(tag))))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "BUNDLE_INVALID"
    assert [error["code"] for error in body["errors"]] == [code], body
    assert len(child_loads) == 1
    assert rows_of(small_inline_app, tag) == (0, 0)
