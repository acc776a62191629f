"""The hardening findings (issue 9) that only a real socket can show, against the real server
process on SQLite and on PostgreSQL: header bytes that are not UTF-8 (an HTTP library
re-encodes them), a body announced but never sent, the console log of a hostile URL, and a
client that hangs up mid-body."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ordersync.adapters.db.migrate import upgrade
from tests.databases import postgres_database
from tests.raw_http import Answer, connect, exchange, read_answer, request_head
from tests.server_process import ServerDidNotStart, ServerProcess, served_process

ROOT = Path(__file__).resolve().parents[2]
DEMO_BUNDLE = ROOT / "data" / "demo-bundle.json"
ORDER = "260-211-8089581"  # ORD-DEMO-1 of ACC-BUILDCO, a draft
BUYER = [("dj-client", "ACCOUNT"), ("dj-api-key", "demo-key-buildco")]
OPERATOR = [("dj-client", "OPERATOR"), ("dj-api-key", "demo-key-operator")]
JSON = ("content-type", "application/json")
LINES = b'{"updateOrderCommercialLines":[{"id":"OP-V-0001-ACME","quantity":3}]}'
ONE_PROCESS = ["--workers", "1"]  # the process whose memory is watched is the one serving
MIB = 1024

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """A migrated database holding the demo bundle, as the server's environment."""
    if request.param == "sqlite":
        yield _demo_database(f"sqlite:///{tmp_path_factory.mktemp('hardening') / 'o.db'}")
        return
    with postgres_database() as url:
        yield _demo_database(url)


