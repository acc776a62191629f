"""Start `ordersync serve` as a separate process, as a user runs it (e2e tests, benchmarks)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerDidNotStart(RuntimeError):
    pass


@dataclass
class ServerProcess:
    """A running `ordersync serve`: where it answers, its process id (the uvicorn server
    itself with one worker, their supervisor with more), and, when its output is captured,
    everything it printed, complete once it has stopped."""

    base_url: str
    pid: int
    output: bytes = b""

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])


@contextmanager
def served(
    env: dict[str, str], *, ready_within: float = 30, args: Sequence[str] = ()
) -> Iterator[str]:
    """The base URL of a server that answers /openapi.json; stopped on exit. If it does not
    come up in time, it is stopped first and its output is in the error. `args` are added to
    the `serve` command line."""
    with served_process(env, ready_within=ready_within, args=args) as server:
        yield server.base_url


@contextmanager
def served_process(
    env: dict[str, str],
    *,
    ready_within: float = 30,
    args: Sequence[str] = (),
    capture_output: bool = False,
) -> Iterator[ServerProcess]:
    """As `served`, yielding the process as well. With `capture_output`, a thread reads the
    server's output as it comes (so a chatty server never blocks on a full pipe) and
    `output` holds all of it once the block has exited; without, the output goes to a pipe
    nobody reads while the server runs, so keep its log level quiet."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ordersync.cli", "serve", "--port", str(port), *args],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    chunks: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(process.stdout, chunks), daemon=True)
    if capture_output:
        reader.start()
    server = ServerProcess(f"http://127.0.0.1:{port}", process.pid)
    try:
        deadline = time.monotonic() + ready_within
        while not _answers(server.base_url):
            if process.poll() is not None or time.monotonic() > deadline:
                # Stop it before reading: a live process never closes its output pipe.
                process.kill()
                if capture_output:
                    process.wait(timeout=10)
                    reader.join(timeout=10)
                    output = b"".join(chunks)
                else:
                    output, _ = process.communicate(timeout=10)
                raise ServerDidNotStart(output.decode(errors="replace")[-4000:])
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if capture_output:
            reader.join(timeout=10)  # the pipe is at its end once the process has exited
            server.output = b"".join(chunks)
        process.stdout.close()


def _drain(stream: IO[bytes], chunks: list[bytes]) -> None:
    while chunk := stream.read1(65536):  # type: ignore[attr-defined]
        chunks.append(chunk)


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/openapi.json", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
