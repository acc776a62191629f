"""Idempotency keys without a database: the request fingerprint (multipart boundaries and
chunking do not change it; everything else that makes a request does), the key's rule, and
the middleware's handling of bodies and answers over an in-memory key store."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import anyio
import pytest
from starlette.types import Message, Receive, Scope, Send

from ordersync.api.idempotency import REPLAY_CHUNK_BYTES, SPOOL_MEMORY_BYTES, Idempotency
from ordersync.domain.access import Caller, ClientType
from ordersync.domain.idempotency import (
    HeldKey,
    KeyClaim,
    KeyState,
    RequestFingerprint,
    StoredAnswer,
    key_problem,
    refusal,
)

# --- the fingerprint -------------------------------------------------------------------------


def fingerprint(
    chunks: list[bytes],
    *,
    method: str = "POST",
    path: str = "/v1/operator/import-jobs",
    query: bytes = b"",
    if_match: bytes | None = None,
    content_type: bytes | None = None,
) -> str:
    hashed = RequestFingerprint(method, path, query, if_match, content_type)
    for chunk in chunks:
        hashed.update(chunk)
    return hashed.hexdigest()


def multipart(boundary: bytes, content: bytes = b"a,b\r\n1,2\r\n") -> tuple[bytes, bytes]:
    body = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="file"; filename="orders.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + content + b"\r\n"
        b"--" + boundary + b"--\r\n"
    )
    return body, b"multipart/form-data; boundary=" + boundary


def in_chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, 1000])
def test_the_fingerprint_does_not_depend_on_how_the_body_is_chunked(size: int) -> None:
    body, content_type = multipart(b"0123456789abcdef")
    whole = fingerprint([body], content_type=content_type)
    assert fingerprint(in_chunks(body, size), content_type=content_type) == whole
    assert fingerprint(in_chunks(body, size)) == fingerprint([body])


def test_a_multipart_body_is_fingerprinted_without_its_boundary() -> None:
    first_body, first_type = multipart(b"boundary-one-4f1c")
    second_body, second_type = multipart(b"another-boundary-9e2a77")
    quoted_type = b'multipart/form-data; boundary="another-boundary-9e2a77"'
    expected = fingerprint([first_body], content_type=first_type)
    assert fingerprint([second_body], content_type=second_type) == expected
    assert fingerprint(in_chunks(second_body, 5), content_type=quoted_type) == expected
    other_file, _ = multipart(b"another-boundary-9e2a77", b"a,b\r\n1,3\r\n")
    assert fingerprint([other_file], content_type=second_type) != expected


def test_the_fingerprint_is_the_method_path_query_if_match_and_body() -> None:
    base = fingerprint([b"{}"])
    assert fingerprint([b"{} "]) != base
    assert fingerprint([b"{}"], method="PUT") != base
    assert fingerprint([b"{}"], path="/v1/operator/import-jobz") != base
    assert fingerprint([b"{}"], query=b"dryRun=true") != base
    assert fingerprint([b"{}"], if_match=b'"3"') != base
    # Parts are length-prefixed: moving bytes from one part to the next is another request.
    assert fingerprint([b"x{}"], query=b"a") != fingerprint([b"{}"], query=b"ax")


# --- the key and the verdict on a repeat -----------------------------------------------------


@pytest.mark.parametrize("value", [b"a", b"x" * 255, bytes(range(33, 127))])
def test_a_key_of_1_to_255_visible_ascii_characters_is_valid(value: bytes) -> None:
    assert key_problem(value) is None


@pytest.mark.parametrize("value", [b"", b"x" * 256, b"a b", b"a\tb", "é".encode(), b"\x7f"])
def test_any_other_key_is_invalid(value: bytes) -> None:
    problem = key_problem(value)
    assert problem is not None
    assert (problem.status, problem.code) == (400, "IDEMPOTENCY_KEY_INVALID")


ANSWER = StoredAnswer(200, ((b"etag", b'"2"'),), b"[]")


def test_a_repeat_gets_the_answer_unless_it_is_another_request_or_the_first_still_runs() -> None:
    done = HeldKey("h1", KeyState.COMPLETED, ANSWER)
    running = HeldKey("h1", KeyState.IN_PROGRESS, None)
    assert refusal(done, "h1") is None
    reused = refusal(done, "h2")
    assert reused is not None and (reused.status, reused.code) == (422, "IDEMPOTENCY_KEY_REUSED")
    in_use = refusal(running, "h1")
    assert in_use is not None and (in_use.status, in_use.code) == (409, "IDEMPOTENCY_KEY_IN_USE")
    reused_while_running = refusal(running, "h2")
    assert reused_while_running is not None and reused_while_running.status == 422


# --- the middleware over an in-memory key store ----------------------------------------------


class MemoryKeys:
    """IdempotencyKeys' contract in memory, one process."""

    lock = timedelta(seconds=60)

    def __init__(self) -> None:
        self.rows: dict[tuple[int, str], dict[str, Any]] = {}
        self.released: list[str] = []

    def claim(self, user_id: int, key: str, request_hash: str) -> KeyClaim | HeldKey:
        row = self.rows.get((user_id, key))
        if row is not None:
            return HeldKey(row["hash"], row["state"], row.get("answer"))
        self.rows[(user_id, key)] = {"hash": request_hash, "state": KeyState.IN_PROGRESS}
        return KeyClaim(user_id, key, request_hash, "holder")

    def renew(self, claim: KeyClaim) -> bool:
        return True

    def complete(self, claim: KeyClaim, answer: StoredAnswer) -> bool:
        self.rows[(claim.user_id, claim.key)].update(state=KeyState.COMPLETED, answer=answer)
        return True

    def release(self, claim: KeyClaim) -> None:
        del self.rows[(claim.user_id, claim.key)]
        self.released.append(claim.key)


