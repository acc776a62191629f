"""The last-resort middleware: a bug is a 500 in the common error body, answered rather than
raised (so the server keeps the keep-alive connection); half an answer is re-raised; a client
that hung up is neither a bug nor answered."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import structlog
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send

from ordersync.api.middleware import CatchUnexpected

SCOPE: Scope = {"type": "http", "method": "GET", "path": "/v2/shop/commercial-orders"}


class Bug(Exception):
    pass


async def raises_at_once(scope: Scope, receive: Receive, send: Send) -> None:
    raise Bug("a bug")


async def raises_after_starting(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    raise Bug("a bug halfway through the answer")


async def reads_a_body_whose_client_hung_up(scope: Scope, receive: Receive, send: Send) -> None:
    message = await receive()
    assert message["type"] == "http.disconnect"
    raise ClientDisconnect()


def call(app: Any) -> list[Message]:
    """What the middleware sends for one request to `app`."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(CatchUnexpected(app)(SCOPE, receive, send))
    return sent


def test_a_bug_is_answered_500_in_the_common_error_body_and_not_raised() -> None:
    with structlog.testing.capture_logs() as logs:
        start, body = call(raises_at_once)
    assert start["type"] == "http.response.start"
    assert start["status"] == 500
    assert dict(start["headers"])[b"content-type"] == b"application/json"
    assert json.loads(body["body"]) == {
        "status": 500,
        "code": "INTERNAL_ERROR",
        "message": "Unexpected server error.",
        "errors": [],
    }
    assert [e["event"] for e in logs] == ["unhandled_error"]


def test_a_bug_after_the_answer_has_started_is_re_raised() -> None:
    with structlog.testing.capture_logs() as logs, pytest.raises(Bug):
        call(raises_after_starting)
    assert [e["event"] for e in logs] == ["unhandled_error"]


def test_a_client_that_hung_up_mid_body_is_logged_as_such_and_not_answered() -> None:
    with structlog.testing.capture_logs() as logs:
        sent = call(reads_a_body_whose_client_hung_up)
    assert sent == []
    assert logs == [
        {"event": "client_disconnected", "log_level": "info", "path": SCOPE["path"]},
    ]


def test_a_lifespan_scope_passes_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        pass

    asyncio.run(CatchUnexpected(app)({"type": "lifespan"}, receive, send))
    assert seen == ["lifespan"]
