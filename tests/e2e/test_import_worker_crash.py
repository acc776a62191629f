"""A worker killed mid-import (SIGKILL) loses nothing and applies nothing twice (SPEC §4):
on PostgreSQL, a real `ordersync worker` running a job uploaded to a real `ordersync
serve` is killed once some rows have results and before all do; another worker takes the
stalled task over (procrastinate's stalled-job retry) and finishes the job. The orders and
the report then equal those of an uninterrupted run of the same file on an identical copy
of the data, and every order's version moved exactly as much (a chunk applied twice would
move it twice)."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from ordersync.adapters.db.migrate import upgrade
from ordersync.bootstrap import unit_of_work_factory
from ordersync.services.data_bundle import load_bundle
from ordersync.settings import Settings
from tests import bulk_orders
from tests.bundle import KEY_OPS, catalog_bundle
from tests.databases import postgres_database
from tests.server_process import ROOT, served_process

pytestmark = pytest.mark.e2e

ORDERS, LINES = 600, 20  # 12,000 rows: several chunks per partition
STALLED_AFTER_S = 2  # a dead worker's task is taken over after this
OPS = {"dj-client": "OPERATOR", "dj-api-key": KEY_OPS}
JOBS = "/v1/operator/import-jobs"
EXPORT = "/v1/operator/orders/export"
FINISHED = {"SUCCEEDED", "PARTIALLY_SUCCEEDED", "FAILED"}
JOB_TIMEOUT_S = 300


@dataclass
class Outcome:
    job: dict[str, Any]
    report: str
    export: str
    versions: dict[str, int]


def _prepared(url: str) -> None:
    upgrade(url)  # procrastinate's schema too
    factory, engine = unit_of_work_factory(Settings(database_url=url))
    try:
        load_bundle(factory(), catalog_bundle())
        bulk_orders.create_orders(engine, ORDERS, LINES)
    finally:
        engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def two_databases(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """Two PostgreSQL databases holding identical orders (same ids, same lines)."""
    if request.param == "sqlite":
        pytest.skip(
            "on SQLite import jobs run inside `ordersync serve` (no worker process to kill); "
            "the queue and its workers are PostgreSQL's"
        )
    with postgres_database() as crashed, postgres_database() as uninterrupted:
        _prepared(crashed)
        _prepared(uninterrupted)
        yield crashed, uninterrupted


def env_for(url: str) -> dict[str, str]:
    return {
        "ORDERSYNC_DATABASE_URL": url,
        "ORDERSYNC_LOG_LEVEL": "WARNING",
        "ORDERSYNC_QUEUE_STALLED_AFTER_S": str(STALLED_AFTER_S),
    }


@contextmanager
def worker(url: str, log: IO[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ordersync.cli", "worker"],
        env={**os.environ, **env_for(url)},
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def changed_file(exported: str) -> bytes:
    """The export with every quantity changed, one logistic order in ten shipping elsewhere,
    and one row in fifty refused (quantity 0)."""
    reader = csv.DictReader(io.StringIO(exported, newline=""))
    assert reader.fieldnames is not None
    out = io.StringIO()
    writer = csv.DictWriter(out, reader.fieldnames, lineterminator="\r\n")
    writer.writeheader()
    for n, row in enumerate(reader):
        line_id = int(row["Order Line Id"])
        row["Order Line Quantity"] = "0" if n % 50 == 49 else str(3 + line_id % 7)
        if int(row["Order Reference"][3:12]) % 10 == 0:
            row["Shipping Address City"] = "Rouen"
            row["Shipping Address Zip Code"] = "76000"
        writer.writerow(row)
    return out.getvalue().encode()


def upload(client: httpx.Client, data: bytes) -> str:
    response = client.post(
        JOBS,
        files={"file": ("changed.csv", data, "text/csv")},
        data={"type": "INTERNAL_ORDER_UPDATE"},
        headers=OPS,
    )
    assert response.status_code == 202, response.text
    job_id: str = response.json()["jobId"]
    return job_id


def job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    response = client.get(f"{JOBS}/{job_id}", headers=OPS)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_finished(client: httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while (current := job(client, job_id))["status"] not in FINISHED:
        assert time.monotonic() < deadline, f"job not finished: {current}"
        time.sleep(0.2)
    return current


def outcome(client: httpx.Client, url: str, job_id: str) -> Outcome:
    finished = wait_finished(client, job_id)
    report = client.get(f"{JOBS}/{job_id}/report", headers=OPS)
    export = client.get(EXPORT, headers=OPS)
    assert report.status_code == export.status_code == 200
    return Outcome(finished, report.text, export.text, versions(url))


def test_a_worker_killed_mid_job_is_taken_over_without_loss_or_repeat(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    crashed_url, uninterrupted_url = two_databases
    log_path = tmp_path / "workers.log"
    with (
        log_path.open("ab") as log,
        served_process(env_for(crashed_url), args=("--workers", "1")) as server,
        httpx.Client(base_url=server.base_url, timeout=120) as client,
    ):
        exported = client.get(EXPORT, headers=OPS)
        assert exported.status_code == 200
        data = changed_file(exported.text)
        assert data.count(b"\r\n") == ORDERS * LINES + 1
        before = versions(crashed_url)

        with worker(crashed_url, log) as first:
            job_id = upload(client, data)
            deadline = time.monotonic() + JOB_TIMEOUT_S
            while True:
                current = job(client, job_id)
                if 0 < current["processed"] < current["total"]:
                    first.send_signal(signal.SIGKILL)
                    first.wait()
                    break
                assert current["status"] not in FINISHED, "the job ended before the kill"
                assert time.monotonic() < deadline, f"no row was processed: {current}"
                time.sleep(0.02)
        killed_at = job(client, job_id)
        assert 0 < killed_at["processed"] < killed_at["total"], killed_at
        assert killed_at["status"] == "RUNNING"

        with worker(crashed_url, log):
            crashed = outcome(client, crashed_url, job_id)

    with (
        log_path.open("ab") as log,
        served_process(env_for(uninterrupted_url), args=("--workers", "1")) as server,
        httpx.Client(base_url=server.base_url, timeout=120) as client,
        worker(uninterrupted_url, log),
    ):
        assert client.get(EXPORT, headers=OPS).text == exported.text  # identical data
        uninterrupted = outcome(client, uninterrupted_url, upload(client, data))

    counts = ("status", "total", "processed", "succeeded", "failed")
    assert [crashed.job[k] for k in counts] == [uninterrupted.job[k] for k in counts]
    assert crashed.job["status"] == "PARTIALLY_SUCCEEDED"
    assert crashed.job["failed"] == ORDERS * LINES // 50
    assert crashed.report == uninterrupted.report
    assert crashed.export == uninterrupted.export
    assert crashed.export != exported.text
    # Every order moved once per chunk that touched it, as in the uninterrupted run.
    assert crashed.versions == uninterrupted.versions
    assert crashed.versions != before


def versions(url: str) -> dict[str, int]:
    """Each commercial order's version, by reference."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT reference, version FROM commercial_orders"))
            return {reference: version for reference, version in rows}
    finally:
        engine.dispose()
