"""`ordersync export` and `ordersync import`: the same services as the API, from a shell —
export, edit, import, read the report."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ordersync import bootstrap, cli
from ordersync.settings import Settings
from tests.bundle import KEY_1, KEY_OPS
from tests.integration.imports.helpers import SyncDispatcher, draft_order, lines_of


@pytest.fixture
def shell(app: FastAPI, database_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(cli, "get_settings", lambda: Settings(database_url=database_url))
    if database_url.startswith("postgresql"):
        # No `ordersync worker` in a test: the job runs in the command's thread instead.
        monkeypatch.setattr(
            bootstrap, "dispatcher_for", lambda _settings, factory: SyncDispatcher(factory)
        )
    return CliRunner()


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_export_edit_import_from_the_command_line(
    client: TestClient, shell: CliRunner, tmp_path: Path
) -> None:
    lo, ids = draft_order(client)
    exported = tmp_path / "orders.csv"

    result = shell.invoke(cli.app, ["export", str(exported), "--status", "DRAFT_ORDER"])
    assert result.exit_code == 0, result.output
    rows = [r for r in read(exported) if r["Order Reference"] == lo]
    assert {int(r["Order Line Id"]) for r in rows} == set(ids.values())

    for row in rows:
        row["Order Line Quantity"] = "9"
    edited = tmp_path / "edited.csv"
    write(edited, rows)
    report = tmp_path / "report.csv"
    result = shell.invoke(
        cli.app, ["import", str(edited), "--api-key", KEY_OPS, "--report", str(report)]
    )

    assert result.exit_code == 0, result.output
    assert "SUCCEEDED" in result.output
    assert {r["Result"] for r in read(report)} == {"SUCCESS"}
    assert {line["quantity"] for line in lines_of(client, lo).values()} == {9}


def test_a_row_that_fails_makes_the_command_fail_and_the_report_says_why(
    client: TestClient, shell: CliRunner, tmp_path: Path
) -> None:
    lo, ids = draft_order(client)
    file = tmp_path / "bad.csv"
    file.write_text(
        "Order Reference,Order Line Id,Order Line Quantity\r\n"
        f"{lo},{ids['OP-TIER']},4\r\n{lo},{ids['OP-0001']},-1\r\n",
        encoding="utf-8",
    )

    result = shell.invoke(cli.app, ["import", str(file), "--api-key", KEY_OPS, "--dry-run"])

    assert result.exit_code == 1, result.output
    assert "PARTIALLY_SUCCEEDED" in result.output
    (report,) = tmp_path.glob("bad-report-*.csv")
    assert [(r["Result"], r["Error Code"]) for r in read(report)] == [
        ("SUCCESS", ""),
        ("ERROR", "F-E-007"),
    ]
    assert lines_of(client, lo)["OP-TIER"]["quantity"] == 2  # a dry run


def test_only_an_operator_key_may_import(shell: CliRunner, tmp_path: Path) -> None:
    file = tmp_path / "any.csv"
    file.write_text("Order Reference,Order Line Id,Order Line Quantity\r\n", encoding="utf-8")

    result = shell.invoke(cli.app, ["import", str(file), "--api-key", KEY_1])

    assert result.exit_code == 1
    assert "Unknown API key" in result.output
