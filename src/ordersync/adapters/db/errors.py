"""Which database failures mean "the database cannot serve now" (503, retry later), as
opposed to a failure of the request itself (a constraint, bad data, a lost race)."""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy import exc as sa_exc

# PostgreSQL SQLSTATEs of a server refusing work: too many connections, and the three
# shutdown kinds (admin, crash, starting up or shutting down). Class 08 (connection
# exception) counts as a whole.
UNAVAILABLE_SQLSTATES = frozenset({"53300", "57P01", "57P02", "57P03"})
UNAVAILABLE_SQLSTATE_CLASSES = ("08",)

# SQLite: the file cannot be opened, or another writer kept the lock past the busy timeout.
# SQLITE_BUSY_SNAPSHOT (a read transaction that may no longer write) is a lost race instead.
SQLITE_CANTOPEN = 14
SQLITE_BUSY = 5
SQLITE_BUSY_SNAPSHOT = 517


def is_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot serve now — the pool is exhausted, the server
    is unreachable, refuses connections or is shutting down, the connection broke, the SQLite
    file cannot be opened or stays locked — so the request may succeed later unchanged.
    Constraint violations, data errors and serialization failures are not."""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    cause = exc.orig
    if isinstance(cause, psycopg.Error):
        sqlstate = cause.sqlstate
        if sqlstate is None:
            # No server answer at all: refused, DNS, connect_timeout, connection lost.
            return isinstance(cause, psycopg.OperationalError) and not isinstance(
                cause, psycopg.errors.PipelineAborted
            )
        return sqlstate in UNAVAILABLE_SQLSTATES or sqlstate.startswith(
            UNAVAILABLE_SQLSTATE_CLASSES
        )
    if isinstance(cause, sqlite3.OperationalError):
        code = cause.sqlite_errorcode  # the extended code; its low byte is the primary one
        return code != SQLITE_BUSY_SNAPSHOT and code & 0xFF in (SQLITE_CANTOPEN, SQLITE_BUSY)
    return False
