"""The operator page's imports, reports, exports and order lookup, through its forms."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ordersync.api.admin.session import SESSION_COOKIE, encode_key
from ordersync.api.app import create_app
from ordersync.settings import Settings
from tests.bundle import KEY_OPS
from tests.integration.admin.pages import signed_in, upload
from tests.integration.imports.helpers import (
    REPORT_TAIL,
    csv_bytes,
    draft_order,
    line_row,
    lines_of,
    read_csv,
)
from tests.integration.operator_helpers import owner

SCRIPT = "<script>alert(1)</script>"


def _job_path(answer: object) -> str:
    location: str = answer.headers["location"]  # type: ignore[attr-defined]
    assert re.fullmatch(r"/admin/jobs/[0-9a-f]{32}", location), location
    return location


def test_an_upload_with_a_bad_row_ends_partially_succeeded_with_its_report(
    page: TestClient,
) -> None:
    lo, ids = draft_order(page)
    token = signed_in(page)
    data = csv_bytes(
        [
            line_row(lo, ids["OP-TIER"], QUANTITY="7"),
            line_row("999-999-9999999-1", ids["OP-0001"], QUANTITY="3"),
        ]
    )

    job_path = _job_path(upload(page, token, data, file_name="week-12.csv"))

    job = page.get(job_path)
    assert job.status_code == 200
    assert "PARTIALLY_SUCCEEDED" in job.text
    assert '<progress id="progress" max="2" value="2">' in job.text
    assert '<dd id="succeeded">1</dd>' in job.text and '<dd id="failed">1</dd>' in job.text
    assert 'http-equiv="refresh"' not in job.text  # a finished job's page stays still
    report = page.get(f"{job_path}/report.csv")
    assert report.headers["content-type"].startswith("text/csv")
    assert "attachment" in report.headers["content-disposition"]
    header, rows = read_csv(report.text)
    assert header[-4:] == REPORT_TAIL
    assert [(r["Result"], r["Error Code"]) for r in rows] == [
        ("SUCCESS", ""),
        ("ERROR", "F-E-002"),
    ]
    assert lines_of(page, lo)["OP-TIER"]["quantity"] == 7
    dashboard = page.get("/admin").text
    assert job_path in dashboard and "week-12.csv" in dashboard


def test_a_dry_run_from_the_page_changes_nothing(page: TestClient) -> None:
    lo, ids = draft_order(page)
    token = signed_in(page)

    job_path = _job_path(
        upload(page, token, csv_bytes([line_row(lo, ids["OP-TIER"], QUANTITY="9")]), dry_run=True)
    )

    assert "Dry run" in page.get(job_path).text and "SUCCEEDED" in page.get(job_path).text
    assert lines_of(page, lo)["OP-TIER"]["quantity"] == 2


def test_a_refused_file_shows_why_on_a_page(page: TestClient) -> None:
    token = signed_in(page)

    answer = upload(page, token, b"Order Reference,Colour\r\n260-211-8089581-1,red\r\n")

    assert answer.status_code == 422
    assert "text/html" in answer.headers["content-type"]
    assert "IMPORT_FILE_INVALID" in answer.text and "Colour" in answer.text
    missing = page.post("/admin/imports", data={"csrf_token": token})
    assert missing.status_code == 422 and "Choose a CSV file" in missing.text


def test_the_page_escapes_what_the_data_holds(page: TestClient) -> None:
    lo, ids = draft_order(page)
    token = signed_in(page)
    row = line_row(lo, ids["OP-TIER"], VARIANT_NAME=SCRIPT)

    job_path = _job_path(upload(page, token, csv_bytes([row]), file_name=f"{SCRIPT}.csv"))

    assert "SUCCEEDED" in page.get(job_path).text
    order = page.get(f"/admin/orders/{owner(lo)}").text
    dashboard = page.get("/admin").text
    for html in (order, dashboard):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert SCRIPT not in html


def test_an_order_shows_its_logistic_orders_lines_and_a_history_section(
    page: TestClient,
) -> None:
    lo, ids = draft_order(page)
    signed_in(page)

    order = page.get(f"/admin/orders/{owner(lo)}")

    assert order.status_code == 200
    assert f"Order {owner(lo)}" in order.text
    assert lo in order.text and "DRAFT_ORDER" in order.text and "SUP-A" in order.text
    for offer, line_id in ids.items():
        assert offer in order.text and f'<td class="num">{line_id}</td>' in order.text
    assert '<section class="card" id="history">' in order.text
    assert "History is not available" in order.text or "entries, newest first" in order.text


def test_an_order_is_found_by_its_reference_or_a_logistic_order_reference(
    page: TestClient,
) -> None:
    lo, _ = draft_order(page)
    signed_in(page)

    for given in (owner(lo), lo, f"  {lo} "):
        found = page.get("/admin/orders", params={"reference": given}, follow_redirects=False)
        assert found.status_code == 303
        assert found.headers["location"] == f"/admin/orders/{owner(lo)}"
    missing = page.get("/admin/orders", params={"reference": "999-999-9999999"})
    assert missing.status_code == 404
    assert "ORDER_NOT_FOUND" in missing.text and "999-999-9999999" in missing.text


def test_the_export_form_downloads_the_matching_orders(page: TestClient) -> None:
    lo, ids = draft_order(page)
    signed_in(page)

    answer = page.get(
        "/admin/export.csv",
        params={"account": "ACC-1", "supplier": "", "status": "DRAFT_ORDER", "created_from": ""},
    )

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    header, rows = read_csv(answer.text)
    assert header[:2] == ["Order External Id", "Order Reference"]
    assert {r["Order Line Id"] for r in rows if r["Order Reference"] == lo} == {
        str(i) for i in ids.values()
    }
    later = page.get("/admin/export.csv", params={"created_from": "2999-01-01"})
    assert read_csv(later.text)[1] == []
    wrong = page.get("/admin/export.csv", params={"created_to": "yesterday"})
    assert wrong.status_code == 422 and "must be a date" in wrong.text


@pytest.fixture
def small_limits(database_url: str) -> Iterator[FastAPI]:
    app = create_app(
        Settings(database_url=database_url, max_body_bytes=65_536, import_max_bytes=200_000)
    )
    yield app
    app.state.engine.dispose()


def test_the_upload_takes_the_import_limit_not_the_body_limit(small_limits: FastAPI) -> None:
    page = TestClient(small_limits, base_url="https://testserver")
    page.cookies.set(SESSION_COOKIE, encode_key(KEY_OPS), path="/admin")

    # Past the body limit, within the import limit: read, then refused for its token only.
    assert upload(page, "not-the-token", b"x" * 100_000).status_code == 403
    assert upload(page, "not-the-token", b"x" * 300_000).status_code == 413
