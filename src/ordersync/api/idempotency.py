"""The Idempotency-Key middleware (SPEC §7): on the writes that are not naturally idempotent,
a request with a key runs once per caller; a repeat gets the stored answer.

It sits after Authenticate (the key belongs to the caller) and before the routes. It reads
the body first, to fingerprint the request: into memory up to SPOOL_MEMORY_BYTES, then into
a temporary file (a 100 MB CSV upload is never held in memory), hashing as it goes; the app
then reads the body back from there. The answer is held until it is stored, so a client
that has it can only ever get it again.
"""

from __future__ import annotations

import re
from tempfile import SpooledTemporaryFile
from typing import IO

import anyio
import anyio.to_thread
import structlog
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ordersync.api.middleware import send_domain_error, send_error
from ordersync.domain.errors import ErrorCode, OrdersyncError
from ordersync.domain.idempotency import (
    HeldKey,
    KeyClaim,
    RequestFingerprint,
    StoredAnswer,
    key_problem,
    refusal,
)
from ordersync.services.idempotency import IdempotencyKeys

log = structlog.get_logger("ordersync.idempotency")

# The writes a key applies to: those a plain retry would repeat.
_REFERENCE = r"/[^/]+"
KEYED_WRITES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (method, re.compile(path))
    for method, path in (
        ("POST", "/v2/shop/commercial-orders"),
        ("PUT", f"/v2/shop/commercial-orders{_REFERENCE}/lines"),
        ("DELETE", f"/v2/shop/commercial-orders{_REFERENCE}/lines"),
        ("PUT", f"/v1/shop/commercial-orders{_REFERENCE}/sync"),
        ("POST", f"/v1/shop/commercial-orders{_REFERENCE}/actions/synchronize"),
        ("POST", "/v1/operator/import-jobs"),
    )
)
SPOOL_MEMORY_BYTES = 1_048_576  # a JSON body (at most 1 MiB) stays in memory; an upload spills
REPLAY_CHUNK_BYTES = 65_536  # what the app is handed per read of the spooled body
REPLAYED = (b"idempotent-replayed", b"true")


def is_keyed_write(method: str, path: str) -> bool:
    return any(m == method and p.fullmatch(path) for m, p in KEYED_WRITES)


class Idempotency:
    """Runs a keyed write once per caller and key; see the module's docstring."""

    def __init__(self, app: ASGIApp, keys: IdempotencyKeys) -> None:
        self.app = app
        self.keys = keys
        self.renew_every_s = keys.lock.total_seconds() / 3

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        raw_key = headers.get(b"idempotency-key")
        caller = scope.get("state", {}).get("caller")
        if raw_key is None or caller is None or not is_keyed_write(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        problem = key_problem(raw_key)
        if problem is not None:
            await send_domain_error(send, problem)
            return
        fingerprint = RequestFingerprint(
            scope["method"],
            scope["path"],
            scope.get("query_string", b""),
            headers.get(b"if-match"),
            headers.get(b"content-type"),
        )
        with SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES) as body:
            try:
                size = await _spool(receive, body, fingerprint)
            except HTTPException as exc:  # the body limit of RequestChecks
                too_large = exc.status_code == 413
                code = ErrorCode.PAYLOAD_TOO_LARGE if too_large else ErrorCode.INVALID_REQUEST
                await send_error(send, exc.status_code, code, exc.detail)
                return
            request_hash = fingerprint.hexdigest()
            try:
                claimed = await anyio.to_thread.run_sync(
                    self.keys.claim, caller.user_id, raw_key.decode(), request_hash
                )
            except OrdersyncError as exc:  # the database cannot serve: 503
                await send_domain_error(send, exc)
                return
            if isinstance(claimed, HeldKey):
                await _answer_repeat(send, claimed, request_hash)
                return
            body.seek(0)
            await self._run_first(scope, _replayed(body, size, receive), send, claimed)

    async def _run_first(
        self, scope: Scope, receive: Receive, send: Send, claim: KeyClaim
    ) -> None:
        messages: list[Message] = []

        async def held_send(message: Message) -> None:
            messages.append(message)

        failure: Exception | None = None
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._keep_lock, claim)
            try:
                await self.app(scope, receive, held_send)
            except Exception as exc:  # settled below, then raised for CatchUnexpected
                failure = exc
            finally:
                tasks.cancel_scope.cancel()
        answer = None if failure is not None else _answer_of(messages)
        await self._settle(claim, answer)
        if failure is not None:
            raise failure
        for message in messages:
            await send(message)

    async def _keep_lock(self, claim: KeyClaim) -> None:
        """Renew the key's lock while the first request runs, so a long one (a large upload)
        is not taken over; a process that dies stops renewing, and the lock runs out."""
        while True:
            await anyio.sleep(self.renew_every_s)
            try:
                if not await anyio.to_thread.run_sync(self.keys.renew, claim):
                    log.warning("idempotency_key_lost", key=claim.key)
                    return
            except Exception as exc:  # the next renewal may succeed; the lock still holds
                log.warning("idempotency_key_not_renewed", key=claim.key, error=repr(exc))

    async def _settle(self, claim: KeyClaim, answer: StoredAnswer | None) -> None:
        """Store a 2xx or 4xx answer; let the key go after a 5xx or no answer, so the client
        may retry with it."""
        try:
            if answer is not None and answer.status < 500:
                if not await anyio.to_thread.run_sync(self.keys.complete, claim, answer):
                    log.warning("idempotency_key_lost", key=claim.key)
            else:
                await anyio.to_thread.run_sync(self.keys.release, claim)
        except Exception as exc:  # the answer still goes out; the key's lock runs out
            log.warning("idempotency_key_not_settled", key=claim.key, error=repr(exc))


async def _spool(receive: Receive, into: IO[bytes], fingerprint: RequestFingerprint) -> int:
    """Read the whole body into `into`, fingerprinting it; its size."""
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk: bytes = message.get("body", b"")
        if chunk:
            fingerprint.update(chunk)
            into.write(chunk)
            size += len(chunk)
        if not message.get("more_body", False):
            return size


def _replayed(body: IO[bytes], size: int, receive: Receive) -> Receive:
    """A `receive` handing the app the spooled body, then what the client sends next (its
    disconnect)."""
    done = False

    async def replay() -> Message:
        nonlocal done
        if done:
            return await receive()
        chunk = body.read(REPLAY_CHUNK_BYTES)
        done = body.tell() >= size
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return replay


def _answer_of(messages: list[Message]) -> StoredAnswer | None:
    """The answer the app sent, if it sent a whole one."""
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    bodies = [m for m in messages if m["type"] == "http.response.body"]
    if start is None or not bodies or bodies[-1].get("more_body", False):
        return None
    return StoredAnswer(
        int(start["status"]),
        tuple((bytes(n), bytes(v)) for n, v in start.get("headers", [])),
        b"".join(m.get("body", b"") for m in bodies),
    )


async def _answer_repeat(send: Send, held: HeldKey, request_hash: str) -> None:
    refused = refusal(held, request_hash)
    if refused is not None:
        await send_domain_error(send, refused)
        return
    assert held.answer is not None
    answer = held.answer
    await send(
        {
            "type": "http.response.start",
            "status": answer.status,
            "headers": [*answer.headers, REPLAYED],
        }
    )
    await send({"type": "http.response.body", "body": answer.body})
