"""Deployment settings: one typed object, read once at start-up (prefix ORDERSYNC_)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ordersync.domain.imports import DEFAULT_CHUNK_ROWS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERSYNC_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./ordersync.db"
    host: str = "127.0.0.1"
    port: int = 8000
    log_json: bool = False
    log_level: str = "INFO"

    # --- request limits (README "Limits") -------------------------------------------------
    max_body_bytes: int = Field(1_048_576, ge=1)
    max_bundle_bytes: int = Field(67_108_864, ge=1)
    # A bundle up to this size loads on a request thread; a larger one in a child process,
    # so its parsing neither holds the serving process's GIL nor keeps its memory.
    bundle_inline_bytes: int = Field(1_048_576, ge=0)
    # Variants or offers validated and written at a time when a bundle is loaded from a file
    # (a large upload, `ordersync load`): what bounds the loader's memory.
    bundle_chunk_items: int = Field(2_000, ge=1, le=100_000)
    max_header_bytes: int = Field(32_768, ge=1_024)  # request line + every header, 431 above
    max_headers: int = Field(100, ge=8)  # header fields per request, 431 above
    header_timeout_s: float = Field(10.0, gt=0)  # to receive the request line and headers
    body_timeout_s: float = Field(60.0, gt=0)  # to receive the whole body, 408 after
    keep_alive_timeout_s: int = Field(5, ge=1)
    limit_concurrency: int | None = Field(1_000, ge=1)  # connections per process, 503 above

    # --- server processes -------------------------------------------------------------------
    workers: int | None = Field(None, ge=1)  # None: CPU count on PostgreSQL, 1 on SQLite
    # New objects between two collections of the youngest generation (CPython's own: 700);
    # see jobs/collector.collect_less_often.
    gc_young_threshold: int = Field(50_000, ge=1, le=10_000_000)
    # Lines of orders whose rows each serving process keeps between two writes of the same
    # order (adapters/db/order_cache.py; about 1 KB a line); 0: none kept.
    order_cache_lines: int = Field(20_000, ge=0, le=10_000_000)

    # --- database pool (per process) ------------------------------------------------------
    db_pool_size: int = Field(5, ge=1)
    db_max_overflow: int = Field(5, ge=0)
    db_pool_timeout_s: float = Field(5.0, gt=0)  # waiting for a pooled connection, 503 after
    db_connect_timeout_s: int = Field(5, ge=1)  # opening a PostgreSQL connection
    db_retry_after_s: int = Field(5, ge=1)  # Retry-After of a 503 DATABASE_UNAVAILABLE
    db_pre_ping: bool = False  # test each connection before use (a round trip each time)

    # --- real-time pricing client (SPEC §5.1) ------------------------------------------------
    pricing_connect_timeout_s: float = Field(0.5, gt=0)
    pricing_timeout_s: float = Field(2.0, gt=0)  # the whole call, retries included
    pricing_breaker_failures: int = Field(5, ge=1)  # consecutive failures that open it
    pricing_breaker_reset_s: float = Field(30.0, gt=0)  # open -> half-open after this

    # --- CPQ client (SPEC §5.2) ----------------------------------------------------------------
    cpq_connect_timeout_s: float = Field(1.0, gt=0)
    cpq_timeout_s: float = Field(5.0, gt=0)  # the whole push, retries included
    cpq_lease_margin_s: float = Field(5.0, ge=0)  # a push lease lasts cpq_timeout_s + this

    # --- job queue (procrastinate on PostgreSQL; `ordersync worker`) -----------------------
    # A job whose worker sent no heartbeat for this long is retried by another worker; the
    # heartbeat interval and the stalled-job sweep are derived from it (jobs/queue.py).
    queue_stalled_after_s: float = Field(30.0, gt=0)
    queue_worker_concurrency: int = Field(1, ge=1)  # partitions one worker runs at once

    # --- CSV import jobs (SPEC §4) -----------------------------------------------------------
    import_max_bytes: int = Field(104_857_600, ge=1)  # upload limit, 413 above
    # Rows of one commercial order share a partition; partitions run in parallel (one queue
    # task each). Fixed per job, so results never depend on how many workers there are.
    import_partitions: int = Field(4, ge=1, le=64)
    # Rows applied per transaction. Each chunk holds its rows, their orders and lines in
    # memory (about 2 KB per row), and moves its partition's checkpoint when it commits.
    import_chunk_rows: int = Field(DEFAULT_CHUNK_ROWS, ge=1, le=50_000)

    # --- order history (SPEC §7) ------------------------------------------------------------
    # Every write to an order records what it changed. Off: no entry is written (the history
    # endpoints answer what was recorded before); for deployments whose audit lives
    # elsewhere, and for the benchmarks' with/without figures.
    history_enabled: bool = True

    # --- idempotency keys (SPEC §7) ----------------------------------------------------------
    idempotency_ttl_s: int = Field(86_400, ge=1)  # how long a key and its answer are kept
    # A running first request renews its key's lock every third of this; a process that died
    # mid-request leaves the key locked this long at most, then a repeat runs it again.
    idempotency_lock_s: float = Field(60.0, gt=0)

    # --- operator page (/admin) ----------------------------------------------------------------
    # Keys the page's CSRF tokens (an HMAC of it and the session key's digest): the same value
    # for every server process of a deployment, so any of them checks any form. Unset: a
    # built-in value, with a warning at start-up.
    admin_secret: SecretStr | None = None


@lru_cache
def get_settings() -> Settings:
    return Settings()
