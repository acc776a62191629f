#!/usr/bin/env python
"""A 60 MB data bundle loaded over HTTP while buyers keep writing (issue 9, finding 9).

On a throwaway PostgreSQL database holding the test catalog (tests/bundle.py), with the real
`ordersync serve` process (one worker by default, so the load and the writes share it), it:

1. runs update-lines writes (a few lines of a draft order, quantities alternating) from
   --writers threads for --baseline seconds, to see their latency with nothing else going on;
2. POSTs a generated bundle of about --megabytes MB (fresh variants and offers, one price
   of two tiers each) to /v1/operator/data while the writers go on, and times it;
3. polls the memory of the server process and its children (a large bundle loads in a
   child process) every 20 ms throughout.

It prints the load's time and answer, the processes' memory (peak resident set: the
maximum of VmHWM per process, and of the summed VmRSS of the server and its children), and
the writers' p50/p99/max latency before and during the load. Before the hardening, a 63 MB
load took 139 s and 1.16 GB, and writers saw p99 1.5 s, max 8.3 s.

Run:
    .venv/bin/python benchmarks/bundle_load.py
    .venv/bin/python benchmarks/bundle_load.py --megabytes 20 --writers 4
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
from _common import (
    LOCAL_SERVER,
    percentile,
    print_machine,
    print_table,
    quiet_logging,
    throwaway_database,
)
from tests.bundle import KEY_1, KEY_OPS, catalog_bundle
from tests.server_process import ServerProcess, served_process

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.api.app import create_app
from ordersync.services.data_bundle import load_bundle
from ordersync.settings import Settings

BUYER = {"dj-client": "ACCOUNT", "dj-api-key": KEY_1}
OPERATOR = {"dj-client": "OPERATOR", "dj-api-key": KEY_OPS}
LINES_PER_WRITE = 5  # OP-0001..OP-0005 of the test catalog
POLL_S = 0.02
MB = 1_000_000


# --- the bundle --------------------------------------------------------------------------------


def _variant(n: int) -> bytes:
    return orjson.dumps(
        {
            "externalId": f"BENCH-V-{n:07d}",
            "sku": f"BENCH-SKU-{n:07d}",
            "name": f"Hex bolt M{8 + n % 8}x{20 + n % 60} zinc-plated, lot {n}",
            "description": "ISO 4017 hex head bolt, grade 8.8 steel, zinc-plated, sold per "
            f"piece; bench item {n}",
            "classification": "CLS-FASTENERS",
            "product": f"BENCH-P-{n // 10:06d}",
        }
    )


def _offer(n: int) -> bytes:
    net = f"{1 + n % 500}.{n % 100:02d}"
    return orjson.dumps(
        {
            "externalId": f"BENCH-OFR-{n:07d}",
            "supplier": "SUP-A" if n % 2 else "SUP-B",
            "variant": f"BENCH-V-{n:07d}",
            "status": "ACTIVE",
            "stock": 1000 + n % 5000,
            "prices": [
                {
                    "externalId": f"BENCH-OP-{n:07d}",
                    "currency": "EUR",
                    "taxRate": "20",
                    "tiers": [
                        {"minQuantity": 1, "netUnitPrice": net, "grossUnitPrice": net},
                        {"minQuantity": 100, "netUnitPrice": "0.90", "grossUnitPrice": "1.08"},
                    ],
                    "minOrderQuantity": 1,
                    "maxOrderQuantity": None,
                    "quantityStep": 1,
                    "validFrom": None,
                    "validTo": None,
                    "accounts": [],
                    "accountGroups": [],
                }
            ],
        }
    )


def bundle_of(megabytes: float) -> tuple[bytes, int]:
    """A bundle of about `megabytes` MB: as many fresh variants as fit, one offer each."""
    per_item = len(_variant(0)) + len(_offer(0)) + 2
    count = max(1, int(megabytes * MB / per_item))
    variants = b",".join(_variant(n) for n in range(count))
    offers = b",".join(_offer(n) for n in range(count))
    return b'{"variants":[' + variants + b'],"offers":[' + offers + b"]}", count


# --- memory of the server and its children -----------------------------------------------------


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass  # gone
    return 0


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (the serving workers, a bundle's child process)."""
    pids = [pid]
    for parent in pids:
        try:
            pids += [
                int(c) for c in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
            ]
        except OSError:
            continue
    return pids


@dataclass
class MemoryWatch:
    """Polls the process tree's memory until stopped."""

    root: int
    peak_sum_kib: int = 0
    peak_hwm_kib: dict[int, int] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            total = 0
            for pid in _tree(self.root):
                total += _status_kib(pid, "VmRSS")
                hwm = _status_kib(pid, "VmHWM")
                self.peak_hwm_kib[pid] = max(self.peak_hwm_kib.get(pid, 0), hwm)
            self.peak_sum_kib = max(self.peak_sum_kib, total)
            time.sleep(POLL_S)


# --- the writers -------------------------------------------------------------------------------


@dataclass
class Writer:
    """Update-lines writes on its own order, one after the other, until stopped."""

    base_url: str
    samples: list[tuple[float, float]] = field(default_factory=list)  # (start, ms)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, headers=BUYER, timeout=120) as http:
            created = http.post("/v2/shop/commercial-orders", json={})
            reference = created.json()["reference"]
            path = f"/v2/shop/commercial-orders/{reference}/lines"
            i = 0
            while not self.stop.is_set():
                quantity = 2 + i % 2
                lines = [
                    {"id": f"OP-{n:04d}", "quantity": quantity}
                    for n in range(1, LINES_PER_WRITE + 1)
                ]
                started = time.perf_counter()
                response = http.put(path, json={"updateOrderCommercialLines": lines})
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    self.errors.append(f"{response.status_code} {response.text[:200]}")
                self.samples.append((started, elapsed))
                i += 1


