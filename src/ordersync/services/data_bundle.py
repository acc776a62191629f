"""Loading a data bundle (SPEC §6): catalog upserts, then the bundle's demo orders."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from ordersync.adapters.db.catalog_writer import bump_catalog_version, upsert_catalog
from ordersync.adapters.db.unit_of_work import UnitOfWork
from ordersync.domain.access import Caller, ClientType
from ordersync.domain.bundle import BundleOrder, DataBundle
from ordersync.domain.catalog import CustomFieldEntity
from ordersync.domain.errors import ErrorCode, FieldError, Unprocessable
from ordersync.domain.history import Source
from ordersync.domain.orders import CommercialOrder, SourceType
from ordersync.domain.tenant import TenantSettings
from ordersync.domain.text import InvalidJson, InvalidText, first_value_problem, parse_json
from ordersync.rules.line_updates import Catalog, LineType, LineUpdate, apply_line_updates
from ordersync.services.order_context import (
    CustomFieldBook,
    CustomFieldIdType,
    buyer_context,
    load_catalog,
    load_operation_catalog,
    utcnow,
)
from ordersync.services.order_writes import new_reference

Progress = Callable[[str, int], None]


def _field(loc: tuple[Any, ...]) -> str:
    """A validation error's location as the bundle's paths are written: `offers[0].prices`."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _invalid(message: str, errors: list[FieldError]) -> Unprocessable:
    return Unprocessable(ErrorCode.BUNDLE_INVALID, message, errors)


