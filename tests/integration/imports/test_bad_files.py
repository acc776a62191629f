"""Files an operator gets wrong: each refused whole with a clear 422 (IMPORT_FILE_INVALID,
the file code and the column or line in the error item) or row by row in the report;
nothing half-applied and never a 5xx. And the upload's own refusals: size, type, caller,
unknown job."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ordersync.api.app import create_app
from ordersync.domain.imports import Column
from tests.api import headers
from tests.integration.imports.helpers import (
    JOBS,
    SyncDispatcher,
    csv_bytes,
    draft_order,
    line_row,
    lines_of,
    read_csv,
    run_import,
    upload,
)
from tests.integration.operator_helpers import any_order, assert_error, ops, owner

C = Column


@pytest.fixture
def order(client: TestClient) -> Iterator[tuple[str, dict[str, int]]]:
    """A draft order, checked unchanged at the end of every test that uses it."""
    lo, ids = draft_order(client)
    before = any_order(client, owner(lo))
    yield lo, ids
    assert any_order(client, owner(lo)) == before, "the refused file changed the order"


def refused(response: Any, file_code: str, where: str | None = None) -> dict[str, Any]:
    body = assert_error(response, 422, "IMPORT_FILE_INVALID")
    (item,) = body["errors"]
    assert item["code"] == file_code, body
    if where is not None:
        assert item["field"] == where, body
    assert body["message"] == item["message"]
    error: dict[str, Any] = item
    return error


def rows_text(lo: str, ids: dict[str, int], count: int = 3) -> str:
    lines = [f"{C.ORDER_REFERENCE.value},{C.LINE_ID.value},{C.QUANTITY.value}"]
    lines += [f"{lo},{ids['OP-TIER']},{n + 5}" for n in range(count)]
    return "\r\n".join(lines) + "\r\n"


# --- refused whole ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"\r\n\r\n  \n", b"\xef\xbb\xbf"], ids=["empty", "blank", "bom"]
)
def test_an_empty_file_is_refused(client: TestClient, data: bytes) -> None:
    error = refused(upload(client, data), "IMPORT_FILE_EMPTY")
    assert "empty" in error["message"]


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_a_header_without_rows_succeeds_with_no_rows(
    client: TestClient, bom: bool, delimiter: str
) -> None:
    data = csv_bytes([], [C.ORDER_REFERENCE.value, C.LINE_ID.value, "CF-NOTE"], delimiter, bom)
    run = run_import(client, data)
    assert run.job["status"] == "SUCCEEDED"
    assert [run.job[k] for k in ("total", "processed", "succeeded", "failed")] == [0, 0, 0, 0]
    assert run.report == []


def test_an_unknown_column_is_refused_and_named(
    client: TestClient, order: tuple[str, dict[str, int]]
) -> None:
    lo, ids = order
    data = rows_text(lo, ids).replace(C.QUANTITY.value, "Order Line Quantiy", 1).encode()
    error = refused(upload(client, data), "IMPORT_COLUMN_UNKNOWN", "Order Line Quantiy")
    assert "Order Line Quantity" in error["message"]  # did you mean


def test_a_duplicated_column_is_refused_and_named(
    client: TestClient, order: tuple[str, dict[str, int]]
) -> None:
    lo, ids = order
    header = f"{C.ORDER_REFERENCE.value},{C.LINE_ID.value},{C.QUANTITY.value},{C.QUANTITY.value}"
    data = f"{header}\r\n{lo},{ids['OP-TIER']},5,6\r\n".encode()
    error = refused(upload(client, data), "IMPORT_COLUMN_DUPLICATED", C.QUANTITY.value)
    assert "columns 3 and 4" in error["message"]


@pytest.mark.parametrize("at_row", [3, 6_500], ids=["early", "past the first staged batch"])
def test_bytes_that_are_not_utf8_are_refused_naming_the_line(
    client: TestClient, order: tuple[str, dict[str, int]], at_row: int
) -> None:
    lo, ids = order
    lines = rows_text(lo, ids, count=at_row + 2).encode().split(b"\r\n")
    lines[at_row] = lines[at_row] + b",caf\xe9"  # Latin-1, as a spreadsheet may save it
    data = b"\r\n".join(lines)
    line = at_row + 1  # physical lines count from 1, the header being line 1
    error = refused(upload(client, data), "IMPORT_FILE_NOT_UTF8", f"line {line}")
    assert f"Line {line}" in error["message"] and "UTF-8" in error["message"]


def test_a_utf16_file_is_refused(client: TestClient, order: tuple[str, dict[str, int]]) -> None:
    lo, ids = order
    response = upload(client, rows_text(lo, ids).encode("utf-16"))
    body = assert_error(response, 422, "IMPORT_FILE_INVALID")
    assert body["errors"][0]["code"] in {"IMPORT_FILE_NOT_UTF8", "IMPORT_FILE_MALFORMED"}


def test_a_quote_never_closed_is_refused_naming_its_line(
    client: TestClient, order: tuple[str, dict[str, int]]
) -> None:
    lo, ids = order
    data = (rows_text(lo, ids) + f'{lo},{ids["OP-0001"]},"7\r\n{lo},1,2\r\n').encode()
    error = refused(upload(client, data), "IMPORT_FILE_MALFORMED", "line 5")
    assert "never closed" in error["message"]


def test_a_file_with_no_order_column_is_refused_row_by_row(client: TestClient) -> None:
    data = f"{C.LINE_ID.value},{C.QUANTITY.value}\r\n1,5\r\n".encode()
    response = upload(client, data)
    assert response.status_code == 202, response.text  # docs/decisions.md: not the file
    job_id = response.json()["jobId"]
    report = client.get(f"{JOBS}/{job_id}/report", headers=ops())
    (row,) = read_csv(report.text)[1]
    assert row["Error Code"] == "F-E-001"
    assert "Order Reference" in row["Error Message"]


# --- refused row by row -------------------------------------------------------------------


def test_a_one_megabyte_cell_fails_its_row_only(client: TestClient) -> None:
    lo, ids = draft_order(client)
    huge = "x" * 1_048_576
    rows = [
        line_row(lo, ids["OP-TIER"], VARIANT_NAME=huge, QUANTITY="5"),
        line_row(lo, ids["OP-0001"], QUANTITY="6", CF_NOTE="y" * 1_048_576),
        line_row("999-" + huge, ids["OP-0001"], QUANTITY="6"),
    ]
    run = run_import(client, rows)
    assert run.outcome(0) == ("ERROR", "F-E-012")
    assert len(run.message(0)) < 500  # the value is not repeated whole
    assert run.outcome(2) == ("ERROR", "F-E-012")
    lines = lines_of(client, lo)
    assert lines["OP-TIER"]["quantity"] == 2
    if run.outcome(1) == ("SUCCESS", ""):  # a long free-text custom field is a value
        assert lines["OP-0001"]["customFields"]["CF-NOTE"] == "y" * 1_048_576
    else:
        assert run.outcome(1)[0] == "ERROR"
        assert lines["OP-0001"]["quantity"] == 2
    assert len(run.report[0][C.VARIANT_NAME]) == 1_048_576  # the report repeats the input


def test_quoted_delimiters_quotes_and_newlines_are_values(client: TestClient) -> None:
    lo, ids = draft_order(client)
    description = 'Two lines,\r\nwith "quotes"; and a comma'
    rows = [
        line_row(lo, ids["OP-TIER"], VARIANT_DESCRIPTION=description, VARIANT_NAME='A "B", C'),
        line_row(lo, ids["OP-0001"], QUANTITY="4"),
    ]
    run = run_import(client, rows)
    assert run.outcomes == [("SUCCESS", ""), ("SUCCESS", "")]
    # Line Number is the record's number, however many physical lines a record spans.
    assert [r["Line Number"] for r in run.report] == ["2", "3"]
    assert run.report[0][C.VARIANT_DESCRIPTION] == description
    lines = lines_of(client, lo)
    assert lines["OP-TIER"]["variantDescription"] == description
    assert lines["OP-TIER"]["variantName"] == 'A "B", C'
    assert lines["OP-0001"]["quantity"] == 4


def test_tabs_and_backslashes_are_values_in_every_cell_and_in_the_history(
    client: TestClient,
) -> None:
    """Staged rows and history entries go to PostgreSQL in COPY's text format, where a tab
    ends a field and a backslash starts an escape: both must arrive as written, in the
    cells, in the keys that place a row (the order reference) and in the history's JSON."""
    lo, ids = draft_order(client)
    description = "tab\there, back\\slash \\N and \\t"
    odd_reference = "NO\tSUCH\\ORDER"
    rows = [
        line_row(lo, ids["OP-TIER"], VARIANT_DESCRIPTION=description),
        line_row(odd_reference, ids["OP-0001"], QUANTITY="4"),
    ]
    run = run_import(client, rows)
    # A tab in an identifier is a control character (F-E-012), but the row is still
    # staged, placed and reported as written.
    assert run.outcomes == [("SUCCESS", ""), ("ERROR", "F-E-012")]
    assert run.report[0][C.VARIANT_DESCRIPTION] == description
    assert run.report[1][C.ORDER_REFERENCE] == odd_reference
    assert lines_of(client, lo)["OP-TIER"]["variantDescription"] == description
    history = client.get(
        f"/v1/operator/commercial-orders/{owner(lo)}/history",
        params={"source": "IMPORT"},
        headers=ops(),
    ).json()["content"]
    (change,) = [c for c in history[0]["changes"] if c["field"] == "variant_description"]
    assert change["after"] == description


