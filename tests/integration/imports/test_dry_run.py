"""A dry run reports row for row what the real run of the same file on the same data
reports, rows that depend on earlier rows of the file included, and changes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.imports.helpers import (
    SyncDispatcher,
    cells,
    draft_order,
    line_row,
    run_import,
)
from tests.integration.operator_helpers import any_order, owner

OFFERS = ("OP-TIER", "OP-0001", "OP-0007", "OP-0009")


def new_line(lo: str, external_id: str, offer: str, quantity: str = "1") -> dict[str, str]:
    return cells(
        ORDER_REFERENCE=lo,
        LINE_EXTERNAL_ID=external_id,
        OFFER_PRICE_EXTERNAL_ID=offer,
        QUANTITY=quantity,
    )


@pytest.mark.parametrize("chunk_rows", [2_000, 1], ids=["one chunk", "a chunk per row"])
def test_a_dry_run_reports_what_the_real_run_does_and_changes_nothing(
    client: TestClient, jobs: SyncDispatcher, chunk_rows: int
) -> None:
    jobs.chunk_rows = chunk_rows  # one row per transaction: what earlier rows did is kept aside
    lo, ids = draft_order(client, OFFERS)
    other, other_ids = draft_order(client, OFFERS)
    third, third_ids = draft_order(client, OFFERS)
    setup = run_import(client, [line_row(third, third_ids["OP-0009"], LINE_EXTERNAL_ID="L-OLD")])
    assert setup.outcomes == [("SUCCESS", "")]
    rows = [
        new_line(lo, "NEW-A", "OP-0003"),  # 2: a line created
        line_row(lo, ids["OP-TIER"], STATUS="ORDER_CREATED", QUANTITY="5"),  # 3: status moved
        line_row(other, other_ids["OP-TIER"], QUANTITY="0"),  # 4: refused on its own
        cells(ORDER_REFERENCE=lo, LINE_EXTERNAL_ID="NEW-A", QUANTITY="4"),  # 5: row 2's line
        line_row(lo, ids["OP-0001"], STATUS="WAITING_SUPPLIER_APPROVAL"),  # 6: moved again
        new_line(lo, "NEW-B", "OP-0005"),  # 7: no new line in row 6's status
        line_row(lo, ids["OP-0007"], STATUS="ORDER_CREATED"),  # 8: back from row 6's status
        line_row(lo, ids["OP-0009"], LINE_EXTERNAL_ID="NEW-A"),  # 9: row 2's external id
        line_row(lo, ids["OP-0009"], QUANTITY="8"),  # 10: that line again
        line_row(other, other_ids["OP-0001"], QUANTITY="9"),  # 11
        line_row(other, other_ids["OP-0007"], MARK_FOR_DELETION="true"),  # 12: deleted
        new_line(other, "NEW-C", "OP-0003", "2"),  # 13: created
        line_row(other, other_ids["OP-0009"], TAX_AMOUNT="1.11", GROSS_UNIT_PRICE="3"),  # 14
        cells(ORDER_REFERENCE=third, LINE_EXTERNAL_ID="L-OLD", MARK_FOR_DELETION="yes"),  # 15
        line_row(third, third_ids["OP-TIER"], LINE_EXTERNAL_ID="L-OLD"),  # 16: row 15's, free
    ]
    orders = (lo, other, third)
    before = [any_order(client, owner(reference)) for reference in orders]

    dry = run_import(client, rows, dry_run=True)

    assert dry.job["dryRun"] is True
    assert [any_order(client, owner(reference)) for reference in orders] == before
    assert dry.outcomes == [
        ("SUCCESS", ""),
        ("SUCCESS", ""),
        ("ERROR", "F-E-007"),
        ("ERROR", "F-E-003"),
        ("SUCCESS", ""),
        ("ERROR", "FIELD_NOT_EDITABLE_IN_STATUS"),
        ("ERROR", "STATUS_TRANSITION_NOT_ALLOWED"),
        ("ERROR", "EXTERNAL_ID_TAKEN"),
        ("ERROR", "F-E-003"),
        ("SUCCESS", ""),
        ("SUCCESS", ""),
        ("SUCCESS", ""),
        ("SUCCESS", ""),
        ("SUCCESS", ""),
        ("SUCCESS", ""),
    ]

    real = run_import(client, rows)

    assert real.report == dry.report
    counts = ("status", "total", "processed", "succeeded", "failed")
    assert [real.job[k] for k in counts] == [dry.job[k] for k in counts]
    after = [any_order(client, owner(reference)) for reference in orders]
    assert [order["version"] for order in after] != [order["version"] for order in before]

    # The same file again, now as a dry run on the changed data, still agrees with a real run.
    again_dry = run_import(client, rows, dry_run=True)
    assert [any_order(client, owner(reference)) for reference in orders] == after
    assert again_dry.report == run_import(client, rows).report


def test_a_dry_run_of_an_unknown_order_reports_it_as_the_real_run_does(client: TestClient) -> None:
    rows = [line_row("999-999-9999999-1", 1, QUANTITY="3")]
    dry, real = run_import(client, rows, dry_run=True), run_import(client, rows)
    assert dry.report == real.report
    assert dry.outcome() == ("ERROR", "F-E-002")
    assert dry.job["status"] == real.job["status"] == "FAILED"
