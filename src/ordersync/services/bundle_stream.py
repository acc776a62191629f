"""Loading a large data bundle from a file without holding it parsed (issue 9, finding 9).

A bundle's bulk is its variants and offers. Parsed whole into models, a 60 MB bundle took
about 700 MB; here the file is read by ijson's C parser, those two sections an item at a
time, and validated and written in chunks of `chunk_items`, so the process holds one chunk
at a time. The other sections (settings, stores, accounts, users, views, operations, custom
fields, demo orders) are small and are validated together first, as a whole bundle is.

Writes go in dependency order, each part through the same checks and upserts as a whole
bundle (`upsert_catalog`), all in one transaction that starts by bumping the catalog
version: suppliers, accounts and users, then the variants chunk by chunk, the catalog and
store views, the offers chunk by chunk, operations and custom fields, the orders. A later
part's references to an earlier one are found in the database (in this transaction). A bad
bundle still changes nothing; the 422 lists the problems of the first part that has any.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import ijson  # type: ignore[import-untyped]
from pydantic import TypeAdapter, ValidationError

from ordersync.adapters.db.catalog_writer import bump_catalog_version, upsert_catalog
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.bundle import BundleOffer, BundleVariant, DataBundle
from ordersync.domain.errors import ErrorCode, FieldError, Unprocessable
from ordersync.domain.history import Source
from ordersync.domain.text import first_value_problem
from ordersync.services.data_bundle import Progress, load_orders, refused, validate_bundle

DEFAULT_CHUNK_ITEMS = 2_000
_BOM = b"\xef\xbb\xbf"
# The sections read an item at a time; every other key is read whole (they are small).
_STREAMED: dict[str, TypeAdapter[Any]] = {
    "variants": TypeAdapter(list[BundleVariant]),
    "offers": TypeAdapter(list[BundleOffer]),
}
_PHASE_A = ("settings", "stores", "suppliers", "accounts", "users")
_PHASE_B = ("catalog_views", "store_views")
_PHASE_C = ("operations", "custom_fields")


def load_bundle_file(
    uow: UnitOfWork,
    path: Path,
    progress: Progress | None = None,
    chunk_items: int = DEFAULT_CHUNK_ITEMS,
) -> dict[str, int]:
    """Validate and load the bundle in the file at `path` (UTF-8, with or without a BOM),
    holding one chunk of variants or offers at a time. The counts are a whole load's."""
    with _opened(path) as stream:
        head, present = _head(stream)
    counts: dict[str, int] = {}

    def write(part: DataBundle, section: str | None = None, offset: int = 0) -> None:
        try:
            written = upsert_catalog(uow.session.connection(), part)
        except Unprocessable as exc:
            if section is None:
                raise
            raise Unprocessable(
                exc.code, exc.message, [_shifted(e, section, offset) for e in exc.errors]
            ) from None
        for name, count in written.items():
            counts[name] = counts.get(name, 0) + count

    with uow:
        uow.catalog_bumped(*bump_catalog_version(uow.session.connection(), head))
        write(_part(head, _PHASE_A))
        _report(progress, counts, ("settings", *_PHASE_A[1:]))
        for offset, chunk in _chunks(path, "variants", present, chunk_items):
            write(DataBundle.model_construct(variants=chunk), "variants", offset)
        _report(progress, counts, ("variants",))
        write(_part(head, _PHASE_B))
        _report(progress, counts, ("catalogViews", "storeViews"))
        for offset, chunk in _chunks(path, "offers", present, chunk_items):
            write(DataBundle.model_construct(offers=chunk), "offers", offset)
        _report(progress, counts, ("offers", "offerPrices"))
        write(_part(head, _PHASE_C))
        _report(progress, counts, ("operations", "customFields"))
        counts["orders"] = load_orders(uow, head.orders)
        _report(progress, counts, ("orders",))
        uow.commit(Source.BUNDLE)
    return counts


def _report(progress: Progress | None, counts: dict[str, int], names: tuple[str, ...]) -> None:
    if progress is not None:
        for name in names:
            progress(name, counts.get(name, 0))


def _part(head: DataBundle, sections: tuple[str, ...]) -> DataBundle:
    return DataBundle.model_construct(**{name: getattr(head, name) for name in sections})


def _opened(path: Path) -> IO[bytes]:
    stream = path.open("rb")
    if stream.read(len(_BOM)) != _BOM:
        stream.seek(0)
    return stream