def test_a_row_written_with_the_other_delimiter_is_refused_with_a_hint(
    client: TestClient,
) -> None:
    lo, ids = draft_order(client)
    header = f"{C.ORDER_REFERENCE.value},{C.LINE_ID.value},{C.QUANTITY.value}"
    data = f"{header}\r\n{lo};{ids['OP-TIER']};5\r\n{lo},{ids['OP-0001']},6\r\n".encode()
    run = run_import(client, data)
    assert run.outcomes == [("ERROR", "F-E-001"), ("SUCCESS", "")]
    assert "delimiter" in run.message(0)
    lines = lines_of(client, lo)
    assert (lines["OP-TIER"]["quantity"], lines["OP-0001"]["quantity"]) == (2, 6)


def test_a_semicolon_file_with_a_bom_is_read(client: TestClient) -> None:
    lo, ids = draft_order(client)
    data = csv_bytes(
        [line_row(lo, ids["OP-TIER"], QUANTITY="8", VARIANT_NAME="a, b")], None, ";", True
    )
    assert run_import(client, data).outcomes == [("SUCCESS", "")]
    line = lines_of(client, lo)["OP-TIER"]
    assert (line["quantity"], line["variantName"]) == (8, "a, b")


def test_more_fields_than_columns_fail_the_row(client: TestClient) -> None:
    lo, ids = draft_order(client)
    header = f"{C.ORDER_REFERENCE.value},{C.LINE_ID.value},{C.QUANTITY.value}"
    data = (
        f"{header}\r\n{lo},{ids['OP-TIER']},5,surplus\r\n"
        f"{lo},{ids['OP-0001']},6,,\r\n"  # empty trailing fields lose nothing
    ).encode()
    run = run_import(client, data)
    assert run.outcomes == [("ERROR", "F-E-012"), ("SUCCESS", "")]
    assert "more fields" in run.message(0)
    lines = lines_of(client, lo)
    assert (lines["OP-TIER"]["quantity"], lines["OP-0001"]["quantity"]) == (2, 6)


