#!/usr/bin/env python
"""Real-time pricing and CPQ push latency on PostgreSQL (issue 10).

On a throwaway PostgreSQL database holding the test catalog (tests/bundle.py), through the
whole HTTP stack (by default the real `ordersync serve` process, called over loopback HTTP;
`--transport in-process` calls the app through TestClient), with both outside systems run as
the shipped simulators in processes of their own (`ordersync simulate pricing` and
`ordersync simulate cpq`, over loopback HTTP, the pricing one reading the same database), it
measures on an order of 200 lines in RTP mode:

- PUT /v1/shop/commercial-orders/{ref}/sync with the pricing system answering in 20 ms,
  (a) when nothing changed (204), and (b) when every line was repriced: ACC-1's GOLD
  discount alternates between two values on the simulator (set before each call, outside
  the timing), so each call rewrites every line (200, one PRICE_CHANGED per line). The
  pricing calls of every synchronise are read from the simulator's /_stats before and after
  it: each must be exactly 1.
- POST /v1/shop/commercial-orders/{ref}/actions/synchronize (the CPQ push; an update of the
  transaction after the first) with CPQ answering in 50 ms.
- For reference, the same 200-line synchronise in STANDARD mode (no outside call, no
  target here): how fast this machine is right now, to read the figures above against
  benchmarks/sync.py's.

Targets (issue 10): synchronise p99 <= 100 ms with exactly one pricing call each; CPQ push
p99 <= 150 ms. The last line, for scripts, gives the worse of the two synchronise cases:
    rtp: sync200 p99=<ms> pricing_calls_per_sync=<n>; cpq200 p99=<ms>

Run:
    .venv/bin/python benchmarks/rtp.py
    .venv/bin/python benchmarks/rtp.py --iterations 100 --database-url postgresql://...
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from _common import (
    ROOT,
    add_database_options,
    percentiles,
    print_machine,
    print_table,
    quiet_logging,
    running_app,
    throwaway_database,
    time_calls,
    verdict,
)
from fastapi import FastAPI
from tests.bundle import KEY_1, catalog_bundle
from tests.server_process import free_port
from tests.simulator_servers import SimulatorServer

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.services.data_bundle import load_bundle

LINES = 200
SYNC_TARGET_MS = 100.0
CPQ_TARGET_MS = 150.0
DISCOUNTS = ("6", "5")  # GOLD percent; the simulator's default is 5: the first call reprices
HEADERS = {"dj-client": "ACCOUNT", "dj-api-key": KEY_1}
SIMULATOR_READY_WITHIN_S = 30.0


@dataclass
class Case:
    name: str
    samples: list[float]
    target_ms: float | None


def expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise SystemExit(
            f"{response.request.method} {response.request.url.path}: expected {status}, "
            f"got {response.status_code}: {response.text[:500]}"
        )


@contextmanager
def simulator_process(kind: str, database_url: str) -> Iterator[SimulatorServer]:
    """`ordersync simulate <kind>` in a process of its own, stopped on exit."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ordersync.cli", "simulate", kind, "--port", str(port)],
        env={
            **os.environ,
            "ORDERSYNC_DATABASE_URL": database_url,
            "ORDERSYNC_LOG_LEVEL": "WARNING",
        },
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = SimulatorServer(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + SIMULATOR_READY_WITHIN_S
        while True:
            try:
                server.faults()
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the {kind} simulator did not start") from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def order_of(client: httpx.Client, lines: int) -> str:
    """A draft order of ACC-1 holding OP-0001.. at quantity 1, priced in one RTP call."""
    response = client.post("/v2/shop/commercial-orders", json={}, headers=HEADERS)
    expect(response, 201)
    reference: str = response.json()["reference"]
    updates = [{"id": f"OP-{i:04d}", "quantity": 1} for i in range(1, lines + 1)]
    response = client.put(
        f"/v2/shop/commercial-orders/{reference}/lines",
        json={"updateOrderCommercialLines": updates},
        headers=HEADERS,
    )
    expect(response, 200)
    return reference


def sync_cases(
    client: httpx.Client, pricing: SimulatorServer, reference: str, iterations: int, warmup: int
) -> tuple[list[Case], list[int]]:
    """Both synchronise cases, and the pricing calls each synchronise made."""
    calls_per_sync: list[int] = []
    seen = {"calls": 0}

    def call(_: int) -> httpx.Response:
        return client.put(f"/v1/shop/commercial-orders/{reference}/sync", headers=HEADERS)

    def count_before(_: int) -> None:
        seen["calls"] = pricing.stats()["calls"]

    def count_after() -> None:
        calls_per_sync.append(pricing.stats()["calls"] - seen["calls"])

    def check_unchanged(response: httpx.Response) -> None:
        expect(response, 204)
        count_after()

    pricing.control(latency_ms=20, discounts={"GOLD": DISCOUNTS[-1]})
    expect(call(0), 204)  # the order was priced at the default discount
    unchanged = time_calls(call, iterations, warmup, before=count_before, check=check_unchanged)

    def reprice(i: int) -> None:
        pricing.control(discounts={"GOLD": DISCOUNTS[i % 2]})
        count_before(i)

    def check_repriced(response: httpx.Response) -> None:
        expect(response, 200)
        codes = [w["code"] for w in response.json()]
        if len(codes) != LINES or set(codes) != {"PRICE_CHANGED"}:
            raise SystemExit(f"expected {LINES} PRICE_CHANGED, got {len(codes)} {set(codes)}")
        count_after()

    repriced = time_calls(call, iterations, warmup, before=reprice, check=check_repriced)
    cases = [
        Case("sync RTP, nothing to change (204)", unchanged, SYNC_TARGET_MS),
        Case("sync RTP, every line repriced (200)", repriced, SYNC_TARGET_MS),
    ]
    return cases, calls_per_sync


def cpq_case(
    client: httpx.Client, cpq: SimulatorServer, reference: str, iterations: int, warmup: int
) -> Case:
    cpq.control(latency_ms=50)

    def call(_: int) -> httpx.Response:
        return client.post(
            f"/v1/shop/commercial-orders/{reference}/actions/synchronize", headers=HEADERS
        )

    def check(response: httpx.Response) -> None:
        expect(response, 200)
        if response.json()["cpq"]["syncStatus"] != "SYNCED":
            raise SystemExit(f"expected SYNCED, got {response.json()['cpq']}")

    samples = time_calls(call, iterations, warmup, check=check)
    return Case("CPQ push (update after the first)", samples, CPQ_TARGET_MS)


def standard_reference(
    app: FastAPI, client: httpx.Client, reference: str, iterations: int, warmup: int
) -> Case:
    """The same order synchronised in STANDARD mode (no outside call): how fast this machine
    is right now, so that the RTP figures can be read against benchmarks/sync.py's."""
    load_bundle(UnitOfWork(app.state.session_factory), {"settings": {"pricingMode": "STANDARD"}})

    def call(_: int) -> httpx.Response:
        return client.put(f"/v1/shop/commercial-orders/{reference}/sync", headers=HEADERS)

    def check(response: httpx.Response) -> None:
        expect(response, 204)

    expect(call(0), 200)  # from the quoted prices back to the stored ones
    samples = time_calls(call, iterations, warmup, check=check)
    return Case("reference: sync STANDARD, nothing to change (204)", samples, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=200, help="Timed calls per case")
    parser.add_argument("--warmup", type=int, default=10, help="Untimed calls per case first")
    add_database_options(parser)
    args = parser.parse_args()

    quiet_logging()
    started = time.perf_counter()
    with throwaway_database(args.database_url, keep=args.keep_database) as url:
        print_machine(url)
        print("Simulators: `ordersync simulate pricing` and `ordersync simulate cpq` processes")
        with (
            running_app(url, args.transport) as (app, client),
            simulator_process("pricing", url) as pricing,
            simulator_process("cpq", url) as cpq,
        ):
            bundle = catalog_bundle()
            bundle["settings"].update(
                pricingMode="RTP", pricingUrl=pricing.base_url, cpqUrl=cpq.base_url
            )
            load_bundle(UnitOfWork(app.state.session_factory), bundle)
            reference = order_of(client, LINES)
            cases, calls_per_sync = sync_cases(
                client, pricing, reference, args.iterations, args.warmup
            )
            cases.append(
                cpq_case(client, cpq, order_of(client, LINES), args.iterations, args.warmup)
            )
            cases.append(standard_reference(app, client, reference, args.iterations, args.warmup))
    print()
    rows: list[list[object]] = []
    for case in cases:
        p50, p99 = percentiles(case.samples)
        target = f"p99 <= {case.target_ms:.0f}" if case.target_ms else "-"
        rows.append(
            [case.name, LINES, len(case.samples), p50, p99, target, verdict(p99, case.target_ms)]
        )
    print_table(["case", "lines", "n", "p50 ms", "p99 ms", "target ms", "result"], rows)
    distinct = sorted(set(calls_per_sync))
    per_sync = str(distinct[0]) if len(distinct) == 1 else "/".join(map(str, distinct))
    verdict_calls = "PASS" if distinct == [1] else "MISS"
    print(
        f"\nPricing calls per synchronise: {per_sync} over {len(calls_per_sync)} synchronises "
        f"(target exactly 1: {verdict_calls})"
    )
    print(f"Total run time {time.perf_counter() - started:.0f} s")
    sync_p99 = max(percentiles(case.samples)[1] for case in cases[:2])
    cpq_p99 = percentiles(cases[2].samples)[1]
    print(
        f"rtp: sync200 p99={sync_p99:.1f} pricing_calls_per_sync={per_sync}; "
        f"cpq200 p99={cpq_p99:.1f}"
    )


if __name__ == "__main__":
    main()
