"""Idempotency keys (SPEC §7) through the HTTP app, on SQLite and PostgreSQL: a keyed write
runs once per caller; a repeat gets the stored answer byte for byte and changes nothing; the
same key with another request is 422, while the first runs 409; a 5xx is not kept; a key
left running by a dead process runs again after its lock; expired keys go."""

from __future__ import annotations

import csv
import io
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.api.idempotency import SPOOL_MEMORY_BYTES
from ordersync.domain.errors import BadGateway, ErrorCode
from ordersync.domain.idempotency import KeyClaim, RequestFingerprint
from ordersync.services import update_lines
from ordersync.services.idempotency import IdempotencyKeys
from tests.api import create_order, get_order, headers, put_lines
from tests.bundle import KEY_1, KEY_2, KEY_OPS

ORDERS = "/v2/shop/commercial-orders"
ONE = "/v1/shop/commercial-orders"
JOBS = "/v1/operator/import-jobs"
REPLAYED = "idempotent-replayed"
TIER_5 = {"updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": 5}]}


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


def keyed(key: str, api_key: str = KEY_1, client_type: str = "ACCOUNT") -> dict[str, str]:
    return {**headers(api_key, client_type), "Idempotency-Key": key}


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert (response.json()["status"], response.json()["code"]) == (status, code)


def assert_replay_of(first: httpx.Response, repeat: httpx.Response) -> None:
    assert REPLAYED not in first.headers
    assert repeat.headers[REPLAYED] == "true"
    assert repeat.status_code == first.status_code
    assert repeat.content == first.content
    for name in ("etag", "location", "content-type", "content-length"):
        assert repeat.headers.get(name) == first.headers.get(name), name


def version(client: TestClient, reference: str, api_key: str = KEY_1) -> int:
    value: int = get_order(client, reference, api_key)["version"]
    return value


def order_count(client: TestClient) -> int:
    page = client.get(ORDERS, headers=headers()).json()
    count: int = page["totalElements"]
    return count


def key_rows(app: FastAPI, key: str) -> list[Any]:
    with app.state.engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT state, expires_at FROM idempotency_keys WHERE key = :key"),
                {"key": key},
            )
        )


# --- first run and replay, on every keyed write ----------------------------------------------


def _create(client: TestClient, _reference: str, key: str) -> httpx.Response:
    return client.post(ORDERS, json={}, headers=keyed(key))


def _update_lines(client: TestClient, reference: str, key: str) -> httpx.Response:
    return client.put(f"{ORDERS}/{reference}/lines", json=TIER_5, headers=keyed(key))


def _delete_lines(client: TestClient, reference: str, key: str) -> httpx.Response:
    return client.request(
        "DELETE",
        f"{ORDERS}/{reference}/lines",
        json=[{"offerPriceId": "OP-TIER"}],
        headers=keyed(key),
    )


def _synchronise(client: TestClient, reference: str, key: str) -> httpx.Response:
    # The line's price went stale (set below), so the synchronise has something to change.
    return client.put(f"{ONE}/{reference}/sync", headers=keyed(key))


def _push_to_cpq(client: TestClient, reference: str, key: str) -> httpx.Response:
    # No CPQ system is configured: a 422, and a 4xx answer is kept like a 2xx.
    return client.post(f"{ONE}/{reference}/actions/synchronize", headers=keyed(key))


WRITES: dict[str, tuple[Callable[[TestClient, str, str], httpx.Response], int]] = {
    "create": (_create, 201),
    "update lines": (_update_lines, 200),
    "delete lines": (_delete_lines, 204),
    "synchronise": (_synchronise, 200),
    "CPQ push": (_push_to_cpq, 422),
}