CALLER = Caller(7, "U-7", ClientType.OPERATOR, None, None, None)


def scope(key: bytes | None = b"k-1", path: str = "/v1/operator/import-jobs") -> Scope:
    headers = [(b"content-type", b"text/csv")]
    if key is not None:
        headers.append((b"idempotency-key", key))
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": b"",
        "headers": headers,
        "state": {"caller": CALLER},
    }


def client_sending(chunks: Iterator[bytes]) -> Receive:
    pending = next(chunks, None)

    async def receive() -> Message:
        nonlocal pending
        if pending is None:
            await anyio.sleep_forever()
        chunk, pending = pending, next(chunks, None)
        return {"type": "http.request", "body": chunk, "more_body": pending is not None}

    return receive


class RecordingApp:
    """Reads the whole body (keeping its length and a running checksum, not the bytes),
    then answers `status` with the body size."""

    def __init__(self, status: int = 202, fail: bool = False) -> None:
        self.status, self.fail = status, fail
        self.calls = 0
        self.received = 0
        self.largest_read = 0
        self.checksum = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        while True:
            message = await receive()
            body = message.get("body", b"")
            self.received += len(body)
            self.largest_read = max(self.largest_read, len(body))
            self.checksum = (self.checksum * 31 + sum(body[::4096])) % 1_000_003
            if not message.get("more_body"):
                break
        if self.fail:
            raise RuntimeError("a bug")
        answer = str(self.received).encode()
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": [(b"content-type", b"text/plain"), (b"etag", b'"9"')],
            }
        )
        await send({"type": "http.response.body", "body": answer})


def run(app: Any, keys: MemoryKeys, request: Scope, chunks: Iterator[bytes]) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = Idempotency(app, keys)  # type: ignore[arg-type]
    anyio.run(middleware, request, client_sending(chunks), send)
    return sent


def chunks_of(total: int, size: int = 65_536) -> Iterator[bytes]:
    for start in range(0, total, size):
        yield bytes([start // size % 251]) * min(size, total - start)


def test_a_large_upload_reaches_the_app_whole_without_being_held_in_memory() -> None:
    total = 24 * 1024 * 1024
    app, keys = RecordingApp(), MemoryKeys()
    tracemalloc.start()
    try:
        sent = run(app, keys, scope(), chunks_of(total))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert app.received == total
    assert app.largest_read <= REPLAY_CHUNK_BYTES
    assert peak < SPOOL_MEMORY_BYTES + 4 * 1024 * 1024  # the in-memory spool, and some change
    direct = RecordingApp()
    anyio.run(direct, scope(), client_sending(chunks_of(total)), _discard)
    assert app.checksum == direct.checksum
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[1]["body"] == str(total).encode()


async def _discard(message: Message) -> None:
    pass


def test_a_repeat_is_answered_from_the_store_without_reaching_the_app() -> None:
    app, keys = RecordingApp(), MemoryKeys()
    first = run(app, keys, scope(), iter([b"a,b\r\n", b"1,2\r\n"]))
    repeat = run(app, keys, scope(), iter([b"a,b\r\n1,2\r\n"]))
    assert app.calls == 1
    assert repeat[0]["status"] == first[0]["status"] == 202
    assert repeat[0]["headers"] == [*first[0]["headers"], (b"idempotent-replayed", b"true")]
    assert repeat[1]["body"] == first[1]["body"]


def test_an_empty_body_is_handed_on_as_one_empty_message() -> None:
    app, keys = RecordingApp(), MemoryKeys()
    sent = run(app, keys, scope(), iter([b""]))
    assert (app.calls, app.received, sent[0]["status"]) == (1, 0, 202)


def test_a_5xx_answer_or_a_failure_lets_the_key_go() -> None:
    keys = MemoryKeys()
    sent = run(RecordingApp(status=503), keys, scope(b"k-5xx"), iter([b"x"]))
    assert sent[0]["status"] == 503
    with pytest.raises(RuntimeError):
        run(RecordingApp(fail=True), keys, scope(b"k-bug"), iter([b"x"]))
    assert keys.released == ["k-5xx", "k-bug"]
    assert keys.rows == {}


def test_without_a_key_or_on_another_route_the_request_passes_untouched() -> None:
    for request in (scope(key=None), scope(path="/v1/operator/data")):
        app, keys = RecordingApp(), MemoryKeys()
        run(app, keys, request, iter([b"x"]))
        assert app.calls == 1
        assert keys.rows == {}