def _demo_database(url: str) -> dict[str, str]:
    upgrade(url)
    env = {"ORDERSYNC_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "ordersync.cli", "load", str(DEMO_BUNDLE)],
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
def server(database_env: dict[str, str]) -> Iterator[ServerProcess]:
    # Quiet: this server's output goes to a pipe nobody reads while it runs.
    env = {**database_env, "ORDERSYNC_LOG_LEVEL": "WARNING"}
    try:
        with served_process(env, args=ONE_PROCESS) as process:
            yield process
    except ServerDidNotStart as exc:
        pytest.fail(f"server did not start:\n{exc}")


def error(answer: Answer, status: int, code: str) -> list[dict[str, str]]:
    """The field errors of an answer in the common error body, after checking its kind."""
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert (body["status"], body["code"]) == (status, code), body
    errors: list[dict[str, str]] = body["errors"]
    return errors


def order_version(server: ServerProcess) -> int:
    answer = exchange(server.port, "GET", f"/v1/shop/commercial-orders/{ORDER}", BUYER)
    assert answer.status == 200, answer
    version: int = answer.json()["version"]
    assert answer.headers["etag"] == f'"{version}"'
    return version


# --- 1. header text that is not UTF-8 ---------------------------------------------------------


@pytest.mark.parametrize("name", ["dj-store", "customer-account-id"])
def test_a_read_header_whose_bytes_are_not_utf8_is_422_with_the_common_error_body(
    server: ServerProcess, name: str
) -> None:
    answer = exchange(
        server.port, "GET", "/v2/shop/commercial-orders", [*BUYER, (name, b"\xff\xfe")]
    )
    errors = error(answer, 422, "INVALID_REQUEST")
    assert {(e["code"], e["field"]) for e in errors} == {("TEXT_INVALID", name)}


# --- 3. If-Match with the bytes of a superscript digit ----------------------------------------


@pytest.mark.parametrize("tag", [b'"\xb2"', b'"\xb9"'], ids=["0xB2", "0xB9"])
def test_an_if_match_of_non_ascii_digit_bytes_is_422_and_the_order_is_unchanged(
    server: ServerProcess, tag: bytes
) -> None:
    before = order_version(server)
    answer = exchange(
        server.port,
        "PUT",
        f"/v2/shop/commercial-orders/{ORDER}/lines",
        [*BUYER, ("if-match", tag), JSON],
        LINES,
    )
    errors = error(answer, 422, "INVALID_REQUEST")
    assert {(e["code"], e["field"]) for e in errors} == {("TEXT_INVALID", "if-match")}
    assert order_version(server) == before


# --- 7. authenticate before reading any body --------------------------------------------------


def _announce_60_mb_bundle(server: ServerProcess, headers: list[tuple[str, str]]) -> socket.socket:
    """A connection that has sent the head of a 60 MB bundle post, and none of its body."""
    sock = connect(server.port, timeout=2)  # far below the server's 60 s body timeout
    head = request_head(
        "POST", "/v1/operator/data", [*headers, JSON, ("content-length", "60000000")]
    )
    sock.sendall(head)
    return sock


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [([], 401, "AUTHENTICATION_REQUIRED"), (BUYER, 403, "CLIENT_TYPE_FORBIDDEN")],
    ids=["anonymous", "account-key"],
)
def test_a_60_mb_bundle_post_without_an_operator_key_is_refused_before_its_body(
    server: ServerProcess, headers: list[tuple[str, str]], status: int, code: str
) -> None:
    with _announce_60_mb_bundle(server, headers) as sock:
        error(read_answer(sock), status, code)  # the first refusal warms the code path
    before = _rss_kib(server.pid)
    started = time.monotonic()
    sockets = [_announce_60_mb_bundle(server, headers) for _ in range(4)]
    try:
        answers = [read_answer(sock) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
    elapsed = time.monotonic() - started
    grown_kib = _rss_kib(server.pid) - before
    for answer in answers:
        error(answer, status, code)
    assert elapsed < 2
    assert grown_kib < 16 * MIB  # four bodies read would be 240 MB


# --- 10. control characters from the URL in the console log -----------------------------------


def test_control_characters_of_the_url_reach_the_console_log_escaped(
    database_env: dict[str, str],
) -> None:
    env = {**database_env, "ORDERSYNC_LOG_LEVEL": "INFO", "ORDERSYNC_LOG_JSON": "false"}
    with served_process(env, args=ONE_PROCESS, capture_output=True) as process:
        answer = exchange(process.port, "GET", "/v1/shop/commercial-orders/%1B%5B31mX%07")
        error(answer, 401, "AUTHENTICATION_REQUIRED")
    assert b"\x1b" not in process.output
    assert b"\x07" not in process.output
    assert rb"path=/v1/shop/commercial-orders/\x1b[31mX\x07" in process.output


# --- 12. a read header given twice ------------------------------------------------------------


def test_two_api_key_headers_are_400_over_a_real_socket(server: ServerProcess) -> None:
    headers = [*BUYER, ("dj-api-key", "demo-key-operator")]
    errors = error(
        exchange(server.port, "GET", "/v2/shop/commercial-orders", headers),
        400,
        "DUPLICATE_HEADER",
    )
    assert [e["field"] for e in errors] == ["dj-api-key"]


# --- a client that hangs up mid-body ----------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "headers"),
    [(f"/v2/shop/commercial-orders/{ORDER}/lines", BUYER), ("/v1/operator/data", OPERATOR)],
    ids=["update-lines", "bundle"],
)
def test_a_client_hanging_up_mid_body_is_logged_as_such_not_as_a_server_error(
    database_env: dict[str, str], target: str, headers: list[tuple[str, str]]
) -> None:
    env = {**database_env, "ORDERSYNC_LOG_LEVEL": "INFO", "ORDERSYNC_LOG_JSON": "false"}
    with served_process(env, args=ONE_PROCESS, capture_output=True) as process:
        method = "PUT" if target.endswith("/lines") else "POST"
        head = request_head(method, target, [*headers, JSON, ("content-length", "1000")])
        with connect(process.port) as sock:
            sock.sendall(head + b'{"updateOrder')
            time.sleep(0.3)  # the app is waiting for the rest of the body
        time.sleep(0.3)  # and sees the hang-up
    output = process.output.decode()
    assert "client_disconnected" in output
    assert "unhandled_error" not in output
    assert "status=500" not in output


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")