def test_fewer_fields_than_columns_leave_the_missing_cells_empty(client: TestClient) -> None:
    lo, ids = draft_order(client)
    header = (
        f"{C.ORDER_REFERENCE.value},{C.LINE_ID.value},{C.QUANTITY.value},{C.VARIANT_NAME.value}"
    )
    data = f"{header}\r\n{lo},{ids['OP-TIER']},5\r\n".encode()
    assert run_import(client, data).outcomes == [("SUCCESS", "")]
    line = lines_of(client, lo)["OP-TIER"]
    assert (line["quantity"], line["variantName"]) == (5, "Item V-TIER")


def test_the_same_line_twice_fails_on_the_repeat_whichever_way_it_is_written(
    client: TestClient,
) -> None:
    lo, ids = draft_order(client)
    rows = [
        line_row(lo, ids["OP-TIER"], QUANTITY="5"),
        line_row(f" {lo} ", f" {ids['OP-TIER']}", QUANTITY="6"),  # spaces around
    ]
    run = run_import(client, rows)
    assert run.outcomes == [("SUCCESS", ""), ("ERROR", "F-E-003")]
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 5


def test_a_nul_in_a_cell_fails_its_row(client: TestClient) -> None:
    lo, ids = draft_order(client)
    rows = [
        line_row(lo + "\x00", ids["OP-TIER"], QUANTITY="5"),
        line_row(lo, ids["OP-TIER"], VARIANT_NAME="a\x00b"),
        line_row(lo, ids["OP-0001"], QUANTITY="6"),
    ]
    run = run_import(client, rows)
    assert [code for _, code in run.outcomes] == ["F-E-012", "F-E-012", ""]
    assert lines_of(client, lo)["OP-0001"]["quantity"] == 6


