"""A raw HTTP/1.1 client over a socket, for what an HTTP library will not send: header bytes
that are not UTF-8, a header given twice, a Content-Length whose body never comes."""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def connect(port: int, timeout: float = 5) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def request_head(
    method: str, target: bytes | str, headers: Sequence[tuple[bytes | str, bytes | str]] = ()
) -> bytes:
    """The request line and headers, ending with the blank line; values are sent as given."""
    raw_target = target.encode() if isinstance(target, str) else target
    lines = [method.encode() + b" " + raw_target + b" HTTP/1.1", b"host: 127.0.0.1"]
    lines += [_bytes(name) + b": " + _bytes(value) for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def exchange(
    port: int,
    method: str,
    target: bytes | str,
    headers: Sequence[tuple[bytes | str, bytes | str]] = (),
    body: bytes = b"",
    timeout: float = 5,
) -> Answer:
    """Send one request on a new connection and read its answer."""
    if body:
        headers = [*headers, ("content-length", str(len(body)))]
    with connect(port, timeout) as sock:
        sock.sendall(request_head(method, target, headers) + body)
        return read_answer(sock)


def read_answer(sock: socket.socket) -> Answer:
    """One answer with a Content-Length, leaving the connection open (no read past it)."""
    received = b""
    while True:
        head_end = received.find(b"\r\n\r\n")
        if head_end >= 0:
            length = int(_headers(received[:head_end]).get("content-length", "0"))
            if len(received) >= head_end + 4 + length:
                break
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"the server closed the connection mid-answer: {received!r}")
        received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    headers = _headers(head)
    length = int(headers.get("content-length", "0"))
    assert len(rest) == length, f"bytes past the answer: {rest[length:]!r}"
    return Answer(int(head.split(b" ", 2)[1]), headers, rest)


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value
