"""The shipped simulators served in-process over real HTTP, for tests of the real clients.

    with pricing_simulator(database_url) as pricing:
        pricing.control(latency_ms=50, fail_every=2)   # snake_case or camelCase names
        ... point the client at pricing.base_url ...
        assert pricing.stats()["calls"] == 1

Each server runs uvicorn on a socket bound before it starts (no port race) in a thread of
its own, is waited for until it answers, and is stopped on exit: its faults are reset first
so a call left hanging is released, and uvicorn cancels whatever still runs after a second.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from ordersync.simulators import GRACEFUL_SHUTDOWN_S
from ordersync.simulators.cpq import create_cpq_simulator
from ordersync.simulators.pricing import create_pricing_simulator

READY_WITHIN_S = 10.0
STOP_WITHIN_S = 10.0


class SimulatorDidNotStart(RuntimeError):
    pass


@dataclass(frozen=True)
class SimulatorServer:
    """A running simulator: its base URL and its control API."""

    base_url: str

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def control(self, **faults: Any) -> dict[str, Any]:
        """Switch faults on (merged into the current ones); names in snake_case or camelCase.
        Answers the faults now in force."""
        body = {_camel(name): value for name, value in faults.items()}
        return self._call("POST", "/_control", json=body)

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "/_control")

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/_stats")

    def reset(self) -> None:
        """No fault (default discounts), no call counted."""
        self._call("DELETE", "/_control")
        self._call("DELETE", "/_stats")

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = httpx.request(method, self.base_url + path, timeout=5, **kwargs)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer


def _camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


@contextmanager
def pricing_simulator(database_url: str) -> Iterator[SimulatorServer]:
    """The pricing simulator, pricing from the catalog loaded in `database_url`."""
    with serve_in_thread(create_pricing_simulator(database_url)) as server:
        yield server


@contextmanager
def cpq_simulator(database_url: str | None = None) -> Iterator[SimulatorServer]:
    """The CPQ simulator, with no transaction yet. It keeps its transactions in memory, so
    the URL is not read; it is accepted so both simulators start alike."""
    with serve_in_thread(create_cpq_simulator()) as server:
        yield server


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[SimulatorServer]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    simulator = SimulatorServer(f"http://127.0.0.1:{sock.getsockname()[1]}")
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported to the starting thread
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"simulator-{simulator.port}", daemon=True)
    thread.start()
    try:
        _wait_until_answering(simulator, thread, failure)
        yield simulator
    finally:
        if thread.is_alive():
            with suppress(httpx.HTTPError):
                httpx.delete(simulator.base_url + "/_control", timeout=2)  # release hangs
        server.should_exit = True
        thread.join(STOP_WITHIN_S)
        sock.close()
        if thread.is_alive():
            raise RuntimeError(f"The simulator at {simulator.base_url} did not stop.")


def _wait_until_answering(
    simulator: SimulatorServer, thread: threading.Thread, failure: list[BaseException]
) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise SimulatorDidNotStart(f"The simulator stopped at start: {failure!r}")
        try:
            if httpx.get(simulator.base_url + "/_control", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise SimulatorDidNotStart(f"The simulator at {simulator.base_url} did not answer in time.")