@pytest.mark.parametrize("write", WRITES)
def test_a_repeat_gets_the_first_answer_byte_for_byte_and_changes_nothing(
    client: TestClient, write: str
) -> None:
    call, status = WRITES[write]
    reference = create_order(client)
    put_lines(client, reference, [{"id": "OP-TIER", "quantity": 3}])
    if write == "synchronise":
        with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
            conn.execute(text("UPDATE order_lines SET net_unit_price = net_unit_price + 1"))
            # As every writer does (the serving process keeps orders' rows by version).
            conn.execute(text("UPDATE commercial_orders SET version = version + 1"))
    before = version(client, reference)
    orders_before = order_count(client)
    key = new_key()

    first = call(client, reference, key)
    assert first.status_code == status, first.text
    after_first = version(client, reference)
    repeat = call(client, reference, key)

    assert_replay_of(first, repeat)
    assert version(client, reference) == after_first
    if write == "create":
        assert order_count(client) == orders_before + 1
        assert first.headers["location"].endswith(first.json()["reference"])
    elif status < 300:
        assert after_first == before + 1
        assert first.headers["etag"] == f'"{after_first}"'


def test_a_request_without_a_key_runs_every_time(client: TestClient) -> None:
    reference = create_order(client)
    before = version(client, reference)
    for quantity in (3, 4):
        lines = {"updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": quantity}]}
        answer = client.put(f"{ORDERS}/{reference}/lines", json=lines, headers=headers())
        assert answer.status_code == 200
        assert REPLAYED not in answer.headers
    assert version(client, reference) == before + 2


def test_the_same_key_with_another_request_is_422_and_runs_nothing(client: TestClient) -> None:
    reference = create_order(client)
    key = new_key()
    assert _update_lines(client, reference, key).status_code == 200
    done = version(client, reference)

    other_body = {"updateOrderCommercialLines": [{"id": "OP-TIER", "quantity": 7}]}
    other_order = create_order(client)
    for repeat in (
        client.put(f"{ORDERS}/{reference}/lines", json=other_body, headers=keyed(key)),
        client.put(f"{ORDERS}/{other_order}/lines", json=TIER_5, headers=keyed(key)),
        client.put(
            f"{ORDERS}/{reference}/lines",
            json=TIER_5,
            headers={**keyed(key), "If-Match": f'"{done}"'},
        ),
    ):
        assert_error(repeat, 422, "IDEMPOTENCY_KEY_REUSED")
    assert version(client, reference) == done
    assert get_order(client, other_order)["logisticOrders"] == []


def test_a_key_belongs_to_its_caller(client: TestClient) -> None:
    key = new_key()
    mine = client.post(ORDERS, json={}, headers=keyed(key, KEY_1))
    theirs = client.post(ORDERS, json={}, headers=keyed(key, KEY_2))
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert REPLAYED not in theirs.headers
    assert mine.json()["reference"] != theirs.json()["reference"]
    version(client, theirs.json()["reference"], KEY_2)  # KEY_2's own order


def test_a_json_body_is_compared_byte_for_byte(client: TestClient) -> None:
    key = new_key()
    reference = create_order(client)
    first = client.put(f"{ORDERS}/{reference}/lines", json=TIER_5, headers=keyed(key))
    assert first.status_code == 200
    spaced = orjson.dumps(TIER_5) + b" "
    other = client.put(
        f"{ORDERS}/{reference}/lines",
        content=spaced,
        headers={**keyed(key), "content-type": "application/json"},
    )
    assert_error(other, 422, "IDEMPOTENCY_KEY_REUSED")


# --- while the first request runs ------------------------------------------------------------


