"""Many rows in one statement. Updated by id: on PostgreSQL `UPDATE … FROM unnest(<one
array per column>)`, a handful of parameters however many rows, where an executemany costs
a statement (and a row of parameters) per row; used by the CSV import's chunks and by writes
that change many lines of one order (a synchronise). Added: `COPY … FROM STDIN` of rows
already in COPY's text format (the import's staged rows and history). Read: many rows as
plain tuples (`fetch_tuples`)."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from threading import Lock
from typing import Any, NamedTuple

from sqlalchemy import JSON, ColumnElement, Select, String, Table, any_, bindparam, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from ordersync.adapters.db.engine import json_dumps


def one_of(
    dialect: Dialect, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """`column IN (values)`. On PostgreSQL `column = ANY(<one array>)`: one parameter however
    many values, where `IN` sends one each and the server parses and plans them all (for a
    thousand ids, 19 ms against 12 for the whole query)."""
    if dialect.name == "postgresql":
        element = column.type
        if isinstance(element, String) and element.length is not None:
            # The array is cast to its element type, and a cast to VARCHAR(n) cuts longer
            # text short: a 200-character id would match the stored id of its first n.
            element = String()
        return column == any_(bindparam(None, list(values), type_=ARRAY(element)))
    return column.in_(values)


def fetch_tuples(session: Session, query: Select[Any]) -> list[tuple[Any, ...]]:
    """Every row of `query` as a plain tuple, for the CSV import's chunks (thousands of rows
    a statement). On PostgreSQL the statement, compiled by SQLAlchemy, runs on the session's
    connection (in its transaction) through the driver's own cursor, whose rows are tuples
    built in C: SQLAlchemy's rows and result handling took half the CPU of reading an
    order line (5.0 µs of it against 2.5, 5,000 lines a chunk; stop 24). So only for
    columns the driver gives as they are wanted, with no result processor (JSON read as
    text, amounts as NUMERIC), and parameters the driver takes as they are (SQLAlchemy's
    bind processors are not run); statement events do not see these statements."""
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        return [tuple(row) for row in session.execute(query)]
    compiled = query.compile(dialect=dialect)
    driver = session.connection().connection.driver_connection
    assert driver is not None
    return driver.execute(compiled.string, compiled.params).fetchall()  # type: ignore[no-any-return]


def update_by_id(
    session: Session,
    table: Table,
    columns: Sequence[str],
    values: Sequence[tuple[Any, ...]],
    bump_version: bool = False,
    *,
    in_background: bool = False,
) -> Future[None] | None:
    """Rows of `table` by id (each value tuple: the id, then `columns`); `bump_version` adds
    one to their `version`. On SQLite, in-process, an executemany.

    `in_background` (PostgreSQL): the statement is built here, then sent and waited for on
    a thread of `background_statements`, and its Future returned at once, so that the
    caller's Python goes on while the database works. Until that Future is done the
    session's connection is the thread's: the caller must wait for it before any other use
    of the session (a rollback included)."""
    c = table.c
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        extra = {"version": c.version + 1} if bump_version else {}
        session.execute(
            update(table)
            .where(c.id == bindparam("_id"))
            .values({k: bindparam(k) for k in columns} | extra),
            [dict(zip(("_id", *columns), row, strict=True)) for row in values],
            execution_options={"synchronize_session": False},
        )
        return None
    statement, kinds = _unnest_update(table, tuple(columns), bump_version, dialect)
    arrays = _arrays(values, kinds)
    # The driver's own parameter style (%s): SQLAlchemy passes it through as written, and
    # its statement events still see it.
    connection = session.connection()
    if in_background:
        return background_statements().submit(
            contextvars.copy_context().run, _execute, connection, statement, arrays
        )
    connection.exec_driver_sql(statement, arrays)
    return None


class ByIdUpdate(NamedTuple):
    """One `update_by_id`, as its arguments."""

    table: Table
    columns: Sequence[str]
    values: Sequence[tuple[Any, ...]]
    bump_version: bool = False


def update_all_by_id(session: Session, updates: Sequence[ByIdUpdate]) -> None:
    """Several `update_by_id` of different tables (those with values). On PostgreSQL one
    statement: each `UPDATE … FROM unnest(…)` but the last a data-modifying WITH query,
    which PostgreSQL runs once and to completion, all on the statement's snapshot (an
    import chunk's lines, logistic orders and orders: one round trip instead of three,
    and its writing thread waits for the interpreter lock each time one returns)."""
    updates = [u for u in updates if u.values]
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql" or len(updates) < 2:
        for u in updates:
            update_by_id(session, u.table, u.columns, u.values, u.bump_version)
        return
    statements: list[str] = []
    arrays: list[str] = []
    for u in updates:
        statement, kinds = _unnest_update(u.table, tuple(u.columns), u.bump_version, dialect)
        statements.append(statement)
        arrays.extend(_arrays(u.values, kinds))
    *first, last = statements
    queries = ", ".join(f"update_{i} AS ({statement})" for i, statement in enumerate(first))
    # The parameters (%s) in the order the statements are written.
    session.connection().exec_driver_sql(f"WITH {queries} {last}", tuple(arrays))


def _execute(connection: Any, statement: str, parameters: tuple[str, ...]) -> None:
    connection.exec_driver_sql(statement, parameters)


_executor: ThreadPoolExecutor | None = None
_executor_lock = Lock()
# Threads that wait for statements sent in the background: as many as a serving process
# has request threads (anyio's default), so that no request's statement queues behind
# another's. Idle ones cost nothing; they are started when first needed.
BACKGROUND_THREADS = 40


def background_statements() -> ThreadPoolExecutor:
    """The process's threads for statements sent in the background (update_by_id)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(BACKGROUND_THREADS, thread_name_prefix="db-statement")
        return _executor