# A NUL can reach a JSON string only as the escape \u0000 (raw control characters are not
# JSON); an even run of backslashes before it would escape the backslash instead.
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def parse_bundle(data: bytes) -> DataBundle:
    """The bundle document checked whole, parsed straight into its models (pydantic's own
    JSON parser: no intermediate document of dicts, so a large bundle is held once). Text
    and numbers follow domain/text.py's rule: lone surrogates are refused by the parser, NUL
    here, non-finite numbers by the models' types and, in free-form custom fields, below."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    if _ESCAPED_NUL.search(data) is not None:
        # Rare, and refused: parse the slow way once to say where.
        try:
            parse_json(data)
        except InvalidText as exc:
            problem = exc.problem
            raise _invalid(
                "The data bundle holds text or numbers that cannot be stored.",
                [
                    FieldError(
                        ErrorCode.TEXT_INVALID,
                        problem.where,
                        f"{problem.where} {problem.problem}.",
                    )
                ],
            ) from None
        except InvalidJson:
            pass  # the parser below says what is wrong
    try:
        bundle = DataBundle.model_validate_json(data)
    except ValidationError as exc:
        raise refused(exc) from None
    _check_free_form_values(bundle)
    return bundle


def refused(exc: ValidationError) -> Unprocessable:
    details = exc.errors()
    syntax = next((d for d in details if d["type"] == "json_invalid"), None)
    if syntax is not None:
        message = str(syntax.get("ctx", {}).get("error", syntax["msg"]))
        if "surrogate" in message:
            return _invalid(
                "The data bundle holds text or numbers that cannot be stored.",
                [FieldError(ErrorCode.TEXT_INVALID, "bundle", f"Not valid Unicode: {message}.")],
            )
        return _invalid(
            "The data bundle is not a JSON document.",
            [FieldError(ErrorCode.MALFORMED_JSON, "bundle", message)],
        )
    errors = [
        FieldError(ErrorCode.BUNDLE_INVALID, _field(tuple(e["loc"])), e["msg"])
        for e in details[:100]
    ]
    return _invalid("The data bundle is not valid.", errors)


def _check_free_form_values(bundle: DataBundle) -> None:
    """Custom-field values are free JSON: the text rule is checked on them here."""
    for i, order in enumerate(bundle.orders):
        values = [(f"orders[{i}].customFields", order.custom_fields)] + [
            (f"orders[{i}].lines[{j}].customFields", line.custom_fields)
            for j, line in enumerate(order.lines)
        ]
        for where, value in values:
            problem = first_value_problem(value, where)
            if problem is not None:
                code = (
                    ErrorCode.NUMBER_NOT_FINITE if problem.not_finite else ErrorCode.TEXT_INVALID
                )
                raise _invalid(
                    "The data bundle holds text or numbers that cannot be stored.",
                    [FieldError(code, problem.where, f"{problem.where} {problem.problem}.")],
                )


def validate_bundle(raw: Any) -> DataBundle:
    """Parsed JSON values as a DataBundle, or 422 BUNDLE_INVALID naming each problem."""
    problem = first_value_problem(raw)
    if problem is not None:
        code = ErrorCode.NUMBER_NOT_FINITE if problem.not_finite else ErrorCode.TEXT_INVALID
        raise _invalid(
            "The data bundle holds text or numbers that cannot be stored.",
            [FieldError(code, problem.where or "bundle", f"{problem.where} {problem.problem}.")],
        )
    try:
        return DataBundle.model_validate(raw)
    except ValidationError as exc:
        raise refused(exc) from None


def load_bundle(uow: UnitOfWork, raw: Any, progress: Progress | None = None) -> dict[str, int]:
    """Validate the bundle (parsed JSON values), upsert every entity by externalId and create
    the orders it lists that do not exist yet, in one transaction: a bad bundle changes
    nothing."""
    return load_validated_bundle(uow, validate_bundle(raw), progress)


def load_validated_bundle(
    uow: UnitOfWork, bundle: DataBundle, progress: Progress | None = None
) -> dict[str, int]:
    """One transaction that starts by bumping the catalog version: that locks out every
    other load until it commits, so two loads of the same new external ids never race."""
    with uow:
        uow.catalog_bumped(*bump_catalog_version(uow.session.connection(), bundle))
        counts = upsert_catalog(uow.session.connection(), bundle, progress)
        counts["orders"] = load_orders(uow, bundle.orders)
        if progress:
            progress("orders", counts["orders"])
        uow.commit(Source.BUNDLE)
    return counts


def load_orders(uow: UnitOfWork, orders: list[BundleOrder]) -> int:
    """Create each listed order that does not exist yet; existing ones are left alone
    (their lines belong to their users once created)."""
    existing = uow.orders.existing_external_ids([o.external_id for o in orders])
    todo = [o for o in orders if o.external_id not in existing]
    if not todo:
        return 0
    settings = uow.catalog.settings()
    book = CustomFieldBook(uow.catalog.custom_fields())
    shared, _ = load_catalog(
        uow,
        Catalog({}, {}),
        external_ids={ln.offer_price for o in todo for ln in o.lines},
    )
    now = utcnow()
    for i, spec in enumerate(todo):
        caller = _caller_for(uow, spec, i)
        if spec.reference and uow.orders.reference_taken(spec.reference):
            raise Unprocessable(
                ErrorCode.BUNDLE_INVALID,
                "An order reference is taken.",
                [
                    FieldError(
                        ErrorCode.BUNDLE_INVALID,
                        f"orders[{i}].reference",
                        f"Reference {spec.reference} belongs to another order.",
                    )
                ],
            )
        order = CommercialOrder(
            reference=spec.reference or new_reference(),
            account_id=caller.account_id or 0,
            customer_user_id=caller.user_id,
            store_id=caller.store_id or 0,
            store_view_id=caller.store_view_id,
            currency=settings.currency,
            now=now,
            checkout_type=spec.checkout_type,
            source_type=SourceType.OPERATION if spec.operation else None,
            source_id=spec.operation,
            is_full=spec.is_full,
            external_id=spec.external_id,
            custom_fields=book.check(
                spec.custom_fields,
                CustomFieldIdType.EXTERNAL_ID,
                CustomFieldEntity.ORDER,
                f"orders[{i}].customFields",
            ),
        )
        catalog = load_operation_catalog(uow, order, settings)
        catalog = Catalog(shared.offer_prices, shared.offer_prices_of_variant, catalog.operation)
        updates = [
            LineUpdate(
                ln.offer_price,
                ln.quantity,
                custom_fields=book.check(
                    ln.custom_fields,
                    CustomFieldIdType.EXTERNAL_ID,
                    CustomFieldEntity.ORDER_LINE,
                    f"orders[{i}].lines[{j}].customFields",
                ),
            )
            for j, ln in enumerate(spec.lines)
        ]
        # Bundle orders are demo data: priced from the stored tiers, whatever the mode.
        ctx = buyer_context(
            uow, caller, order, catalog.offer_prices.values(), now, TenantSettings()
        )
        if updates:
            try:
                apply_line_updates(order, updates, LineType.OFFER_PRICE, catalog, ctx)
            except Unprocessable as exc:
                raise Unprocessable(
                    ErrorCode.BUNDLE_INVALID,
                    f"Order {spec.external_id}: {exc.message}",
                    [
                        FieldError(ErrorCode.BUNDLE_INVALID, f"orders[{i}].lines", e.message)
                        for e in exc.errors
                    ]
                    or [FieldError(ErrorCode.BUNDLE_INVALID, f"orders[{i}].lines", exc.message)],
                ) from None
        if spec.placed:
            order.place(now)
        uow.orders.add(order)
    uow.flush()
    return len(todo)


def _caller_for(uow: UnitOfWork, spec: BundleOrder, i: int) -> Caller:
    account = uow.access.account(spec.account)
    user = uow.access.user(spec.user)
    store = uow.access.store(spec.store)
    view = uow.access.store_view(spec.store_view) if spec.store_view else None
    missing = [
        FieldError(ErrorCode.BUNDLE_INVALID, f"orders[{i}].{name}", f"Unknown {name} {value}.")
        for name, value, found in (
            ("account", spec.account, account),
            ("user", spec.user, user),
            ("store", spec.store, store),
            ("storeView", spec.store_view, view or not spec.store_view),
        )
        if not found
    ]
    if missing or account is None or user is None or store is None:
        raise Unprocessable(
            ErrorCode.BUNDLE_INVALID, "An order refers to unknown entities.", missing
        )
    if not uow.access.user_acts_for(user.id, account.id):
        raise Unprocessable(
            ErrorCode.BUNDLE_INVALID,
            "An order's user is not of its account.",
            [
                FieldError(
                    ErrorCode.BUNDLE_INVALID,
                    f"orders[{i}].user",
                    f"User {spec.user} does not act for account {spec.account}.",
                )
            ],
        )
    store_view_id = view.id if view else uow.access.first_store_view(store.id)
    return Caller(
        user.id,
        user.external_id,
        ClientType.ACCOUNT,
        store.id,
        store_view_id,
        account.id,
        (account.id,),
    )
