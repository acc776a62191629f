"""Persistence of CSV import jobs: job rows, staged rows and their results, the orders a chunk
locks and loads, and the chunk's writes — all set-based (one statement per kind), never one
statement per row."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from functools import cache
from itertools import compress
from operator import attrgetter, itemgetter, ne
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Numeric,
    Row,
    Text,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ordersync.adapters.csv.reader import CsvRecord
from ordersync.adapters.db.bulk import (
    COPY_NULL,
    ByIdUpdate,
    copy_field,
    copy_fields_plain,
    copy_json,
    copy_text_rows,
    copy_text_stream,
    fetch_tuples,
    one_of,
    update_all_by_id,
)
from ordersync.adapters.db.history_repository import HistoryRepository
from ordersync.adapters.db.tables import (
    accounts,
    commercial_orders,
    import_checkpoints,
    import_dry_run_orders,
    import_jobs,
    import_rows,
    logistic_orders,
    order_history,
    order_lines,
    user_accounts,
    users,
    variants,
)
from ordersync.adapters.db.types import ExactDecimal
from ordersync.domain.errors import DuplicateValue
from ordersync.domain.history import Actor, HistoryEntry
from ordersync.domain.imports import ImportJob, ImportType, JobStatus, RowOutcome, RowResult
from ordersync.domain.listing import LogisticOrderFilter, utc_bound
from ordersync.domain.statuses import LogisticOrderStatus
from ordersync.rules.internal_order_update import (
    Customer,
    LineState,
    LogisticOrderState,
    OrderState,
)

co = commercial_orders.c
lo_ = logistic_orders.c
ln_ = order_lines.c
jobs = import_jobs.c
rows = import_rows.c
checkpoints = import_checkpoints.c


StagedRow = tuple[int, int, str, str, Sequence[str], int]
"""One uploaded row as staged: (line number, partition, order key, line key, cells, extra
fields). A plain tuple: a million of them for a big file, each built by the interpreter in
30 ns where a named tuple's constructor took 350."""