# How a column's values are written in an array's text form.
_BARE = 0  # numbers and booleans: as str() gives them
_QUOTED = 1  # text, times: in double quotes, `"` and `\` escaped
_JSON = 2  # JSON documents: dumped, then quoted


def _arrays(values: Sequence[tuple[Any, ...]], kinds: Sequence[int]) -> tuple[str, ...]:
    """Rows of values (the id, then each column) as one array text per column."""
    return tuple(
        _array_text(column, kind)
        for column, kind in zip(zip(*values, strict=True), kinds, strict=True)
    )


def _array_text(values: Sequence[Any], kind: int) -> str:
    r"""PostgreSQL's text form of a one-dimensional array, `{1,NULL,"a \"b\""}`, built by
    str.join: a quarter of the time the driver takes to send a Python list (1.0 against 4.1
    ms for 4,000 numbers), and a chunk of an import sends tens of thousands."""
    if kind == _BARE:
        items = ["NULL" if v is None else str(v) for v in values]
    else:
        if kind == _JSON:
            values = [None if v is None else json_dumps(v) for v in values]
        items = [
            "NULL" if v is None else '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
            for v in values
        ]
    return "{" + ",".join(items) + "}"


@cache
def _unnest_update(
    table: Table, columns: tuple[str, ...], bump_version: bool, dialect: Dialect
) -> tuple[str, tuple[int, ...]]:
    """`UPDATE table SET … FROM unnest(%s::type[], …) AS given(id, …) WHERE id = given.id`
    for PostgreSQL, and how each parameter's values are written (_BARE, _QUOTED, _JSON: sent
    as text, cast in the SET)."""
    names = ("id", *columns)
    types: list[str] = []
    kinds: list[int] = []
    for name in names:
        sql_type = table.c[name].type
        if isinstance(sql_type, JSON):
            types.append("text")
            kinds.append(_JSON)
            continue
        if isinstance(sql_type, String) and sql_type.length is not None:
            # Unbounded: a cast to VARCHAR(n) would cut a longer value short without a
            # word, where assigning it to the column refuses it, as any UPDATE does.
            types.append("varchar")
        else:
            types.append(sql_type.compile(dialect=dialect))
        try:
            bare = sql_type.python_type in (int, bool, Decimal)
        except NotImplementedError:  # a type that does not say: quoted is always right
            bare = False
        kinds.append(_BARE if bare else _QUOTED)
    sets = [
        f"{name} = given.{name}::json"
        if kinds[names.index(name)] == _JSON
        else f"{name} = given.{name}"
        for name in columns
    ]
    if bump_version:
        sets.append("version = target.version + 1")
    arrays = ", ".join(f"%s::{t}[]" for t in types)
    statement = (
        f"UPDATE {table.name} AS target SET {', '.join(sets)} "
        f"FROM unnest({arrays}) AS given({', '.join(names)}) WHERE target.id = given.id"
    )
    return statement, tuple(kinds)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
COPY_NULL = "\\N"


def copy_field(value: object) -> str:
    """A value as a field of COPY's text format: None as `\\N`; text with its backslashes,
    tabs, newlines and carriage returns escaped; anything else as str() gives it. (Text with
    none of them, nearly all, is returned as it is: `str.translate` looks every character up
    in a dict, 0.45 µs for a 17-character reference, a search 0.05.)"""
    if value is None:
        return COPY_NULL
    text = value if isinstance(value, str) else str(value)
    return text.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(text) else text


def copy_fields_plain(texts: Iterable[str]) -> bool:
    """Whether these texts are all COPY fields as they are (copy_field would change none of
    them): one search of them all, joined by a character that needs no escape."""
    return _COPY_SPECIAL.search(" ".join(texts)) is None


def copy_json(value: object) -> str:
    """A JSON document as a field of COPY's text format. JSON text holds no raw tab, newline
    or carriage return (orjson escapes them), so only its backslashes are doubled."""
    return json_dumps(value).replace("\\", "\\\\")


@contextmanager
def copy_text_stream(
    session: Session, table: str, columns: Sequence[str]
) -> Iterator[Callable[[str], None]]:
    """`COPY table (columns) FROM STDIN`, open while the block runs: each call of the
    function it gives sends rows already in COPY's text format, which the server takes in
    while the caller prepares the next ones. The session's connection serves nothing else
    meanwhile. An exception in the block aborts the COPY (nothing of it is kept).
    PostgreSQL only."""
    connection = session.connection().connection.driver_connection
    assert connection is not None
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        yield copy.write


def copy_text_rows(session: Session, table: str, columns: Sequence[str], text: str) -> None:
    """`COPY table (columns) FROM STDIN` of rows already in COPY's text format (fields
    joined by tabs, each row ended by a newline; see copy_field), sent as one block: the
    driver's write_row took 5 µs a row of an import's history, the rows built by f-strings
    and str.join a fraction of that. PostgreSQL only."""
    with copy_text_stream(session, table, columns) as write:
        write(text)
