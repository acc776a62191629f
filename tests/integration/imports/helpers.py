"""Helpers of the CSV import tests: a dispatcher that runs jobs at once, files built from
rows, an upload that waits for its job, the report and the export read back as rows.

Integration tests run the job code in the test process: `SyncDispatcher` runs every
partition in the uploading request's thread (on both databases, so tests are
deterministic); `BackgroundDispatcher` runs them on a thread the test joins.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.imports import DEFAULT_CHUNK_ROWS, Column
from ordersync.jobs.dispatch import UnfinishedPartitions
from ordersync.jobs.imports import run_partition
from tests.bundle import KEY_1
from tests.integration.operator_helpers import any_order, logistic_refs, order_with, owner
from tests.integration.operator_helpers import ops as ops_headers

JOBS = "/v1/operator/import-jobs"
EXPORT = "/v1/operator/orders/export"
C = Column
SEED_COLUMNS = [column.value for column in Column]
REPORT_TAIL = ["Line Number", "Result", "Error Code", "Error Message"]
FINISHED = {"SUCCEEDED", "PARTIALLY_SUCCEEDED", "FAILED"}


class SyncDispatcher:
    """Runs each partition of a job as soon as the job is committed, in the caller's
    thread: the upload answers once the job is finished. `chunk_rows` small makes rows of
    one file land in different chunks (transactions)."""

    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], chunk_rows: int = DEFAULT_CHUNK_ROWS
    ) -> None:
        self.uow_factory = uow_factory
        self.chunk_rows = chunk_rows
        self.jobs: list[str] = []

    def enqueue_import(self, job_id: str, partitions: int) -> None:
        self.jobs.append(job_id)
        for partition in range(partitions):
            run_partition(self.uow_factory, job_id, partition, self.chunk_rows)

    def resume_unfinished(self, list_unfinished: UnfinishedPartitions) -> None:
        """Jobs left unfinished by other tests stay as they are."""

    def close(self, wait: bool = False) -> None:
        pass


class BackgroundDispatcher(SyncDispatcher):
    """Runs a job's partitions one after the other on a thread of its own; `join` waits."""

    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], chunk_rows: int = DEFAULT_CHUNK_ROWS
    ) -> None:
        super().__init__(uow_factory, chunk_rows)
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def enqueue_import(self, job_id: str, partitions: int) -> None:
        def run() -> None:
            try:
                SyncDispatcher.enqueue_import(self, job_id, partitions)
            except BaseException as exc:  # reported by join()
                self.errors.append(exc)

        thread = threading.Thread(target=run, name=f"import-{job_id}", daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self, timeout: float = 120) -> None:
        for thread in self.threads:
            thread.join(timeout)
            assert not thread.is_alive(), "the import job did not finish in time"
        assert not self.errors, self.errors


# --- files -------------------------------------------------------------------------------


def cells(**values: str) -> dict[str, str]:
    """A row by Column member name (`QUANTITY="3"`) or, for custom fields, by external id
    written with underscores (`CF_NOTE="x"`)."""
    out: dict[str, str] = {}
    for name, value in values.items():
        out[C[name].value if name in C.__members__ else name.replace("_", "-")] = value
    return out


def line_row(lo_reference: str, line_id: int | str, **values: str) -> dict[str, str]:
    """A row naming a line by its logistic order's reference and its id."""
    return {C.ORDER_REFERENCE.value: lo_reference, C.LINE_ID.value: str(line_id)} | cells(**values)


def csv_bytes(
    rows: Sequence[Mapping[str, str]],
    columns: Sequence[str] | None = None,
    delimiter: str = ",",
    bom: bool = False,
) -> bytes:
    """A UTF-8 CSV of `rows` (missing cells empty); columns default to every name the rows
    use, in the order they first appear."""
    if columns is None:
        seen: dict[str, None] = {}
        for row in rows:
            seen.update(dict.fromkeys(row))
        columns = list(seen)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(name, "") for name in columns])
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8")


def read_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