def _summary(response: httpx.Response) -> str:
    if response.status_code != 200:
        return response.text[:300]
    return ", ".join(f"{k} {v:,}" for k, v in response.json().items() if v)


def latencies(writers: list[Writer], start: float, end: float) -> list[float]:
    return [ms for w in writers for begun, ms in w.samples if start <= begun < end]


def latency_row(name: str, samples: list[float]) -> list[object]:
    if not samples:
        return [name, 0, "-", "-", "-"]
    return [
        name,
        len(samples),
        percentile(samples, 50),
        percentile(samples, 99),
        max(samples),
    ]


# --- the run -----------------------------------------------------------------------------------


def run(args: argparse.Namespace, url: str) -> None:
    app = create_app(Settings(database_url=url, log_level="WARNING"))
    load_bundle(UnitOfWork(app.state.session_factory), catalog_bundle())
    app.state.engine.dispose()

    generated = time.perf_counter()
    body, count = bundle_of(args.megabytes)
    print(
        f"Bundle:     {len(body) / MB:.1f} MB, {count:,} variants and {count:,} offers "
        f"(one price of two tiers each), generated in {time.perf_counter() - generated:.1f} s"
    )
    env = {
        "ORDERSYNC_DATABASE_URL": url,
        "ORDERSYNC_LOG_LEVEL": "WARNING",
        "ORDERSYNC_MAX_BUNDLE_BYTES": str(max(len(body) + MB, 67_108_864)),
    }
    server: ServerProcess
    with served_process(env, args=["--workers", str(args.workers)]) as server:
        print(
            f"Server:     `ordersync serve --workers {args.workers}` (pid {server.pid}), "
            f"{args.writers} writer thread(s) of {LINES_PER_WRITE}-line update-lines"
        )
        watch = MemoryWatch(server.pid)
        threading.Thread(target=watch.run, daemon=True).start()
        writers = [Writer(server.base_url) for _ in range(args.writers)]
        threads = [threading.Thread(target=w.run, daemon=True) for w in writers]
        for thread in threads:
            thread.start()
        baseline_start = time.perf_counter()
        time.sleep(args.baseline)
        rss_before = sum(_status_kib(pid, "VmRSS") for pid in _tree(server.pid))

        load_start = time.perf_counter()
        with httpx.Client(base_url=server.base_url, timeout=3600) as http:
            response = http.post(
                "/v1/operator/data",
                content=body,
                headers={**OPERATOR, "content-type": "application/json"},
            )
        load_end = time.perf_counter()
        time.sleep(1)  # the writers' first requests after the load
        for w in writers:
            w.stop.set()
        for thread in threads:
            thread.join()
        time.sleep(0.5)
        rss_after = sum(_status_kib(pid, "VmRSS") for pid in _tree(server.pid))
        watch.stop.set()
        server_hwm = _status_kib(server.pid, "VmHWM")

    children = {pid: kib for pid, kib in watch.peak_hwm_kib.items() if pid != server.pid}
    print()
    rows: list[list[object]] = [
        ["load time (s)", round(load_end - load_start, 1)],
        ["answer", f"{response.status_code} {_summary(response)}"],
        ["server process peak RSS, VmHWM (MB)", round(server_hwm / 1024, 1)],
        [
            "largest child peak RSS, VmHWM (MB)",
            round(max(children.values()) / 1024, 1) if children else "-",
        ],
        ["server + children, peak summed RSS (MB)", round(watch.peak_sum_kib / 1024, 1)],
        ["server + children RSS before the load (MB)", round(rss_before / 1024, 1)],
        ["server + children RSS after the load (MB)", round(rss_after / 1024, 1)],
    ]
    print_table(["bundle load", "value"], rows)
    print()
    print_table(
        ["update-lines writes", "n", "p50 ms", "p99 ms", "max ms"],
        [
            latency_row("before the load", latencies(writers, baseline_start, load_start)),
            latency_row("during the load", latencies(writers, load_start, load_end)),
        ],
    )
    failed = [e for w in writers for e in w.errors]
    if failed:
        print(f"\n{len(failed)} write(s) failed; first: {failed[0]}")
    if response.status_code != 200:
        raise SystemExit(f"the load answered {response.status_code}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=60, help="Bundle size (default 60)")
    parser.add_argument("--writers", type=int, default=1, help="Writer threads (default 1)")
    parser.add_argument(
        "--baseline", type=float, default=10, help="Seconds of writes before the load"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="Server processes (default 1: shared)"
    )
    parser.add_argument(
        "--database-url",
        default=LOCAL_SERVER,
        help=f"PostgreSQL server for the throwaway database (default {LOCAL_SERVER})",
    )
    parser.add_argument("--keep-database", action="store_true", help="Do not drop it")
    args = parser.parse_args()

    quiet_logging()
    started = time.perf_counter()
    with throwaway_database(args.database_url, keep=args.keep_database) as url:
        print_machine(url)
        run(args, url)
    print(f"\nTotal run time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