def _job(r: Row[Any]) -> ImportJob:
    m = r._mapping
    return ImportJob(
        id=m["id"],
        type=ImportType(m["type"]),
        dry_run=m["dry_run"],
        status=JobStatus(m["status"]),
        file_name=m["file_name"],
        columns=tuple(m["columns"]),
        total=m["total"],
        processed=m["processed"],
        succeeded=m["succeeded"],
        failed=m["failed"],
        error_code=m["error_code"],
        error_message=m["error_message"],
        created_at=m["created_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
    )


class ImportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        # The values of the lines lock_orders loaded, by id: a chunk's write sends only the
        # columns its rows changed (a quantity file: four of sixteen, half the time).
        self._loaded_lines: dict[int, tuple[Any, ...]] = {}
        self._copying = False  # a COPY holds the session's connection (staging)

    @property
    def _dialect(self) -> Dialect:
        return self.session.get_bind().dialect

    @property
    def _postgresql(self) -> bool:
        return self._dialect.name == "postgresql"

    @property
    def overlapping_chunks(self) -> bool:
        """Whether a chunk may be read and applied while the previous one is still being
        written in another transaction. PostgreSQL: yes, the row locks make a chunk that
        shares an order with the previous one wait for its commit, then read what it wrote.
        SQLite: no, a read does not wait for the writer and would see the orders as they
        were."""
        return self._postgresql

    # --- jobs -----------------------------------------------------------------------------

    def add_job(
        self,
        job_id: str,
        *,
        dry_run: bool,
        file_name: str | None,
        columns: Sequence[str],
        partitions: int,
        created_by: int | None,
        now: datetime,
    ) -> None:
        self.session.execute(
            insert(import_jobs).values(
                id=job_id,
                type=ImportType.INTERNAL_ORDER_UPDATE.value,
                dry_run=dry_run,
                status=JobStatus.PENDING.value,
                file_name=file_name,
                columns=list(columns),
                partitions=partitions,
                total=0,
                processed=0,
                succeeded=0,
                failed=0,
                created_by=created_by,
                created_at=now,
            )
        )
        self.session.execute(
            insert(import_checkpoints),
            [{"job_id": job_id, "partition": p, "done_through": 0} for p in range(partitions)],
        )

    def job(self, job_id: str) -> ImportJob | None:
        r = self.session.execute(select(import_jobs).where(jobs.id == job_id)).first()
        return None if r is None else _job(r)

    def job_actor(self, job_id: str) -> Actor:
        """Who uploaded the job: the actor of the history its rows write."""
        row = self.session.execute(
            select(users.c.external_id, users.c.client_type)
            .join(import_jobs, jobs.created_by == users.c.id)
            .where(jobs.id == job_id)
        ).first()
        return Actor(row.external_id, row.client_type) if row else Actor(None, None)

    def partitions(self, job_id: str) -> int:
        return int(self.session.scalar(select(jobs.partitions).where(jobs.id == job_id)) or 0)

    def start(self, job_id: str, now: datetime) -> None:
        self.session.execute(
            update(import_jobs)
            .where(jobs.id == job_id, jobs.status == JobStatus.PENDING.value)
            .values(status=JobStatus.RUNNING.value, started_at=now)
        )

    def finish_if_done(self, job_id: str, now: datetime) -> ImportJob | None:
        """Set the job's final status once no row is left without a result. The job row is
        locked first, so partitions finishing at once settle it once; running it again (a
        retried task) changes nothing."""
        job = self.session.execute(
            select(import_jobs).where(jobs.id == job_id).with_for_update()
        ).first()
        if job is None or JobStatus(job._mapping["status"]).finished:
            return None
        pending = self.session.scalar(
            select(rows.line_number)
            .join(
                import_checkpoints,
                (checkpoints.job_id == rows.job_id) & (checkpoints.partition == rows.partition),
            )
            .where(
                rows.job_id == job_id,
                rows.result.is_(None),
                rows.line_number > checkpoints.done_through,
            )
            .limit(1)
        )
        if pending is not None:
            return None
        m = job._mapping
        status = (
            JobStatus.SUCCEEDED
            if m["failed"] == 0
            else JobStatus.FAILED
            if m["succeeded"] == 0
            else JobStatus.PARTIALLY_SUCCEEDED
        )
        self.session.execute(
            update(import_jobs)
            .where(jobs.id == job_id)
            .values(
                status=status.value,
                finished_at=now,
                started_at=func.coalesce(jobs.started_at, now),
            )
        )
        self.session.execute(
            delete(import_dry_run_orders).where(import_dry_run_orders.c.job_id == job_id)
        )
        return self.job(job_id)

    def unfinished_partitions(self) -> list[tuple[str, int]]:
        """(job, partition) pairs a crashed or restarted process left behind."""
        open_jobs = self.session.execute(
            select(jobs.id, jobs.partitions).where(
                jobs.status.in_([JobStatus.PENDING.value, JobStatus.RUNNING.value])
            )
        ).all()
        return [(job_id, p) for job_id, count in open_jobs for p in range(count)]

    # --- staged rows ------------------------------------------------------------------------

    @contextmanager
    def staging(self, job_id: str) -> Iterator[Callable[[Sequence[StagedRow]], None]]:
        """Where an upload's rows go, batch by batch. PostgreSQL: into one COPY for the whole
        upload, which the server takes in while the next batch is read (a COPY per batch
        waited for the server at each one: 23 µs of every row of a million-row upload);
        look-ups meanwhile (commercial_references) go through a connection of their own.
        SQLite: an executemany per batch."""
        if not self._postgresql:
            yield lambda staged: self._insert_staged(job_id, staged)
            return
        job = copy_field(job_id)
        with copy_text_stream(self.session, import_rows.name, _STAGED_COLUMNS) as write:
            self._copying = True
            try:
                yield lambda staged: write(_staged_text(job, staged))
            finally:
                self._copying = False

    def _insert_staged(self, job_id: str, staged: Sequence[StagedRow]) -> None:
        if not staged:
            return
        self.session.execute(
            insert(import_rows),
            [
                {
                    "job_id": job_id,
                    "line_number": line_number,
                    "partition": partition,
                    "order_key": order_key,
                    "line_key": line_key,
                    "cells": list(cells),
                    "extra_fields": extra_fields,
                }
                for line_number, partition, order_key, line_key, cells, extra_fields in staged
            ],
        )

    def mark_repeated_lines(self, job_id: str, code: str) -> int:
        """Give every row that names a line an earlier row of the file named its F-E-003
        result now, before any row is applied (so a dry run reports the same)."""
        numbered = (
            select(
                rows.line_number,
                func.row_number()
                .over(partition_by=(rows.order_key, rows.line_key), order_by=rows.line_number)
                .label("n"),
            )
            .where(rows.job_id == job_id, rows.line_key != "")
            .subquery()
        )
        repeated = select(numbered.c.line_number).where(numbered.c.n > 1)
        result = self.session.execute(
            update(import_rows)
            .where(rows.job_id == job_id, rows.line_number.in_(repeated))
            .values(
                result=RowResult.ERROR.value,
                error_code=code,
                error_message="The same order line appears earlier in the file.",
            )
        )
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if count:
            self.session.execute(
                update(import_jobs)
                .where(jobs.id == job_id)
                .values(processed=jobs.processed + count, failed=jobs.failed + count)
            )
        return count

    def set_total(self, job_id: str, total: int) -> None:
        self.session.execute(update(import_jobs).where(jobs.id == job_id).values(total=total))

    def checkpoint(self, job_id: str, partition: int) -> int:
        """The partition's last line applied, as committed now (not locked)."""
        return self._checkpoint(job_id, partition, locked=False)

    def lock_checkpoint(self, job_id: str, partition: int) -> int:
        """The partition's last line applied, locked until this transaction ends: a second
        run of the partition (a retried task while the first still runs) waits here, then
        starts after what the first applied."""
        return self._checkpoint(job_id, partition, locked=True)

    def _checkpoint(self, job_id: str, partition: int, *, locked: bool) -> int:
        query = select(checkpoints.done_through).where(
            checkpoints.job_id == job_id, checkpoints.partition == partition
        )
        done = self.session.scalar(query.with_for_update() if locked else query)
        return int(done or 0)

    def next_rows(
        self, job_id: str, partition: int, limit: int, after: int = 0
    ) -> list[CsvRecord]:
        """The partition's next rows without a result after line `after`, in file order."""
        query = (
            # The cells as JSON text, parsed below by orjson: the driver's JSON loader is a
            # Python call per row around the same parse.
            select(rows.line_number, cast(rows.cells, Text), rows.extra_fields)
            .where(
                rows.job_id == job_id,
                rows.partition == partition,
                rows.line_number > after,
                rows.result.is_(None),
            )
            .order_by(rows.line_number)
            .limit(limit)
        )
        loads = orjson.loads
        return [
            CsvRecord(n, tuple(loads(cells)), extra)
            for n, cells, extra in fetch_tuples(self.session, query)
        ]

    def record_chunk(
        self,
        job_id: str,
        partition: int,
        through: int,
        count: int,
        refused: Sequence[RowOutcome] = (),
    ) -> None:
        """A chunk's end, before its commit: the partition's checkpoint moves to `through`
        (the chunk's last line; a row that succeeded needs nothing more), the job's counts
        grow by its `count` rows, the `refused` ones get their results (one executemany: each
        carries a code and a message), and on PostgreSQL the commit is told not to wait for
        its WAL flush (`set_config(…, true)`, which lasts for the transaction). A chunk holds
        its rows' results with its changes, so a database crash that loses the last chunks'
        commits loses them whole and the job resumes before them; the commit that finishes
        the job waits as every commit does, and WAL is flushed in order, so a finished job's
        chunks are all on disk. On PostgreSQL the checkpoint, the counts and that setting
        are one statement (two data-modifying WITH queries): the writing thread waits for
        the interpreter lock each time one of its statements returns."""
        if not count:
            return
        checkpoint = (
            update(import_checkpoints)
            .where(checkpoints.job_id == job_id, checkpoints.partition == partition)
            .values(
                done_through=case(
                    (checkpoints.done_through < through, through),
                    else_=checkpoints.done_through,
                )
            )
        )
        counts = (
            update(import_jobs)
            .where(jobs.id == job_id)
            .values(
                processed=jobs.processed + count,
                succeeded=jobs.succeeded + count - len(refused),
                failed=jobs.failed + len(refused),
            )
        )
        if self._postgresql:
            self.session.execute(
                select(func.set_config("synchronous_commit", "off", True)).add_cte(
                    checkpoint.returning(checkpoints.done_through).cte("checkpoint"),
                    counts.returning(jobs.id).cte("counts"),
                )
            )
        else:
            self.session.execute(checkpoint)
            self.session.execute(counts)
        if not refused:
            return
        self.session.execute(
            update(import_rows)
            .where(
                rows.job_id == bindparam("_job"),
                rows.partition == bindparam("_partition"),
                rows.line_number == bindparam("_line"),
            )
            .values(
                result=bindparam("_result"),
                error_code=bindparam("_code"),
                error_message=bindparam("_message"),
            ),
            [
                {
                    "_job": job_id,
                    "_partition": partition,
                    "_line": o.line_number,
                    "_result": o.result.value,
                    "_code": o.code,
                    "_message": _storable(o.message),
                }
                for o in refused
            ],
            execution_options={"synchronize_session": False},
        )

    def report(
        self, job_id: str
    ) -> Iterator[tuple[int, list[str], str | None, str | None, str | None]]:
        """Every staged row with its result, in file order, streamed."""
        # A row without a result of its own succeeded if its partition's checkpoint is past
        # it (and is still to run otherwise).
        result = func.coalesce(
            rows.result,
            case((rows.line_number <= checkpoints.done_through, RowResult.SUCCESS.value)),
        )
        query = (
            select(
                rows.line_number,
                rows.cells,
                result.label("result"),
                rows.error_code,
                rows.error_message,
            )
            .outerjoin(
                import_checkpoints,
                (checkpoints.job_id == rows.job_id) & (checkpoints.partition == rows.partition),
            )
            .where(rows.job_id == job_id)
            .order_by(rows.line_number)
            .execution_options(yield_per=2_000)
        )
        for r in self.session.execute(query):
            yield r.line_number, list(r.cells), r.result, r.error_code, r.error_message

    def export(self, where: LogisticOrderFilter) -> Iterator[Row[Any]]:
        """One row per order line of the matching logistic orders, with what the import's
        columns show, streamed in logistic-order then line order."""
        customer = users.alias("customer")
        query = (
            select(
                lo_.external_id.label("lo_external_id"),
                lo_.reference,
                lo_.supplier_external_id,
                lo_.status,
                lo_.shipping_address,
                accounts.c.external_id.label("account_external_id"),
                customer.c.external_id.label("customer_external_id"),
                co.custom_fields.label("order_custom_fields"),
                order_lines,
            )
            .join(logistic_orders, lo_.id == ln_.logistic_order_id)
            .join(commercial_orders, co.id == lo_.commercial_order_id)
            .join(accounts, accounts.c.id == co.account_id)
            .join(customer, customer.c.id == co.customer_user_id)
            .order_by(lo_.id, ln_.id)
            .execution_options(yield_per=2_000)
        )
        if where.statuses:
            query = query.where(lo_.status.in_([s.value for s in where.statuses]))
        if where.supplier_external_id is not None:
            query = query.where(lo_.supplier_external_id == where.supplier_external_id)
        if where.account_external_id is not None:
            query = query.where(accounts.c.external_id == where.account_external_id)
        if where.created_from is not None:
            query = query.where(lo_.created_at >= utc_bound(where.created_from))
        if where.created_to is not None:
            query = query.where(lo_.created_at <= utc_bound(where.created_to))
        yield from self.session.execute(query)

    # --- the orders a chunk touches ---------------------------------------------------------

    def commercial_references(self, logistic_external_ids: Collection[str]) -> dict[str, str]:
        """Logistic-order external id -> its commercial order's reference."""
        if not logistic_external_ids:
            return {}
        query = (
            select(lo_.external_id, co.reference)
            .join(commercial_orders, co.id == lo_.commercial_order_id)
            .where(one_of(self._dialect, lo_.external_id, list(logistic_external_ids)))
        )
        if self._copying:  # the session's connection is busy with the upload's COPY
            with self.session.get_bind().engine.connect() as side:
                return dict(side.execute(query).all())
        return dict(self.session.execute(query).all())

    def lock_orders(
        self, references: Collection[str], external_ids: Collection[str]
    ) -> list[OrderState]:
        """The commercial orders holding these logistic orders, locked like every other
        writer locks them (FOR UPDATE, in id order), with all their logistic orders and
        lines: three statements."""
        named = []
        if references:
            named.append(one_of(self._dialect, lo_.reference, list(references)))
        if external_ids:
            named.append(one_of(self._dialect, lo_.external_id, list(external_ids)))
        if not named:
            return []
        ids = select(lo_.commercial_order_id).where(or_(*named))
        query = (
            select(commercial_orders, accounts.c.external_id.label("account_external_id"))
            .join(accounts, accounts.c.id == co.account_id)
            .where(co.id.in_(ids))
            .order_by(co.id)
            .with_for_update(of=commercial_orders)
        )
        orders = {r.id: _order_state(r) for r in self.session.execute(query)}
        if not orders:
            return []
        los: dict[int, LogisticOrderState] = {}
        for r in self.session.execute(
            select(logistic_orders)
            .where(one_of(self._dialect, lo_.commercial_order_id, list(orders)))
            .order_by(lo_.id)
        ).all():
            state = _logistic_order_state(r)
            los[state.id] = state
            orders[r.commercial_order_id].logistic_orders.append(state)
        loaded = self._loaded_lines
        loads = orjson.loads
        for lo_id, line_id, *values in fetch_tuples(
            self.session,
            select(ln_.logistic_order_id, ln_.id, *_line_columns(self._postgresql))
            .where(one_of(self._dialect, ln_.logistic_order_id, list(los)))
            .order_by(ln_.id),
        ):
            values[_LINE_CUSTOM_FIELDS] = loads(values[_LINE_CUSTOM_FIELDS])
            # The columns in LineState's order (id, then _LINE_COLUMNS): built by position.
            los[lo_id].lines.append(LineState(line_id, *values))
            loaded[line_id] = tuple(values)
        return list(orders.values())

    def default_addresses(self, account_ids: Collection[int]) -> dict[int, dict[str, Any] | None]:
        if not account_ids:
            return {}
        query = select(accounts.c.id, accounts.c.shipping_addresses).where(
            one_of(self._dialect, accounts.c.id, list(account_ids))
        )
        return {
            account_id: (dict(addresses[0]) if addresses else None)
            for account_id, addresses in self.session.execute(query)
        }

    def variant_ids(self, external_ids: Collection[str]) -> dict[str, int]:
        if not external_ids:
            return {}
        query = select(variants.c.external_id, variants.c.id).where(
            one_of(self._dialect, variants.c.external_id, list(external_ids))
        )
        return dict(self.session.execute(query).all())

    def customers(self, external_ids: Collection[str]) -> dict[str, Customer]:
        if not external_ids:
            return {}
        query = (
            select(users.c.external_id, users.c.id, user_accounts.c.account_id)
            .join(user_accounts, user_accounts.c.user_id == users.c.id)
            .where(
                one_of(self._dialect, users.c.external_id, list(external_ids)),
                users.c.client_type == "ACCOUNT",
            )
        )
        found: dict[str, tuple[int, set[int]]] = {}
        for external_id, user_id, account_id in self.session.execute(query):
            found.setdefault(external_id, (user_id, set()))[1].add(account_id)
        return {k: Customer(uid, frozenset(acc)) for k, (uid, acc) in found.items()}

    def logistic_external_ids(
        self, external_ids: Collection[str], outside: Collection[int] = ()
    ) -> dict[str, int]:
        """External id -> the logistic order holding it, leaving out the logistic orders
        `outside` names (the chunk has them in hand)."""
        if not external_ids:
            return {}
        query = select(lo_.external_id, lo_.id).where(
            one_of(self._dialect, lo_.external_id, list(external_ids))
        )
        skip = set(outside)
        return {ext: lo_id for ext, lo_id in self.session.execute(query) if lo_id not in skip}

    def line_external_ids(
        self, external_ids: Collection[str], outside: Collection[int] = ()
    ) -> dict[str, int | None]:
        """External id -> the line holding it, leaving out the lines of the logistic orders
        `outside` names (the chunk has them in hand)."""
        if not external_ids:
            return {}
        query = select(ln_.external_id, ln_.id, ln_.logistic_order_id).where(
            one_of(self._dialect, ln_.external_id, list(external_ids))
        )
        skip = set(outside)
        return {
            ext: line_id
            for ext, line_id, lo_id in self.session.execute(query)
            if lo_id not in skip
        }

    # --- writing a chunk --------------------------------------------------------------------

    def write_orders(self, orders: Iterable[OrderState]) -> None:
        """The chunk's changes, one statement per kind: lines deleted, added and updated,
        logistic orders and commercial orders updated (each version bumped once). Raises
        DuplicateValue when an external id it sets was taken meanwhile (the unique index
        refuses the statement; the transaction is then to be rolled back)."""
        try:
            self._write_orders(orders)
        except IntegrityError as exc:
            raise DuplicateValue(str(exc.orig)) from exc

    def _write_orders(self, orders: Iterable[OrderState]) -> None:
        changed = [o for o in orders if o.changed]
        los = [lo for o in changed for lo in o.logistic_orders if lo.changed]
        deleted = [line_id for lo in los for line_id in lo.deleted_line_ids]
        new_lines = [(lo.id, ln) for lo in los for ln in lo.lines if ln.id is None]
        updated = [ln for lo in los for ln in lo.lines if ln.id is not None and ln.changed]
        if deleted:
            self.session.execute(delete(order_lines).where(one_of(self._dialect, ln_.id, deleted)))
        if new_lines:
            self.session.execute(
                insert(order_lines),
                [_line_values(ln) | {"logistic_order_id": lo_id} for lo_id, ln in new_lines],
            )
        writes: list[ByIdUpdate] = []
        if updated:
            values = list(map(_ID_AND_LINE_VALUES, updated))
            changed_columns = self._changed_line_columns(values)
            # The id and the changed columns of each line, picked in C.
            pick = itemgetter(0, *(i + 1 for i in changed_columns))
            writes.append(
                ByIdUpdate(
                    order_lines,
                    [_LINE_COLUMNS[i] for i in changed_columns],
                    list(map(pick, values)),
                )
            )
        writes.append(
            ByIdUpdate(
                logistic_orders,
                _LO_COLUMNS,
                [
                    (
                        lo.id,
                        lo.external_id,
                        lo.status.value,
                        lo.shipping_address,
                        lo.total_net,
                        lo.total_tax,
                        lo.total_gross,
                        lo.updated_at,
                    )
                    for lo in los
                ],
            )
        )
        writes.append(
            ByIdUpdate(
                commercial_orders,
                _ORDER_COLUMNS,
                [(o.id, *_ORDER_VALUES(o)) for o in changed],
                bump_version=True,
            )
        )
        # One statement on PostgreSQL for the three.
        update_all_by_id(self.session, writes)

    def _changed_line_columns(self, values: Sequence[tuple[Any, ...]]) -> list[int]:
        """Indexes (in _LINE_COLUMNS) of the columns some of these lines (id, *values)
        changed since they were loaded; every column for a line not loaded here."""
        everything = range(len(_LINE_COLUMNS))
        changed: set[int] = set()
        # Each line is compared on the columns no line changed so far, picked in C: once
        # the file's few changed columns are known, a line costs one comparison.
        unknown: Callable[[Sequence[Any]], Any] = tuple
        loaded_lines = self._loaded_lines
        for row in values:
            loaded = loaded_lines.get(row[0])
            if loaded is None:
                return list(everything)
            now = row[1:]
            if unknown(now) != unknown(loaded):
                changed.update(compress(everything, map(ne, now, loaded)))
                rest = [i for i in everything if i not in changed]
                if not rest:
                    break
                unknown = itemgetter(*rest)
        return sorted(changed) or list(everything)

    def add_history(self, entries: Sequence[HistoryEntry]) -> None:
        """The chunk's history entries (one per row that changed something): COPY on
        PostgreSQL, as the rows are staged; the history repository's INSERT on SQLite."""
        if not entries:
            return
        if not self._postgresql:
            HistoryRepository(self.session).add(entries)
            return
        # What the entries of one chunk share (time, actor, source, job) is formatted once:
        # an import's entries hold the same objects, told apart by identity (hashing the
        # actor, a dataclass, and the source, an enum, were Python calls an entry).
        last: HistoryEntry | None = None
        common = ""
        lines = []
        for e in entries:
            if (
                last is None
                or e.at is not last.at
                or e.actor is not last.actor
                or e.source is not last.source
                or e.job_id is not last.job_id
            ):
                common = "\t".join(
                    map(
                        copy_field,
                        (
                            e.at.isoformat(),
                            e.actor.user_external_id,
                            e.actor.client_type,
                            e.source.value,
                            e.job_id,
                            e.actor.request_id,
                        ),
                    )
                )
            last = e
            line_number = COPY_NULL if e.line_number is None else e.line_number
            lines.append(
                f"{common}\t{e.order_id}\t{line_number}\t{e.version_before}\t"
                f"{e.version_after}\t{copy_json(e.changes)}\n"
            )
        copy_text_rows(self.session, order_history.name, _HISTORY_COLUMNS, "".join(lines))

    # --- dry runs ---------------------------------------------------------------------------

    def dry_run_orders(self, job_id: str, order_ids: Collection[int]) -> dict[int, OrderState]:
        """What earlier rows of this dry run did to these orders."""
        if not order_ids:
            return {}
        t = import_dry_run_orders.c
        query = select(t.order_id, t.state).where(
            t.job_id == job_id, t.order_id.in_(list(order_ids))
        )
        return {
            order_id: order_from_json(state) for order_id, state in self.session.execute(query)
        }

    def save_dry_run_orders(self, job_id: str, orders: Iterable[OrderState]) -> None:
        changed = [o for o in orders if o.changed]
        if not changed:
            return
        t = import_dry_run_orders.c
        self.session.execute(
            delete(import_dry_run_orders).where(
                t.job_id == job_id, t.order_id.in_([o.id for o in changed])
            )
        )
        self.session.execute(
            insert(import_dry_run_orders),
            [{"job_id": job_id, "order_id": o.id, "state": order_to_json(o)} for o in changed],
        )


_LINE_COLUMNS = (
    "external_id",
    "variant_id",
    "variant_external_id",
    "offer_price_id",
    "offer_price_external_id",
    "quantity",
    "net_unit_price",
    "gross_unit_price",
    "tax_rate",
    "tax_amount",
    "total_net",
    "total_gross",
    "variant_name",
    "variant_description",
    "classification_external_id",
    "custom_fields",
)
_LO_COLUMNS = (
    "external_id",
    "status",
    "shipping_address",
    "total_net",
    "total_tax",
    "total_gross",
    "updated_at",
)
_ORDER_COLUMNS = (
    "customer_user_id",
    "custom_fields",
    "is_validated",
    "validated_at",
    "total_net",
    "total_tax",
    "total_gross",
    "product_count",
    "line_count",
    "updated_at",
)


_HISTORY_COLUMNS = (  # as add_history writes them: what a chunk's entries share first
    "at",
    "actor_user_external_id",
    "actor_client_type",
    "source",
    "job_id",
    "request_id",
    "order_id",
    "line_number",
    "version_before",
    "version_after",
    "changes",
)
_STAGED_COLUMNS = (
    "job_id",
    "line_number",
    "partition",
    "order_key",
    "line_key",
    "cells",
    "extra_fields",
)
_ID_AND_LINE_VALUES = attrgetter("id", *_LINE_COLUMNS)
_LINE_CUSTOM_FIELDS = _LINE_COLUMNS.index("custom_fields")
_ORDER_VALUES = attrgetter(*_ORDER_COLUMNS)


def _staged_text(job: str, staged: Sequence[StagedRow]) -> str:
    """Staged rows in COPY's text format (`job`: the job id as a COPY field). The keys are
    escaped one by one only when one of the batch's needs it (one search of them all)."""
    if not copy_fields_plain(key for row in staged for key in (row[2], row[3])):
        staged = [
            (line_number, partition, copy_field(order_key), copy_field(line_key), cells, extra)
            for line_number, partition, order_key, line_key, cells, extra in staged
        ]
    return "".join(
        f"{job}\t{line_number}\t{partition}\t{order_key}\t{line_key}\t"
        f"{copy_json(cells)}\t{extra_fields}\n"
        for line_number, partition, order_key, line_key, cells, extra_fields in staged
    )


@cache
def _line_columns(postgresql: bool) -> tuple[ColumnElement[Any], ...]:
    """_LINE_COLUMNS as lock_orders reads them, converted by the driver in C alone: the
    custom fields as JSON text (orjson parses them: the driver's JSON loader is a Python
    call around the same parse), and on PostgreSQL the amounts as the NUMERIC they are
    (psycopg makes the Decimal; ExactDecimal's result processor, there for SQLite's text,
    would make it again, a Python call per value, six a line)."""
    columns: list[ColumnElement[Any]] = []
    for name in _LINE_COLUMNS:
        column = ln_[name]
        if name == "custom_fields":
            columns.append(cast(column, Text))
        elif postgresql and isinstance(column.type, ExactDecimal):
            columns.append(type_coerce(column, Numeric(asdecimal=True)))
        else:
            columns.append(column)
    return tuple(columns)


def _storable(message: str | None) -> str | None:
    """Fix: a message repeats the refused cell, and a NUL in it (valid CSV, refused as
    F-E-012) made PostgreSQL refuse the result's write, failing the chunk again and again;
    PostgreSQL text cannot hold NUL, so it is written as the escape `\\x00`."""
    return None if message is None else message.replace("\x00", "\\x00")


def _line_values(line: LineState) -> dict[str, Any]:
    return {k: getattr(line, k) for k in _LINE_COLUMNS}


def _order_state(r: Row[Any]) -> OrderState:
    m = r._mapping
    return OrderState(
        id=m["id"],
        reference=m["reference"],
        account_id=m["account_id"],
        account_external_id=m["account_external_id"],
        currency=m["currency"],
        customer_user_id=m["customer_user_id"],
        custom_fields=dict(m["custom_fields"] or {}),
        is_validated=m["is_validated"],
        validated_at=m["validated_at"],
        total_net=m["total_net"],
        total_tax=m["total_tax"],
        total_gross=m["total_gross"],
        product_count=m["product_count"],
        line_count=m["line_count"],
        version=m["version"],
        updated_at=m["updated_at"],
    )


def _logistic_order_state(r: Row[Any]) -> LogisticOrderState:
    m = r._mapping
    return LogisticOrderState(
        id=m["id"],
        reference=m["reference"],
        external_id=m["external_id"],
        supplier_id=m["supplier_id"],
        supplier_external_id=m["supplier_external_id"],
        status=LogisticOrderStatus(m["status"]),
        shipping_address=m["shipping_address"],
        total_net=m["total_net"],
        total_tax=m["total_tax"],
        total_gross=m["total_gross"],
        updated_at=m["updated_at"],
    )


# --- dry-run state as JSON -----------------------------------------------------------------

_DECIMALS = frozenset(
    {
        "net_unit_price",
        "gross_unit_price",
        "tax_rate",
        "tax_amount",
        "total_net",
        "total_gross",
        "total_tax",
    }
)
_TIMES = frozenset({"updated_at", "validated_at"})


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _fields(obj: Any, skip: Collection[str] = ()) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in obj.__slots__ if name not in skip}


def order_to_json(order: OrderState) -> dict[str, Any]:
    data = _fields(order, ("logistic_orders", "changed"))
    data["logistic_orders"] = [
        _fields(lo, ("lines", "changed", "deleted_line_ids", "_lines_by_id"))
        | {"lines": [_fields(ln, ("changed",)) for ln in lo.lines]}
        for lo in order.logistic_orders
    ]
    return data


def _typed(data: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for name in _DECIMALS & out.keys():
        out[name] = Decimal(out[name])
    for name in _TIMES & out.keys():
        out[name] = None if out[name] is None else datetime.fromisoformat(out[name])
    return out


def order_from_json(data: Mapping[str, Any]) -> OrderState:
    logistic = []
    for lo in data["logistic_orders"]:
        fields = _typed({k: v for k, v in lo.items() if k != "lines"})
        fields["status"] = LogisticOrderStatus(fields["status"])
        state = LogisticOrderState(**fields)
        state.lines = [LineState(**_typed(ln)) for ln in lo["lines"]]
        logistic.append(state)
    order = OrderState(**_typed({k: v for k, v in data.items() if k != "logistic_orders"}))
    order.logistic_orders = logistic
    return order