def test_blank_rows_keep_their_numbers_and_ask_for_nothing(client: TestClient) -> None:
    lo, ids = draft_order(client)
    header = f"{C.ORDER_REFERENCE.value},{C.LINE_ID.value},{C.QUANTITY.value}"
    data = f"{header}\r\n,,\r\n{lo},{ids['OP-TIER']},5\r\n".encode()
    run = run_import(client, data)
    assert [(r["Line Number"], r["Result"]) for r in run.report] == [("3", "SUCCESS")]
    assert run.job["total"] == 1


# --- the upload itself ---------------------------------------------------------------------


@pytest.fixture
def small_upload_app(app: FastAPI, jobs: SyncDispatcher) -> Iterator[TestClient]:
    """The same database behind an app whose upload limit is 2 KB."""
    settings = app.state.settings.model_copy(update={"import_max_bytes": 2_048})
    small = create_app(settings)
    small.state.dispatcher = jobs
    with TestClient(small) as test_client:
        yield test_client
    small.state.engine.dispose()


def test_an_upload_over_the_limit_is_413(client: TestClient, small_upload_app: TestClient) -> None:
    lo, ids = draft_order(client)
    fits = csv_bytes([line_row(lo, ids["OP-TIER"], QUANTITY="5")])
    assert upload(small_upload_app, fits).status_code == 202
    too_big = csv_bytes([line_row(lo, ids["OP-0001"], QUANTITY="6", VARIANT_NAME="n" * 3_000)])
    response = upload(small_upload_app, too_big)
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    lines = lines_of(client, lo)
    assert (lines["OP-TIER"]["quantity"], lines["OP-0001"]["quantity"]) == (5, 2)


def test_an_unknown_import_type_is_422(client: TestClient) -> None:
    lo, ids = draft_order(client)
    data = csv_bytes([line_row(lo, ids["OP-TIER"], QUANTITY="5")])
    response = upload(client, data, import_type="PRODUCT_UPDATE")
    body = assert_error(response, 422, "IMPORT_TYPE_UNKNOWN")
    assert "INTERNAL_ORDER_UPDATE" in body["message"]
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 2


def test_an_upload_without_a_file_is_422(client: TestClient) -> None:
    response = client.post(JOBS, data={"type": "INTERNAL_ORDER_UPDATE"}, headers=ops())
    assert response.status_code == 422


def test_import_jobs_are_for_operators_only(client: TestClient) -> None:
    lo, ids = draft_order(client)
    data = csv_bytes([line_row(lo, ids["OP-TIER"], QUANTITY="5")])
    response = upload(client, data, headers=headers())  # an ACCOUNT key
    assert response.status_code == 403
    job_id = run_import(client, data).job["jobId"]
    assert client.get(f"{JOBS}/{job_id}", headers=headers()).status_code == 403
    assert client.get(f"{JOBS}/{job_id}/report", headers=headers()).status_code == 403
    assert client.get("/v1/operator/orders/export", headers=headers()).status_code == 403
    assert client.get(f"{JOBS}/{job_id}", headers={"dj-client": "OPERATOR"}).status_code == 401


def test_an_unknown_job_is_404(client: TestClient) -> None:
    assert_error(client.get(f"{JOBS}/no-such-job", headers=ops()), 404, "IMPORT_JOB_NOT_FOUND")
    assert_error(
        client.get(f"{JOBS}/no-such-job/report", headers=ops()), 404, "IMPORT_JOB_NOT_FOUND"
    )
