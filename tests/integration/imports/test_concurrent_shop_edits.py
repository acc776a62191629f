"""An import takes the order lock every writer takes: shop edits made while a long import
runs on the same order are never lost, and the order's totals stay the sum of its lines."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ordersync.jobs.imports import first_chunk_rows
from tests.api import put_lines
from tests.integration.imports.helpers import (
    BackgroundDispatcher,
    csv_bytes,
    job,
    line_row,
    lines_of,
    report,
    upload,
)
from tests.integration.operator_helpers import any_order, logistic_refs, order_with

# SUP-A's bulk offers (odd numbers) and the line the shop edits meanwhile.
IMPORTED = [f"OP-{i:04d}" for i in range(1, 400, 2)]
SHOP_EDITED = "OP-TIER"


@pytest.fixture
def background_jobs(app: FastAPI) -> Iterator[BackgroundDispatcher]:
    """Jobs on a thread of their own, a chunk of 10 rows per transaction: the upload
    answers at once and the job takes many transactions."""
    original = app.state.dispatcher
    dispatcher = BackgroundDispatcher(app.state.uow_factory, chunk_rows=10)
    app.state.dispatcher = dispatcher
    yield dispatcher
    app.state.dispatcher = original


def test_shop_edits_during_an_import_of_the_same_order_are_kept(
    client: TestClient, app: FastAPI, background_jobs: BackgroundDispatcher
) -> None:
    reference = order_with(client, [SHOP_EDITED, *IMPORTED])
    lo = logistic_refs(client, reference)["SUP-A"]
    ids = {offer: line["id"] for offer, line in lines_of(client, lo).items()}
    start_version = any_order(client, reference)["version"]
    rows = [
        line_row(lo, ids[offer], QUANTITY="5", VARIANT_NAME=f"Imported {offer}")
        for offer in IMPORTED
    ]

    response = upload(client, csv_bytes(rows))
    assert response.status_code == 202, response.text
    job_id = response.json()["jobId"]
    edits, during = 0, 0
    deadline = time.monotonic() + 120
    while True:
        before = job(client, job_id)
        edits += 1
        answer = put_lines(client, reference, [{"id": SHOP_EDITED, "quantity": 10 + edits}])
        assert answer.status_code == 200, answer.text
        after = job(client, job_id)
        if before["status"] == "RUNNING" and after["processed"] < after["total"]:
            during += 1
        if after["status"] in ("SUCCEEDED", "PARTIALLY_SUCCEEDED", "FAILED"):
            break
        assert time.monotonic() < deadline, "the import did not finish"
    background_jobs.join()

    finished = job(client, job_id)
    assert finished["status"] == "SUCCEEDED", report(client, job_id)[:3]
    if app.state.engine.dialect.name == "postgresql":  # SQLite has one writer at a time
        assert during >= 1, "no shop edit happened while the import ran"
    lines = lines_of(client, lo)
    assert lines[SHOP_EDITED]["quantity"] == 10 + edits  # the shop's last edit
    assert {lines[offer]["quantity"] for offer in IMPORTED} == {5}  # every imported row
    assert {lines[offer]["variantName"] for offer in IMPORTED} == {
        f"Imported {offer}" for offer in IMPORTED
    }
    order = any_order(client, reference)
    all_lines = [line for lo_ in order["logisticOrders"] for line in lo_["lines"]]
    # Nobody wrote totals from a stale read: they are still the sum of the lines.
    assert Decimal(order["totalNet"]) == sum(Decimal(line["totalNet"]) for line in all_lines)
    assert Decimal(order["totalTax"]) == sum(Decimal(line["taxAmount"]) for line in all_lines)
    assert order["productCount"] == sum(line["quantity"] for line in all_lines)
    first = first_chunk_rows(10)
    chunks = 1 + -(-(len(IMPORTED) - first) // 10)  # a small first chunk, then tens
    assert order["version"] == start_version + edits + chunks
