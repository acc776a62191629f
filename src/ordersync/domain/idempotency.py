"""Idempotency keys (SPEC §7): what a request with a key is compared by, what is kept of its
answer, and what a repeat of it is told."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

from ordersync.domain.errors import (
    BadRequest,
    Conflict,
    ErrorCode,
    FieldError,
    OrdersyncError,
    Unprocessable,
)

KEY_HEADER = "Idempotency-Key"
_KEY = re.compile(rb"[!-~]{1,255}")  # 1-255 visible ASCII characters
_BOUNDARY = re.compile(rb"boundary=(?:\"([^\"]{1,200})\"|([^\s;\"]{1,200}))", re.IGNORECASE)


class KeyState(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"  # the first request runs (or its process died: see the lock)
    COMPLETED = "COMPLETED"  # its answer is stored


@dataclass(frozen=True)
class StoredAnswer:
    """The answer of a first request, as its handler sent it."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes


@dataclass(frozen=True)
class HeldKey:
    """A key someone already holds: the request it was first used with, and its answer once
    that request has finished."""

    request_hash: str
    state: KeyState
    answer: StoredAnswer | None


@dataclass(frozen=True)
class KeyClaim:
    """A key taken by one running request; `holder` tells its writes from a later taker's."""

    user_id: int
    key: str
    request_hash: str
    holder: str


def key_problem(value: bytes) -> OrdersyncError | None:
    if _KEY.fullmatch(value):
        return None
    message = f"{KEY_HEADER} must be 1 to 255 visible ASCII characters."
    return BadRequest(
        ErrorCode.IDEMPOTENCY_KEY_INVALID,
        message,
        [FieldError(ErrorCode.IDEMPOTENCY_KEY_INVALID, KEY_HEADER, message)],
    )


def refusal(held: HeldKey, request_hash: str) -> OrdersyncError | None:
    """Why a repeat cannot have the stored answer (another request: 422; the first still
    runs: 409), or None when it can."""
    if held.request_hash != request_hash:
        return Unprocessable(
            ErrorCode.IDEMPOTENCY_KEY_REUSED,
            f"This {KEY_HEADER} was used with another request; use a new key for a new request.",
        )
    if held.state is KeyState.IN_PROGRESS or held.answer is None:
        return Conflict(
            ErrorCode.IDEMPOTENCY_KEY_IN_USE,
            f"A request with this {KEY_HEADER} is still running; retry once it has answered.",
        )
    return None


class RequestFingerprint:
    """sha256 of the method, path, query, If-Match and body of a request, fed the body chunk
    by chunk. A multipart body is read without its boundary: clients draw a new one for
    every request, so a retry of the same upload would otherwise never be the same request."""

    def __init__(
        self,
        method: str,
        path: str,
        query: bytes,
        if_match: bytes | None,
        content_type: bytes | None = None,
    ) -> None:
        self._hash = hashlib.sha256()
        for part in (method.encode(), path.encode(), query, if_match or b""):
            self._hash.update(len(part).to_bytes(8, "big") + part)
        self._delimiter = _multipart_delimiter(content_type)
        self._pending = b""

    def update(self, chunk: bytes) -> None:
        if self._delimiter is None:
            self._hash.update(chunk)
            return
        # Every delimiter wholly inside `data` is replaced; the tail that could begin one
        # continued in the next chunk waits for it.
        data = self._pending + chunk
        position = 0
        while (found := data.find(self._delimiter, position)) != -1:
            self._hash.update(data[position:found] + b"--\x00boundary\x00")
            position = found + len(self._delimiter)
        keep = max(position, len(data) - len(self._delimiter) + 1)
        self._hash.update(data[position:keep])
        self._pending = data[keep:]

    def hexdigest(self) -> str:
        self._hash.update(self._pending)
        self._pending = b""
        return self._hash.hexdigest()


def _multipart_delimiter(content_type: bytes | None) -> bytes | None:
    if not content_type or not content_type.lower().startswith(b"multipart/"):
        return None
    match = _BOUNDARY.search(content_type)
    return None if match is None else b"--" + (match.group(1) or match.group(2))