def _head(stream: IO[bytes]) -> tuple[DataBundle, set[str]]:
    """One pass over the whole file: its syntax, its top-level keys, and every section but
    the streamed ones, validated as a bundle."""
    small: dict[str, Any] = {}
    present: set[str] = set()
    key: str | None = None
    builder: Any = None
    try:
        events = ijson.parse(stream)
        first = next(events, None)
        if first is None or first[1] != "start_map":
            raise Unprocessable(
                ErrorCode.BUNDLE_INVALID,
                "The data bundle is not valid.",
                [FieldError(ErrorCode.BUNDLE_INVALID, "bundle", "A bundle is a JSON object.")],
            )
        opened: str | None = None  # a streamed section whose value has not started yet
        for prefix, event, value in events:
            if prefix == "" and event in ("map_key", "end_map"):
                if key is not None and builder is not None:
                    small[key] = _json_numbers(builder.value)
                key, builder = (value, None) if event == "map_key" else (None, None)
                if key is not None:
                    present.add(key)
                    builder = None if key in _STREAMED else ijson.ObjectBuilder()
                    opened = key if key in _STREAMED else None
            elif builder is not None:
                builder.event(event, value)
            elif opened is not None:
                if event != "start_array":
                    raise Unprocessable(
                        ErrorCode.BUNDLE_INVALID,
                        "The data bundle is not valid.",
                        [FieldError(ErrorCode.BUNDLE_INVALID, opened, "Input should be a list")],
                    )
                opened = None
    except ijson.JSONError as exc:
        raise _malformed(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise _not_text(f"Not valid Unicode: {exc.reason}.") from None
    return validate_bundle(small), present


def _chunks(
    path: Path, section: str, present: set[str], size: int
) -> Iterator[tuple[int, list[Any]]]:
    """(offset, validated items) of one streamed section, `size` items at a time, each
    external id checked against the ones of earlier chunks."""
    if section not in present:
        return
    adapter = _STREAMED[section]
    seen: set[str] = set()
    seen_prices: set[str] = set()
    with _opened(path) as stream:
        batch: list[Any] = []
        offset = 0
        for item in ijson.items(stream, f"{section}.item"):
            batch.append(item)
            if len(batch) == size:
                yield offset, _validated(adapter, section, offset, batch, seen, seen_prices)
                offset += len(batch)
                batch = []
        if batch:
            yield offset, _validated(adapter, section, offset, batch, seen, seen_prices)


def _validated(
    adapter: TypeAdapter[Any],
    section: str,
    offset: int,
    raw: list[Any],
    seen: set[str],
    seen_prices: set[str],
) -> list[Any]:
    problem = first_value_problem(raw, section)
    if problem is not None:
        where = _shift(problem.where, section, offset)
        code = ErrorCode.NUMBER_NOT_FINITE if problem.not_finite else ErrorCode.TEXT_INVALID
        raise _not_text(f"{where} {problem.problem}.", where, code)
    try:
        items: list[Any] = adapter.validate_python(raw)
    except ValidationError as exc:
        error = refused(exc)
        raise Unprocessable(
            error.code,
            error.message,
            [_shifted(e, section, offset, prefix=True) for e in error.errors],
        ) from None
    repeated: list[FieldError] = []
    for i, item in enumerate(items):
        where = f"{section}[{offset + i}]"
        if item.external_id in seen:
            repeated.append(_repeated(f"{where}.externalId", item.external_id))
        seen.add(item.external_id)
        for j, price in enumerate(getattr(item, "prices", ())):
            if price.external_id in seen_prices:
                repeated.append(_repeated(f"{where}.prices[{j}].externalId", price.external_id))
            seen_prices.add(price.external_id)
    if repeated:
        raise Unprocessable(
            ErrorCode.BUNDLE_INVALID, f"The data bundle has {len(repeated)} problem(s).", repeated
        )
    return items


def _repeated(field: str, external_id: str) -> FieldError:
    message = f"External id {external_id!r} appears more than once."
    return FieldError(ErrorCode.BUNDLE_INVALID, field, message)


_INDEXED = re.compile(r"^(?P<section>[A-Za-z]+)\[(?P<index>\d+)\]")


def _shift(field: str, section: str, offset: int) -> str:
    """`offers[3].supplier` of a chunk that starts at item 2,000 -> `offers[2003].supplier`."""
    match = _INDEXED.match(field)
    if match is None or match["section"] != section:
        return field
    return f"{section}[{int(match['index']) + offset}]{field[match.end() :]}"


def _shifted(error: FieldError, section: str, offset: int, prefix: bool = False) -> FieldError:
    """The error of a chunk's item, named by its place in the whole bundle. `prefix`: the
    field starts at the item (a list validated on its own: `[3].name`)."""
    field = error.field or ""
    if prefix and field.startswith("["):
        field = f"{section}{field}"
    return FieldError(error.code, _shift(field, section, offset), error.message)


def _json_numbers(value: Any) -> Any:
    """ijson's Decimals as the floats a JSON parser gives (1e309 becomes infinity, which
    the text rule then refuses), so the small sections validate exactly as a whole bundle."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_numbers(v) for v in value]
    return value


def _malformed(message: str) -> Unprocessable:
    return Unprocessable(
        ErrorCode.BUNDLE_INVALID,
        "The data bundle is not a JSON document.",
        # yajl's message, without the excerpt of the document it draws under it
        [FieldError(ErrorCode.MALFORMED_JSON, "bundle", message.strip().splitlines()[0])],
    )


def _not_text(
    message: str, field: str = "bundle", code: ErrorCode = ErrorCode.TEXT_INVALID
) -> Unprocessable:
    return Unprocessable(
        ErrorCode.BUNDLE_INVALID,
        "The data bundle holds text or numbers that cannot be stored.",
        [FieldError(code, field, message)],
    )
