"""A row is applied whole or not at all and the other rows go on; the job's status and
counts; each touched order's totals recomputed and its version bumped once per chunk, an
untouched order and a row that changes nothing leaving the version alone."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from ordersync.jobs.imports import run_partition
from tests.integration.imports.helpers import (
    SyncDispatcher,
    cells,
    csv_bytes,
    draft_order,
    line_row,
    lines_of,
    lo_of,
    run_import,
    upload,
    version,
    wait_finished,
)
from tests.integration.operator_helpers import any_order, logistic_refs, move, order_with, owner
from tests.integration.operator_helpers import ops as ops_headers


def test_a_refused_row_changes_nothing_and_the_other_rows_go_on(client: TestClient) -> None:
    lo, ids = draft_order(client)
    other, other_ids = draft_order(client)
    move(client, lo, "ORDER_CREATED")
    rows = [
        line_row(lo, ids["OP-TIER"], QUANTITY="5"),
        # a quantity the status allows, with a status it does not: neither is applied
        line_row(lo, ids["OP-0001"], QUANTITY="7", STATUS="DRAFT_ORDER"),
        line_row(other, other_ids["OP-0001"], QUANTITY="8"),
    ]
    run = run_import(client, rows)

    assert run.outcomes == [
        ("SUCCESS", ""),
        ("ERROR", "STATUS_TRANSITION_NOT_ALLOWED"),
        ("SUCCESS", ""),
    ]
    assert [r["Line Number"] for r in run.report] == ["2", "3", "4"]
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 5
    assert lines_of(client, lo)["OP-0001"]["quantity"] == 2
    assert lo_of(client, lo)["status"] == "ORDER_CREATED"
    assert lines_of(client, other)["OP-0001"]["quantity"] == 8
    job = run.job
    assert job["status"] == "PARTIALLY_SUCCEEDED"
    assert (job["total"], job["processed"], job["succeeded"], job["failed"]) == (3, 3, 2, 1)
    assert job["createdAt"] <= job["startedAt"] <= job["finishedAt"]
    assert job["error"] is None
    assert (job["type"], job["dryRun"], job["fileName"]) == (
        "INTERNAL_ORDER_UPDATE",
        False,
        "orders.csv",
    )


def test_a_job_whose_rows_all_fail_is_failed_and_one_whose_rows_all_pass_succeeded(
    client: TestClient,
) -> None:
    lo, ids = draft_order(client)
    failed = run_import(client, [line_row(lo, ids["OP-TIER"], QUANTITY="-3")])
    assert (failed.job["status"], failed.job["failed"], failed.job["succeeded"]) == (
        "FAILED",
        1,
        0,
    )
    passed = run_import(client, [line_row(lo, ids["OP-TIER"], QUANTITY="3")])
    assert (passed.job["status"], passed.job["failed"], passed.job["succeeded"]) == (
        "SUCCEEDED",
        0,
        1,
    )


def test_later_rows_see_what_earlier_rows_did(client: TestClient) -> None:
    lo, ids = draft_order(client, ("OP-TIER", "OP-0001", "OP-0007"))

    def new_line(order: str, external_id: str, offer: str) -> dict[str, str]:
        return cells(
            ORDER_REFERENCE=order,
            LINE_EXTERNAL_ID=external_id,
            OFFER_PRICE_EXTERNAL_ID=offer,
            QUANTITY="1",
        )

    rows = [
        line_row(lo, ids["OP-TIER"], QUANTITY="4", STATUS="ORDER_CREATED"),
        new_line(lo, "NEW-1", "OP-0003"),
        line_row(lo, ids["OP-0001"], STATUS="WAITING_CUSTOMER_APPROVAL"),
        # the external id row 3 gave a new line, asked for another line of the order
        line_row(lo, ids["OP-0007"], LINE_EXTERNAL_ID="NEW-1"),
        # lines may no longer be created in the status row 4 moved to
        new_line(lo, "NEW-2", "OP-0005"),
        # the line row 3 created, named again
        cells(ORDER_REFERENCE=lo, LINE_EXTERNAL_ID="NEW-1", QUANTITY="6"),
    ]
    run = run_import(client, rows)
    assert run.outcomes == [
        ("SUCCESS", ""),
        ("SUCCESS", ""),
        ("SUCCESS", ""),
        ("ERROR", "EXTERNAL_ID_TAKEN"),
        ("ERROR", "FIELD_NOT_EDITABLE_IN_STATUS"),
        ("ERROR", "F-E-003"),
    ]
    lines = lines_of(client, lo)
    assert set(lines) == {"OP-TIER", "OP-0001", "OP-0007", "OP-0003"}
    assert (lines["OP-TIER"]["quantity"], lines["OP-0003"]["quantity"]) == (4, 1)
    assert lines["OP-0007"]["externalId"] is None
    assert lo_of(client, lo)["status"] == "WAITING_CUSTOMER_APPROVAL"


def test_touched_orders_get_their_totals_recomputed_and_their_version_bumped_once(
    client: TestClient,
) -> None:
    reference = order_with(client, ["OP-TIER", "OP-0001", "OP-0002"])  # SUP-A and SUP-B
    los = logistic_refs(client, reference)
    untouched = owner(draft_order(client)[0])
    a_lines, b_lines = lines_of(client, los["SUP-A"]), lines_of(client, los["SUP-B"])
    before = any_order(client, reference)
    untouched_before = any_order(client, untouched)

    rows = [
        line_row(los["SUP-A"], a_lines["OP-TIER"]["id"], QUANTITY="10"),  # 1.20 x 10
        line_row(los["SUP-A"], a_lines["OP-0001"]["id"], NET_UNIT_PRICE="2.00"),  # 2 x 2.00
        line_row(los["SUP-B"], b_lines["OP-0002"]["id"], QUANTITY="3", TAX_AMOUNT="1.00"),
    ]
    assert run_import(client, rows).outcomes == [("SUCCESS", "")] * 3

    after = any_order(client, reference)
    assert after["version"] == before["version"] + 1
    by_supplier = {lo["supplierExternalId"]: lo for lo in after["logisticOrders"]}
    a, b = by_supplier["SUP-A"], by_supplier["SUP-B"]
    assert (a["totalNet"], a["totalTax"], a["totalGross"]) == ("16.00", "3.20", "19.20")
    assert (b["totalNet"], b["totalTax"], b["totalGross"]) == ("4.50", "1.00", "5.50")
    assert (after["totalNet"], after["totalTax"], after["totalGross"]) == (
        "20.50",
        "4.20",
        "24.70",
    )
    assert (after["productCount"], after["lineCount"]) == (15, 3)
    for lo in after["logisticOrders"]:
        assert Decimal(lo["totalNet"]) == sum(Decimal(ln["totalNet"]) for ln in lo["lines"])
    assert after["updatedAt"] > before["updatedAt"]
    assert any_order(client, untouched) == untouched_before


def test_the_version_moves_once_per_chunk_that_touches_the_order(
    client: TestClient, jobs: SyncDispatcher
) -> None:
    lo, ids = draft_order(client)
    before = version(client, owner(lo))
    jobs.chunk_rows = 1  # each row its own chunk (transaction)
    rows = [
        line_row(lo, ids["OP-TIER"], QUANTITY="3"),
        line_row(lo, ids["OP-0001"], QUANTITY="4"),
        line_row(lo, ids["OP-0001"], QUANTITY="5"),  # the same line again: refused, no write
    ]
    run = run_import(client, rows)
    assert run.outcomes == [("SUCCESS", ""), ("SUCCESS", ""), ("ERROR", "F-E-003")]
    assert version(client, owner(lo)) == before + 2


def test_a_row_that_changes_nothing_leaves_the_version_alone(client: TestClient) -> None:
    lo, ids = draft_order(client)
    before = any_order(client, owner(lo))
    line = lines_of(client, lo)["OP-TIER"]
    row = line_row(
        lo,
        ids["OP-TIER"],
        QUANTITY="2",
        NET_UNIT_PRICE=line["netUnitPrice"],
        GROSS_UNIT_PRICE=line["grossUnitPrice"],
        TAX_AMOUNT=line["taxAmount"],
        VARIANT_NAME=line["variantName"],
        OFFER_PRICE_EXTERNAL_ID="OP-TIER",
        VARIANT_EXTERNAL_ID="V-TIER",
        ACCOUNT_EXTERNAL_ID="ACC-1",
        SUPPLIER_EXTERNAL_ID="SUP-A",
        CUSTOMER_EXTERNAL_ID="U-1",
        STATUS="DRAFT_ORDER",
        MARK_FOR_DELETION="false",
    )
    run = run_import(client, [row])
    assert run.outcomes == [("SUCCESS", "")]
    assert any_order(client, owner(lo)) == before


def test_two_runs_of_the_same_partitions_at_once_apply_each_row_once(
    client: TestClient, app: FastAPI
) -> None:
    """A retried task may start while the first run still works (a worker thought dead): the
    partition's checkpoint, locked by each chunk, makes the second start after the first's
    rows instead of applying them again."""
    orders = [draft_order(client) for _ in range(4)]
    rows = [line_row(lo, line_id, QUANTITY="7") for lo, ids in orders for line_id in ids.values()]
    queued: list[tuple[str, int]] = []

    class Queue(SyncDispatcher):
        def enqueue_import(self, job_id: str, partitions: int) -> None:
            queued.append((job_id, partitions))

    app.state.dispatcher = Queue(app.state.uow_factory)
    response = upload(client, csv_bytes(rows))
    assert response.status_code == 202, response.text
    ((job_id, partitions),) = queued
    runs = [
        threading.Thread(
            target=run_partition, args=(app.state.uow_factory, job_id, p), kwargs={"chunk_rows": 1}
        )
        for p in range(partitions)
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)

    finished = wait_finished(client, job_id)
    assert (finished["status"], finished["processed"], finished["succeeded"]) == (
        "SUCCEEDED",
        len(rows),
        len(rows),
    )
    applied: list[int] = []
    for lo, _ in orders:
        assert {line["quantity"] for line in lines_of(client, lo).values()} == {7}
        history = client.get(
            f"/v1/operator/commercial-orders/{lo.rsplit('-', 1)[0]}/history",
            params={"source": "IMPORT", "size": 100},
            headers=ops_headers(),
        ).json()["content"]
        applied += [entry["lineNumber"] for entry in history]
    assert sorted(applied) == list(range(2, len(rows) + 2))  # one entry per row, no repeat


def test_each_rows_history_starts_where_the_last_applied_row_of_its_order_left_it(
    client: TestClient,
) -> None:
    """Rows of one logistic order in a row, one refused between them: each entry's order and
    logistic-order totals go on from the entry before (the refused row changed nothing)."""
    lo, ids = draft_order(client, ("OP-TIER", "OP-0001", "OP-0007"))
    rows = [
        line_row(lo, ids["OP-TIER"], QUANTITY="4"),
        line_row(lo, ids["OP-0001"], QUANTITY="9", ACCOUNT_EXTERNAL_ID="NOT-THE-OWNER"),
        line_row(lo, ids["OP-0001"] + 10_000_000, QUANTITY="3"),  # no such line
        line_row(lo, ids["OP-0007"], QUANTITY="6"),
    ]
    run = run_import(client, rows)
    assert [result for result, _ in run.outcomes] == ["SUCCESS", "ERROR", "ERROR", "SUCCESS"]
    response = client.get(
        f"/v1/operator/commercial-orders/{owner(lo)}/history",
        params={"source": "IMPORT"},
        headers=ops_headers(),
    )
    assert response.status_code == 200, response.text
    first, second = sorted(response.json()["content"], key=lambda e: e["lineNumber"])
    assert (first["lineNumber"], second["lineNumber"]) == (2, 5)

    def totals(entry: dict[str, Any]) -> dict[tuple[str, str], tuple[Any, Any]]:
        return {
            (c["entity"], c["field"]): (c["before"], c["after"])
            for c in entry["changes"]
            if c["entity"] in ("ORDER", "LOGISTIC_ORDER")
        }

    earlier, later = totals(first), totals(second)
    for field in ("total_net", "total_tax", "total_gross"):
        for entity in ("ORDER", "LOGISTIC_ORDER"):
            assert earlier[entity, field][1] == later[entity, field][0], (entity, field)
            assert earlier[entity, field][0] != earlier[entity, field][1]
    assert earlier["ORDER", "product_count"] == (6, 8)  # three lines of 2: 2 -> 4
    assert later["ORDER", "product_count"] == (8, 12)  # 2 -> 6
    order = any_order(client, owner(lo))
    assert Decimal(later["ORDER", "total_net"][1]) == Decimal(order["totalNet"])


def test_a_chunks_commit_alone_does_not_wait_for_its_wal_flush(app: FastAPI) -> None:
    """Recording a chunk's results turns PostgreSQL's synchronous_commit off for its
    transaction only; the next transaction (the job's finishing commit, any other writer)
    waits as always."""
    postgresql = app.state.engine.dialect.name == "postgresql"
    show = text("SHOW synchronous_commit") if postgresql else text("SELECT 'on'")
    with app.state.uow_factory() as uow:
        uow.imports.record_chunk("no-such-job", 0, through=2, count=1)
        assert uow.session.scalar(show) == ("off" if postgresql else "on")
        uow.commit()
    with app.state.uow_factory() as uow:
        assert uow.session.scalar(show) == "on"