@pytest.fixture
def held_update(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, ...]]:
    """update_lines waits inside the handler until `release` is set; `entered` says it got
    there."""
    entered, release = threading.Event(), threading.Event()
    real = update_lines.update_lines

    def waiting(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(update_lines, "update_lines", waiting)
    yield entered, release
    release.set()


def test_a_repeat_while_the_first_runs_is_409_and_then_gets_its_answer(
    client: TestClient, held_update: tuple[threading.Event, ...]
) -> None:
    entered, release = held_update
    reference = create_order(client)
    before = version(client, reference)
    key = new_key()
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(_update_lines, client, reference, key)
        assert entered.wait(timeout=30)
        assert_error(_update_lines(client, reference, key), 409, "IDEMPOTENCY_KEY_IN_USE")
        release.set()
        first = running.result(timeout=30)
    assert first.status_code == 200, first.text
    assert_replay_of(first, _update_lines(client, reference, key))
    assert version(client, reference) == before + 1


def test_a_5xx_is_not_kept_and_the_key_may_be_used_again(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = create_order(client)
    before = version(client, reference)
    key = new_key()
    real = update_lines.update_lines

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise BadGateway(ErrorCode.PRICING_UNAVAILABLE, "The pricing system is down.")

    monkeypatch.setattr(update_lines, "update_lines", failing)
    assert_error(_update_lines(client, reference, key), 502, "PRICING_UNAVAILABLE")
    assert key_rows(client.app, key) == []  # type: ignore[arg-type]
    monkeypatch.setattr(update_lines, "update_lines", real)

    retried = _update_lines(client, reference, key)
    assert retried.status_code == 200, retried.text
    assert REPLAYED not in retried.headers
    assert version(client, reference) == before + 1


def test_a_key_left_running_by_a_dead_process_runs_again_once_its_lock_ran_out(
    client: TestClient, app: FastAPI
) -> None:
    reference = create_order(client)
    before = version(client, reference)
    key = new_key()
    path = f"{ORDERS}/{reference}/lines"
    body = orjson.dumps(TIER_5)
    fingerprint = RequestFingerprint("PUT", path, b"", None)
    fingerprint.update(body)
    # A process took the key for this very request, then died before answering.
    keys = IdempotencyKeys(lambda: UnitOfWork(app.state.session_factory), ttl_s=60, lock_s=60)
    with app.state.engine.connect() as conn:
        user_id = conn.execute(text("SELECT id FROM users WHERE external_id = 'U-1'")).scalar()
    assert isinstance(keys.claim(user_id, key, fingerprint.hexdigest()), KeyClaim)

    def send(content: bytes) -> httpx.Response:
        return client.put(
            path, content=content, headers={**keyed(key), "content-type": "application/json"}
        )

    assert_error(send(body), 409, "IDEMPOTENCY_KEY_IN_USE")
    with app.state.engine.begin() as conn:
        conn.execute(
            text("UPDATE idempotency_keys SET locked_until = :past WHERE key = :key"),
            {"past": datetime.now(UTC) - timedelta(seconds=1), "key": key},
        )
    # Only the same request may take the abandoned key over.
    assert_error(send(orjson.dumps(TIER_5) + b"\n"), 422, "IDEMPOTENCY_KEY_REUSED")
    taken_over = send(body)
    assert taken_over.status_code == 200, taken_over.text
    assert REPLAYED not in taken_over.headers
    assert_replay_of(taken_over, send(body))
    assert version(client, reference) == before + 1


# --- expiry ----------------------------------------------------------------------------------


def _expire(app: FastAPI, key: str) -> None:
    with app.state.engine.begin() as conn:
        conn.execute(
            text("UPDATE idempotency_keys SET expires_at = :past WHERE key = :key"),
            {"past": datetime.now(UTC) - timedelta(seconds=1), "key": key},
        )


def test_a_key_is_kept_for_a_day(client: TestClient, app: FastAPI) -> None:
    key = new_key()
    started = datetime.now(UTC)
    assert _create(client, "", key).status_code == 201
    [(state, expires_at)] = key_rows(app, key)
    assert state == "COMPLETED"
    if isinstance(expires_at, str):  # SQLite without the column type, in a raw query
        expires_at = datetime.fromisoformat(expires_at)
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    assert timedelta(hours=23, minutes=59) < expires_at - started < timedelta(hours=24, minutes=1)


def test_an_expired_key_is_free_again_and_new_keys_purge_expired_ones(
    client: TestClient, app: FastAPI
) -> None:
    reference = create_order(client)
    old, stale = new_key(), new_key()
    assert _create(client, "", old).status_code == 201
    assert _update_lines(client, reference, stale).status_code == 200
    _expire(app, old)
    _expire(app, stale)

    # The expired key is a new key: another request with it runs.
    other = client.post(ORDERS, json={"sourceType": None}, headers=keyed(old))
    assert other.status_code == 201, other.text
    assert REPLAYED not in other.headers
    # And taking it (a new key) purged the other expired row.
    assert key_rows(app, stale) == []
    assert [state for state, _ in key_rows(app, old)] == ["COMPLETED"]


# --- the key itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [b"", b"two words", b"x" * 256, "clé".encode(), b"tab\there"],
    ids=["empty", "space", "256 characters", "not ASCII", "control character"],
)
def test_a_key_that_is_not_1_to_255_visible_ascii_characters_is_400(
    client: TestClient, value: bytes
) -> None:
    reference = create_order(client)
    before = version(client, reference)
    answer = client.put(
        f"{ORDERS}/{reference}/lines",
        json=TIER_5,
        headers=[*headers().items(), ("Idempotency-Key", value)],  # type: ignore[list-item]
    )
    assert_error(answer, 400, "IDEMPOTENCY_KEY_INVALID")
    assert version(client, reference) == before


def test_a_body_over_the_limit_is_413_and_takes_no_key(client: TestClient, app: FastAPI) -> None:
    # Sent without Content-Length, so the limit is met while the middleware spools the body.
    reference = create_order(client)
    key = new_key()
    chunk = b" " * 65_536
    answer = client.put(
        f"{ORDERS}/{reference}/lines",
        content=iter([orjson.dumps(TIER_5), *[chunk] * 8]),
        headers={**keyed(key), "content-type": "application/json"},
    )
    assert_error(answer, 413, "PAYLOAD_TOO_LARGE")
    assert key_rows(app, key) == []


def test_a_key_of_255_visible_characters_is_taken(client: TestClient) -> None:
    key = "".join(chr(33 + i % 94) for i in range(255))
    first = client.post(ORDERS, json={}, headers=keyed(key))
    assert first.status_code == 201
    assert_replay_of(first, client.post(ORDERS, json={}, headers=keyed(key)))


def test_the_header_is_documented_on_the_keyed_writes_only(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    documented = {
        (method, path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    }
    assert documented == {
        ("post", ORDERS),
        ("put", f"{ORDERS}/{{reference}}/lines"),
        ("delete", f"{ORDERS}/{{reference}}/lines"),
        ("put", f"{ONE}/{{reference}}/sync"),
        ("post", f"{ONE}/{{reference}}/actions/synchronize"),
        ("post", JOBS),
    }


# --- the CSV upload --------------------------------------------------------------------------


class _NoQueue:
    """Jobs stay PENDING: enough to count the jobs an upload created."""

    def enqueue_import(self, job_id: str, partitions: int) -> None:
        pass


def _csv(rows: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["Order Reference", "Order Line Id", "Order Line Quantity"])
    writer.writerows([f"260-000-{n:07d}-1", str(n), "2"] for n in range(rows))
    return buffer.getvalue().encode()


def _job_count(app: FastAPI) -> int:
    with app.state.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM import_jobs")).scalar_one())


@pytest.fixture
def no_queue(client: TestClient, app: FastAPI) -> Iterator[None]:
    # (Not monkeypatch: it cannot put back an attribute of Starlette's State.)
    original = app.state.dispatcher
    app.state.dispatcher = _NoQueue()
    yield
    app.state.dispatcher = original


@pytest.mark.parametrize("rows", [3, 45_000], ids=["small", "over the in-memory spool"])
@pytest.mark.usefixtures("no_queue")
def test_a_repeated_upload_gets_the_first_job_and_creates_no_other(
    client: TestClient, app: FastAPI, rows: int
) -> None:
    data = _csv(rows)
    assert (len(data) > SPOOL_MEMORY_BYTES) == (rows > 3)
    key = new_key()
    jobs_before = _job_count(app)

    def upload() -> httpx.Response:
        # httpx draws a new multipart boundary per request, as real clients do.
        return client.post(
            JOBS,
            files={"file": ("orders.csv", data, "text/csv")},
            data={"type": "INTERNAL_ORDER_UPDATE"},
            headers=keyed(key, KEY_OPS, "OPERATOR"),
        )

    first = upload()
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "PENDING"
    assert_replay_of(first, upload())
    assert _job_count(app) == jobs_before + 1
    job = client.get(f"{JOBS}/{first.json()['jobId']}", headers=headers(KEY_OPS, "OPERATOR"))
    assert job.json()["total"] == rows
