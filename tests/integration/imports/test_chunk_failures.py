"""A chunk whose write fails, on both databases: on PostgreSQL the next chunk is already read
and applied (jobs.imports runs the two at once) and must be dropped unwritten; on SQLite
chunks run in turn. Either way every row is applied exactly once: its history entry once,
its line changed, and the job's counts right."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ordersync.domain.errors import DuplicateValue
from ordersync.jobs import imports
from tests.integration.imports.helpers import (
    SyncDispatcher,
    csv_bytes,
    draft_order,
    line_row,
    lines_of,
    upload,
    version,
    wait_finished,
)
from tests.integration.operator_helpers import ops as ops_headers
from tests.integration.operator_helpers import owner

OFFERS = [f"OP-{n:04d}" for n in range(1, 13, 2)]  # SUP-A's: one logistic order, six lines


class Queue(SyncDispatcher):
    """Keeps the job queued: the test runs its partitions."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.queued: list[tuple[str, int]] = []

    def enqueue_import(self, job_id: str, partitions: int) -> None:
        self.queued.append((job_id, partitions))


@pytest.fixture
def queue(app: FastAPI) -> Iterator[Queue]:
    original = app.state.dispatcher
    app.state.dispatcher = Queue(app.state.uow_factory)
    yield app.state.dispatcher
    app.state.dispatcher = original


def failing_write(monkeypatch: pytest.MonkeyPatch, on_call: int, error: Exception) -> list[int]:
    """jobs.imports' write_chunk, raising `error` on its `on_call`-th call only."""
    calls: list[int] = []
    write = imports.write_chunk

    def write_chunk(*args: Any) -> None:
        calls.append(len(calls) + 1)
        if len(calls) == on_call:
            raise error
        write(*args)

    monkeypatch.setattr(imports, "write_chunk", write_chunk)
    return calls


def queued_job(client: TestClient, queue: Queue) -> tuple[str, int, str]:
    """A job of six rows over the six lines of one order, queued: its id, partitions, and
    the logistic order's reference."""
    lo, ids = draft_order(client, OFFERS)
    rows = [line_row(lo, ids[offer], QUANTITY="9") for offer in OFFERS]
    response = upload(client, csv_bytes(rows))
    assert response.status_code == 202, response.text
    ((job_id, partitions),) = queue.queued
    return job_id, partitions, lo


def run_all(app: FastAPI, job_id: str, partitions: int) -> None:
    for partition in range(partitions):
        imports.run_partition(app.state.uow_factory, job_id, partition, chunk_rows=1)


def import_entries(client: TestClient, lo: str) -> list[int]:
    history = client.get(
        f"/v1/operator/commercial-orders/{owner(lo)}/history",
        params={"source": "IMPORT", "size": 100},
        headers=ops_headers(),
    ).json()["content"]
    return sorted(entry["lineNumber"] for entry in history)


def test_a_chunk_meeting_a_taken_external_id_is_done_again_a_row_at_a_time_once(
    client: TestClient, app: FastAPI, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id, partitions, lo = queued_job(client, queue)
    before = version(client, owner(lo))
    calls = failing_write(monkeypatch, 2, DuplicateValue("taken meanwhile"))

    run_all(app, job_id, partitions)

    finished = wait_finished(client, job_id)
    assert (finished["status"], finished["succeeded"], finished["failed"]) == ("SUCCEEDED", 6, 0)
    assert {line["quantity"] for line in lines_of(client, lo).values()} == {9}
    assert import_entries(client, lo) == [2, 3, 4, 5, 6, 7]  # one entry per row
    assert version(client, owner(lo)) == before + 6  # one write per row, none repeated
    # Six chunks and the failed one's second try: on PostgreSQL the chunk read meanwhile was
    # dropped and read again, which adds no write.
    assert len(calls) == 7


def test_a_failed_write_drops_what_was_read_meanwhile_and_a_new_run_resumes(
    client: TestClient, app: FastAPI, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id, partitions, lo = queued_job(client, queue)
    before = version(client, owner(lo))
    failing_write(monkeypatch, 3, RuntimeError("the connection dropped"))

    with pytest.raises(RuntimeError, match="connection dropped"):
        run_all(app, job_id, partitions)

    progress = client.get(f"/v1/operator/import-jobs/{job_id}", headers=ops_headers()).json()
    assert (progress["status"], progress["processed"]) == ("RUNNING", 2)
    quantities = [lines_of(client, lo)[offer]["quantity"] for offer in OFFERS]
    assert quantities == [9, 9, 2, 2, 2, 2]  # the first two chunks committed, nothing else
    assert import_entries(client, lo) == [2, 3]
    assert version(client, owner(lo)) == before + 2

    monkeypatch.undo()  # the writes work again
    run_all(app, job_id, partitions)

    finished = wait_finished(client, job_id)
    assert (finished["status"], finished["succeeded"]) == ("SUCCEEDED", 6)
    assert {line["quantity"] for line in lines_of(client, lo).values()} == {9}
    assert import_entries(client, lo) == [2, 3, 4, 5, 6, 7]
    assert version(client, owner(lo)) == before + 6
