"""What one client can make the real server process hold: bounded heads (431), bounded time
to send a head or a body (408), over raw sockets as a misbehaving client would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.server_process import ServerDidNotStart, served

ROOT = Path(__file__).resolve().parents[2]
DEMO_BUNDLE = ROOT / "data" / "demo-bundle.json"
BUYER_HEADERS = b"dj-client: ACCOUNT\r\ndj-api-key: demo-key-buildco\r\n"
LIMITS = {
    "ORDERSYNC_MAX_HEADER_BYTES": "8192",
    "ORDERSYNC_HEADER_TIMEOUT_S": "1",
    "ORDERSYNC_BODY_TIMEOUT_S": "1",
    # Quiet: the server's output goes to a pipe nobody reads while it runs.
    "ORDERSYNC_LOG_LEVEL": "WARNING",
}
MEGABYTE_HEAD = b"GET /openapi.json HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 1_000_000

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Server:
    port: int
    pid: int


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.body)
        return data


@pytest.fixture(scope="module")
def database_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    db = tmp_path_factory.mktemp("limits") / "ordersync.db"
    env = {"ORDERSYNC_DATABASE_URL": f"sqlite:///{db}"}
    for args in (("migrate",), ("load", str(DEMO_BUNDLE))):
        done = subprocess.run(
            [sys.executable, "-m", "ordersync.cli", *args],
            env={**os.environ, **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    return env


@pytest.fixture(scope="module")
def server(database_env: dict[str, str]) -> Iterator[Server]:
    try:
        with served({**database_env, **LIMITS}) as base_url:
            port = int(base_url.rsplit(":", 1)[1])
            yield Server(port, _serve_pid(port))
    except ServerDidNotStart as exc:
        pytest.fail(f"server did not start:\n{exc}")


def test_a_megabyte_of_headers_is_refused_quickly_with_431_and_the_common_error_body(
    server: Server,
) -> None:
    started = time.monotonic()
    with _connect(server) as sock:
        sock.sendall(MEGABYTE_HEAD + b"\r\n\r\n")
        answer = _read_until_closed(sock)
    assert time.monotonic() - started < 1
    assert answer.status == 431
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["connection"] == "close"
    assert answer.json() == {
        "status": 431,
        "code": "HEADERS_TOO_LARGE",
        "message": "The request line and headers exceed 8192 bytes.",
        "errors": [],
    }


def test_twenty_clients_sending_a_megabyte_of_headers_cost_the_server_no_memory(
    server: Server,
) -> None:
    _refuse_one_big_head(server)  # the first refusal may warm caches; measure after it
    before = _rss_kib(server.pid)
    sockets = [_connect(server) for _ in range(20)]
    try:
        for sock in sockets:
            # Never finished: a server that buffers heads would hold all twenty megabytes.
            sock.sendall(MEGABYTE_HEAD)
        answers = [_read_until_closed(sock) for sock in sockets]
        grown_kib = _rss_kib(server.pid) - before
    finally:
        for sock in sockets:
            sock.close()
    assert [a.status for a in answers] == [431] * 20
    assert grown_kib < 4 * 1024


def test_more_header_fields_than_allowed_are_refused_with_431(server: Server) -> None:
    fields = b"".join(b"x-field-%d: a\r\n" % i for i in range(200))
    with _connect(server) as sock:
        sock.sendall(b"GET /openapi.json HTTP/1.1\r\nhost: x\r\n" + fields + b"\r\n")
        answer = _read_until_closed(sock)
    assert answer.status == 431
    assert answer.json()["code"] == "HEADERS_TOO_LARGE"


def test_a_client_stalling_in_its_request_line_gets_408_and_is_closed(server: Server) -> None:
    started = time.monotonic()
    with _connect(server) as sock:
        sock.sendall(b"GET /openapi.js")
        answer = _read_until_closed(sock)
    assert time.monotonic() - started < 2  # header timeout 1 s
    assert answer.status == 408
    assert answer.headers["connection"] == "close"
    assert answer.json()["code"] == "REQUEST_TIMEOUT"


def test_a_client_stalling_in_its_body_gets_408(server: Server) -> None:
    started = time.monotonic()
    with _connect(server) as sock:
        sock.sendall(
            b"POST /v2/shop/commercial-orders HTTP/1.1\r\nhost: x\r\n"
            + BUYER_HEADERS
            + b'content-type: application/json\r\ncontent-length: 100\r\n\r\n{"a": 1234'
        )
        answer = _read_until_closed(sock)
    assert time.monotonic() - started < 2  # body timeout 1 s
    assert answer.status == 408
    assert answer.json()["code"] == "REQUEST_TIMEOUT"


def test_a_kept_alive_connection_serves_requests_one_after_the_other(server: Server) -> None:
    with _connect(server) as sock:
        for _ in range(2):
            sock.sendall(b"GET /openapi.json HTTP/1.1\r\nhost: x\r\n\r\n")
            answer = _read_one(sock)
            assert answer.status == 200
            assert answer.json()["openapi"]


def test_serve_with_two_workers_runs_two_processes_that_answer(
    database_env: dict[str, str],
) -> None:
    try:
        with served({**database_env, **LIMITS}, args=["--workers", "2"]) as base_url:
            port = int(base_url.rsplit(":", 1)[1])
            server = Server(port, _serve_pid(port))
            assert len(_worker_pids(server.pid)) == 2
            for _ in range(4):
                with _connect(server) as sock:
                    sock.sendall(b"GET /openapi.json HTTP/1.1\r\nhost: x\r\n\r\n")
                    assert _read_one(sock).status == 200
            assert _refuse_one_big_head(server).status == 431
    except ServerDidNotStart as exc:
        pytest.fail(f"server did not start:\n{exc}")


# --- a raw HTTP/1.1 client -------------------------------------------------------------------


def _connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=5)


def _refuse_one_big_head(server: Server) -> Answer:
    with _connect(server) as sock:
        sock.sendall(MEGABYTE_HEAD)
        return _read_until_closed(sock)


def _read_until_closed(sock: socket.socket) -> Answer:
    """The one answer the server sends before closing the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    answer, rest = _parse(received)
    assert rest == b""
    return answer


def _read_one(sock: socket.socket) -> Answer:
    received = b""
    while True:
        head_end = received.find(b"\r\n\r\n")
        if head_end >= 0:
            length = _headers(received[:head_end]).get("content-length")
            assert length is not None, "every answer here has a Content-Length"
            if len(received) >= head_end + 4 + int(length):
                break
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection mid-answer"
        received += chunk
    answer, rest = _parse(received)
    assert rest == b""
    return answer


def _parse(received: bytes) -> tuple[Answer, bytes]:
    head, _, rest = received.partition(b"\r\n\r\n")
    headers = _headers(head)
    length = int(headers["content-length"])
    status = int(head.split(b" ", 2)[1])
    return Answer(status, headers, rest[:length]), rest[length:]


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


# --- the server's processes ------------------------------------------------------------------


def _serve_pid(port: int) -> int:
    """The process started as `ordersync.cli serve --port <port>`."""
    wanted = b"\0serve\0--port\0%d\0" % port
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if wanted in cmdline.read_bytes():
                return int(cmdline.parent.name)
        except OSError:
            continue  # gone since listed
    raise AssertionError(f"no server process on port {port}")


def _worker_pids(parent: int) -> list[int]:
    """Children of `parent` started by multiprocessing to serve (not its resource tracker)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [
        int(pid)
        for pid in children
        if b"--multiprocessing-fork" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")
