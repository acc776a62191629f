"""Start `ordersync serve` as a separate process, as a user runs it (e2e tests, benchmarks)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerDidNotStart(RuntimeError):
    pass


@contextmanager
def served(
    env: dict[str, str], *, ready_within: float = 30, args: Sequence[str] = ()
) -> Iterator[str]:
    """The base URL of a server that answers /openapi.json; stopped on exit. If it does not
    come up in time, it is stopped first and its output is in the error. `args` are added to
    the `serve` command line."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ordersync.cli", "serve", "--port", str(port), *args],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_within
        while not _answers(base_url):
            if process.poll() is not None or time.monotonic() > deadline:
                # Stop it before reading: a live process never closes its output pipe.
                process.kill()
                output, _ = process.communicate(timeout=10)
                raise ServerDidNotStart(output.decode(errors="replace")[-4000:])
            time.sleep(0.2)
        yield base_url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/openapi.json", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