# --- jobs -------------------------------------------------------------------------------


def upload(
    client: TestClient,
    data: bytes,
    *,
    dry_run: bool = False,
    import_type: str = "INTERNAL_ORDER_UPDATE",
    headers: Mapping[str, str] | None = None,
    file_name: str = "orders.csv",
) -> Any:
    return client.post(
        JOBS,
        files={"file": (file_name, data, "text/csv")},
        data={"type": import_type, "dryRun": "true" if dry_run else "false"},
        headers=dict(headers or ops_headers()),
    )


def job(client: TestClient, job_id: str) -> dict[str, Any]:
    response = client.get(f"{JOBS}/{job_id}", headers=ops_headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_finished(client: TestClient, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        current = job(client, job_id)
        if current["status"] in FINISHED:
            return current
        assert time.monotonic() < deadline, f"job {job_id} still {current['status']}"
        time.sleep(0.05)


def report(client: TestClient, job_id: str) -> list[dict[str, str]]:
    response = client.get(f"{JOBS}/{job_id}/report", headers=ops_headers())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    header, rows = read_csv(response.text)
    assert header[-4:] == REPORT_TAIL
    return rows


@dataclass
class ImportRun:
    job: dict[str, Any]
    report: list[dict[str, str]]

    @property
    def outcomes(self) -> list[tuple[str, str]]:
        """(Result, Error Code) per row, in file order."""
        return [(r["Result"], r["Error Code"]) for r in self.report]

    def outcome(self, index: int = 0) -> tuple[str, str]:
        return self.outcomes[index]

    def message(self, index: int = 0) -> str:
        return self.report[index]["Error Message"]


def run_import(
    client: TestClient,
    rows: Sequence[Mapping[str, str]] | bytes,
    *,
    dry_run: bool = False,
    columns: Sequence[str] | None = None,
) -> ImportRun:
    """Upload a file (rows, or the bytes of one), wait for its job, read its report."""
    data = rows if isinstance(rows, bytes) else csv_bytes(rows, columns)
    response = upload(client, data, dry_run=dry_run)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert set(accepted) == {"jobId", "status"}
    finished = wait_finished(client, accepted["jobId"])
    return ImportRun(finished, report(client, accepted["jobId"]))


def imported(client: TestClient, *rows: Mapping[str, str]) -> tuple[str, str]:
    """Import one row (or a few) and give the first row's (Result, Error Code)."""
    return run_import(client, list(rows)).outcome(0)


# --- export and orders ------------------------------------------------------------------------


def export(client: TestClient, **params: Any) -> tuple[list[str], list[dict[str, str]]]:
    response = client.get(EXPORT, params=params, headers=ops_headers())
    assert response.status_code == 200, response.text
    return read_csv(response.text)


def export_bytes(header: Sequence[str], rows: Iterable[Mapping[str, str]]) -> bytes:
    return csv_bytes(list(rows), header)


def lo_of(client: TestClient, lo_reference: str) -> dict[str, Any]:
    order = any_order(client, owner(lo_reference))
    found: dict[str, Any] = next(
        lo for lo in order["logisticOrders"] if lo["reference"] == lo_reference
    )
    return found


def lines_of(client: TestClient, lo_reference: str) -> dict[str, dict[str, Any]]:
    """A logistic order's lines by offer price external id."""
    return {line["offerPriceExternalId"]: line for line in lo_of(client, lo_reference)["lines"]}


def version(client: TestClient, reference: str) -> int:
    return int(any_order(client, reference)["version"])


def draft_order(
    client: TestClient, offers: Sequence[str] = ("OP-TIER", "OP-0001"), key: str = KEY_1
) -> tuple[str, dict[str, int]]:
    """A draft order of one logistic order (offers of one supplier, 2 units each): its
    reference and its line ids by offer price external id."""
    (lo_reference,) = logistic_refs(client, order_with(client, list(offers), key)).values()
    ids = {offer: int(line["id"]) for offer, line in lines_of(client, lo_reference).items()}
    return lo_reference, ids
