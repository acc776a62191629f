#!/usr/bin/env python
"""Where a request's time goes on the real server, sampled by py-spy (issue 12).

On a throwaway PostgreSQL database holding the test catalog (tests/bundle.py), it starts
the real `ordersync serve` process (one worker, ORDERSYNC_LOG_LEVEL=WARNING) and, for each
case, attaches `py-spy record` to it while a client on this machine makes the calls:

- GET of a 5-line order (`GET /v1/shop/commercial-orders/{ref}`);
- update of one line of a 5-line order (`PUT /v2/shop/commercial-orders/{ref}/lines`);
- synchronise of a 1,000-line order (`--sync-lines`), every line repriced (the prices are
  reloaded between calls by this script, straight into the database: the server is idle
  then, and py-spy samples only threads that are running).

py-spy samples the server's stacks (250 per second by default) without touching its code,
idle threads included, so time waiting on PostgreSQL counts; stacks of a thread waiting for
work (the event loop's select, the thread pool's queue) are left out.
For each case the script prints a call tree of ordersync's own functions, each with the
share of the case's samples spent in it and below it (the frames of libraries between two of
ours are folded into the one above), down to `--min-share` percent; under each function,
the time spent inside the PostgreSQL driver (psycopg: round trips and result decoding),
SQLAlchemy, pydantic and the rest is shown as leaves in brackets. Samples with no ordersync
frame (uvicorn, the event loop, thread hand-offs) are the "[server, outside ordersync]" root.

py-spy needs to read the server's memory (ptrace): root, or
`kernel.yama.ptrace_scope=0`. The database server's own time shows as time waiting
inside psycopg.

(Not named profile.py: run from this directory, that name would hide the standard
library's `profile` module, which `cProfile` imports.)

Run:
    .venv/bin/python benchmarks/profile_server.py
    .venv/bin/python benchmarks/profile_server.py --calls 100 --min-share 1 --database-url postgresql://...
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _common import add_database_options, print_machine, quiet_logging, throwaway_database
from fastapi import FastAPI
from sync import HEADERS, PRICES, Repricer, expect, order_with_lines, sync
from tests.bundle import catalog_bundle
from tests.server_process import served_process

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.api.app import create_app
from ordersync.services.data_bundle import load_bundle
from ordersync.settings import Settings

OURS = "ordersync"
LIBRARIES = {
    "psycopg": "[psycopg: PostgreSQL round trips]",
    "psycopg_binary": "[psycopg: PostgreSQL round trips]",
    "psycopg_pool": "[psycopg: PostgreSQL round trips]",
    "sqlalchemy": "[SQLAlchemy]",
    "pydantic": "[pydantic]",
    "pydantic_core": "[pydantic]",
    "starlette": "[Starlette/FastAPI]",
    "fastapi": "[Starlette/FastAPI]",
}
OUTSIDE = "[server, outside ordersync]"
# Where a server thread with nothing to do waits: the event loop (uvloop's, in C, under
# asyncio's Runner.run; or a selector), a pool thread on its queue. py-spy records them too
# (--idle, so that time waiting on PostgreSQL counts); the tree does not.
IDLE = {"select", "poll", "wait", "get", "_worker", "Runner.run"}


@dataclass
class Node:
    samples: int = 0
    children: dict[str, Node] = field(default_factory=dict)


def frame_label(frame: str) -> tuple[str, str]:
    """py-spy's `Class.function (package/module.py:line)` -> (function, module path),
    the path as py-spy shortens it (from the package down, for what is on sys.path)."""
    name, _, rest = frame.rpartition(" (")
    path = rest.rstrip(")").rsplit(":", 1)[0]
    for prefix in ("site-packages/", "/src/"):
        if prefix in path:
            path = path.rsplit(prefix, 1)[1]
    return name, path


def package(path: str) -> str:
    return path.split("/", 1)[0]


def leaf_kind(path: str) -> str:
    if package(path) == OURS:
        return "[its own code]"
    return LIBRARIES.get(package(path), "[other Python: standard library, uvicorn]")


def is_idle(function: str, path: str) -> bool:
    """A thread waiting for work (the event loop in select, a pool thread on its queue);
    a thread waiting for PostgreSQL waits inside psycopg, which is never idle here."""
    waiting_in = package(path)
    return (
        (function in IDLE or function.rsplit(".", 1)[-1] in IDLE)
        and waiting_in != OURS
        and waiting_in not in LIBRARIES
    )


def our_name(path: str, function: str) -> str:
    module = path.removesuffix(".py").replace("/", ".").removeprefix("ordersync.")
    return f"{module}.{function}"


def tree_of(collapsed: Path) -> tuple[Node, int]:
    """A tree of ordersync frames from py-spy's collapsed stacks (root first, `;`-separated,
    then the sample count), each stack ending in the kind of code its innermost frame is."""
    root = Node()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        path: list[str] = []
        innermost_function, innermost_path = "", ""
        for frame in stack.split(";"):
            function, file_path = frame_label(frame)
            innermost_function, innermost_path = function, file_path
            if package(file_path) == OURS:
                path.append(our_name(file_path, function))
        if is_idle(innermost_function, innermost_path):
            continue  # a thread waiting for work: not a request's time
        total += count
        path.append(leaf_kind(innermost_path) if path else OUTSIDE)
        node = root
        node.samples += count
        for name in path:
            node = node.children.setdefault(name, Node())
            node.samples += count
    return root, total


def collapse_chains(node: Node) -> None:
    """Fold a function into its only child when the child holds all its samples (the
    middleware layers each call the next): fewer levels, the same figures."""
    for name, child in list(node.children.items()):
        collapse_chains(child)
        while len(child.children) == 1:
            ((grand_name, grand),) = child.children.items()
            if grand.samples != child.samples or grand_name.startswith("["):
                break
            del node.children[name]
            name = grand_name
            node.children[name] = grand
            child = grand


def print_tree(node: Node, total: int, min_share: float, depth: int = 0) -> None:
    ranked = sorted(node.children.items(), key=lambda item: -item[1].samples)
    for name, child in ranked:
        share = 100.0 * child.samples / total
        if share < min_share:
            continue
        print(f"{share:6.1f} %  {'  ' * depth}{name}")
        print_tree(child, total, min_share, depth + 1)


def record(pid: int, rate: int, calls: Callable[[], None]) -> Path:
    """Run `calls` while py-spy samples process `pid`; the collapsed stacks' file."""
    out = Path(tempfile.mkstemp(prefix="ordersync-profile-", suffix=".txt")[1])
    spy = subprocess.Popen(
        [
            py_spy(),
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--function",
            "--idle",
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        calls()
    finally:
        spy.send_signal(signal.SIGINT)
        _, err = spy.communicate(timeout=60)
    if spy.returncode not in (0, -signal.SIGINT) or out.stat().st_size == 0:
        raise SystemExit(f"py-spy failed ({spy.returncode}): {err.decode(errors='replace')}")
    return out


def py_spy() -> str:
    found = shutil.which(
        "py-spy", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    )
    if found is None:
        raise SystemExit("py-spy not found: `make install` installs it with the dev extras")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--calls", type=int, default=300, help="Calls per small case (GET, update)"
    )
    parser.add_argument("--sync-calls", type=int, default=60, help="repriced synchronises")
    parser.add_argument(
        "--sync-lines", type=int, default=1000, help="lines of the synchronised order"
    )
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument(
        "--min-share", type=float, default=2.0, help="Hide functions under this share (%%)"
    )
    add_database_options(parser)
    args = parser.parse_args()

    quiet_logging()
    with throwaway_database(args.database_url, keep=args.keep_database) as url:
        print_machine(url)
        app = create_app(Settings(database_url=url, log_level="WARNING"))
        env = {"ORDERSYNC_DATABASE_URL": url, "ORDERSYNC_LOG_LEVEL": "WARNING"}
        try:
            load_bundle_into(app)
            with (
                served_process(env, args=["--workers", "1"]) as server,
                httpx.Client(base_url=server.base_url, timeout=60) as client,
            ):
                cases = build_cases(app, client, args.calls, args.sync_calls, args.sync_lines)
                for title, warm, run in cases:
                    warm()
                    collapsed = record(server.pid, args.rate, run)
                    root, total = tree_of(collapsed)
                    collapse_chains(root)
                    print(f"\n{title}: {total} samples")
                    print_tree(root, total, args.min_share)
                    collapsed.unlink()
        finally:
            app.state.engine.dispose()


def load_bundle_into(app: FastAPI) -> None:
    load_bundle(UnitOfWork(app.state.session_factory), catalog_bundle())


Case = tuple[str, Callable[[], None], Callable[[], None]]


def build_cases(
    app: FastAPI, client: httpx.Client, calls: int, sync_calls: int, sync_lines: int
) -> list[Case]:
    small = order_with_lines(client, 5)
    big = order_with_lines(client, sync_lines)
    repricer = Repricer(app)
    order_path = f"/v1/shop/commercial-orders/{small}"
    lines_path = f"/v2/shop/commercial-orders/{small}/lines"

    def get(n: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(n):
                expect(client.get(order_path, headers=HEADERS), 200)

        return run

    def update(n: int) -> Callable[[], None]:
        def run() -> None:
            for i in range(n):
                body = {"updateOrderCommercialLines": [{"id": "OP-0001", "quantity": 2 + i % 2}]}
                expect(client.put(lines_path, json=body, headers=HEADERS), 200)

        return run

    def repriced_sync(n: int) -> Callable[[], None]:
        def run() -> None:
            for i in range(n):
                repricer.set_price(sync_lines, PRICES[i % 2])
                expect(sync(client, big), 200)

        return run

    return [
        (f"GET of a 5-line order, {calls} calls", get(20), get(calls)),
        (f"update of one line of a 5-line order, {calls} calls", update(20), update(calls)),
        (
            f"synchronise of a {sync_lines:,}-line order, every line repriced, {sync_calls} calls",
            repriced_sync(4),
            repriced_sync(sync_calls),
        ),
    ]


if __name__ == "__main__":
    main()
