"""Engines for SQLite (embedded default) and PostgreSQL (production), one URL apart."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from ordersync.settings import Settings

# The settings' field defaults (no environment read): the pool of an engine built from a
# bare URL (CLI, migrations, benchmarks).
DEFAULTS = Settings.model_construct()
HISTORY_KEY = "ordersync_history"
RETRY_AFTER_KEY = "retry_after_s"  # in Session.info


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_from_settings(settings: Settings) -> Engine:
    """The serving process's engine: at most `db_pool_size + db_max_overflow` connections,
    a request waits `db_pool_timeout_s` for a free one (then the unit of work answers 503),
    and a PostgreSQL connection takes at most `db_connect_timeout_s` to open."""
    return make_engine(settings.database_url, **_pool_options(settings, settings.database_url))


def json_dumps(value: Any) -> str:
    """JSON columns are written with orjson (a Decimal, should one get there, as a string)."""
    return orjson.dumps(value, default=str).decode()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; `kwargs` go to `create_engine`. The pool is the default
    settings' unless `kwargs` say otherwise. JSON columns are read and written with orjson
    (several times faster than the standard library on an order's lines and prices)."""
    url = normalise_url(url)
    kwargs.setdefault("json_serializer", json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _serialise_sqlite_writers(engine)
        return engine
    for key, value in _pool_options(DEFAULTS, url).items():
        kwargs.setdefault(key, value)
    return create_engine(url, **kwargs)


def _pool_options(settings: Settings, url: str) -> dict[str, Any]:
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        # An in-memory database keeps one connection per thread: no pool to size.
        return _queue_pool(settings) if _is_sqlite_file(parsed) else {}
    return {
        **_queue_pool(settings),
        # A ping costs a round trip per unit of work; without it, a connection the server
        # dropped fails one request with 503 DATABASE_UNAVAILABLE and the pool drops it.
        "pool_pre_ping": settings.db_pre_ping,
        "connect_args": {"connect_timeout": settings.db_connect_timeout_s},
    }


def _queue_pool(settings: Settings) -> dict[str, Any]:
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_s,
    }


def _is_sqlite_file(url: URL) -> bool:
    """What SQLAlchemy's SQLite dialect gives a QueuePool (a file), as opposed to the
    per-thread pool of an in-memory database."""
    return url.database not in (None, "", ":memory:") and url.query.get("mode") != "memory"


def _serialise_sqlite_writers(engine: Engine) -> None:
    """SQLite has one writer at a time: take the write lock when the transaction begins
    (BEGIN IMMEDIATE) so concurrent requests queue on the busy timeout instead of failing
    when a read transaction later tries to write."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(
    engine: Engine,
    retry_after_s: int = DEFAULTS.db_retry_after_s,
    history: bool = DEFAULTS.history_enabled,
) -> sessionmaker[Session]:
    """Sessions for units of work; `retry_after_s` is the hint their 503 DATABASE_UNAVAILABLE
    gives, `history` whether their writes record order history (every unit of work built on
    this factory reads both from `Session.info`)."""
    return sessionmaker(
        engine,
        expire_on_commit=False,
        autoflush=False,
        info={RETRY_AFTER_KEY: retry_after_s, HISTORY_KEY: history},
    )
