"""Applying one CSV row to an internal (logistic) order (SPEC §4, seed "Update an Internal
Order"): pure rules over light in-memory states, so a chunk of thousands of rows is checked
and applied without the ORM, then written with set-based statements.

A row is applied whole or not at all: everything is checked first, then the status,
external id and shipping address go through the operator PATCH's own rules (apply_patch,
the status table), then the line change is made. Rows apply in file order, so a row sees
what earlier rows of the file did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from types import MappingProxyType
from typing import Any, NamedTuple

from ordersync.domain.catalog import CustomField, CustomFieldEntity, OfferPrice
from ordersync.domain.errors import OrdersyncError
from ordersync.domain.imports import ADDRESS_REQUIRED, RowCode, RowOutcome, RowResult
from ordersync.domain.money import MAX_AMOUNT, ZERO, line_amounts
from ordersync.domain.statuses import LogisticOrderStatus, edit_rights
from ordersync.rules.import_rows import ImportRow
from ordersync.rules.logistic_orders import LogisticOrderPatch, apply_patch
from ordersync.rules.pricing import tier_for


@dataclass(slots=True)
class LineState:
    id: int | None  # None until written
    external_id: str | None
    variant_id: int
    variant_external_id: str
    offer_price_id: int
    offer_price_external_id: str
    quantity: int
    net_unit_price: Decimal
    gross_unit_price: Decimal
    tax_rate: Decimal
    tax_amount: Decimal
    total_net: Decimal
    total_gross: Decimal
    variant_name: str
    variant_description: str | None
    classification_external_id: str | None
    custom_fields: dict[str, Any]
    changed: bool = False


@dataclass(slots=True)
class LogisticOrderState:
    id: int
    reference: str
    external_id: str | None
    supplier_id: int
    supplier_external_id: str
    status: LogisticOrderStatus
    shipping_address: dict[str, Any] | None
    total_net: Decimal
    total_tax: Decimal
    total_gross: Decimal
    updated_at: datetime
    lines: list[LineState] = field(default_factory=list)
    deleted_line_ids: list[int] = field(default_factory=list)
    changed: bool = False
    # The stored lines by id, built on the first look-up (a scan per row made a file that
    # changes every line of a 1,000-line order quadratic); remove_line keeps it.
    _lines_by_id: dict[int, LineState] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def line(self, line_id: int) -> LineState | None:
        index = self._lines_by_id
        if index is None:
            index = self._lines_by_id = {ln.id: ln for ln in self.lines if ln.id is not None}
        return index.get(line_id)

    def remove_line(self, line: LineState) -> None:
        self.lines.remove(line)
        if line.id is not None and self._lines_by_id is not None:
            self._lines_by_id.pop(line.id, None)

    def line_with_external_id(self, external_id: str) -> LineState | None:
        return next((ln for ln in self.lines if ln.external_id == external_id), None)

    def line_of_offer(self, offer_price_id: int) -> LineState | None:
        return next((ln for ln in self.lines if ln.offer_price_id == offer_price_id), None)


@dataclass(slots=True)
class OrderState:
    """A commercial order as the import sees it: header, totals, its logistic orders."""

    id: int
    reference: str
    account_id: int
    account_external_id: str
    currency: str
    customer_user_id: int
    custom_fields: dict[str, Any]
    is_validated: bool
    validated_at: datetime | None
    total_net: Decimal
    total_tax: Decimal
    total_gross: Decimal
    product_count: int
    line_count: int
    version: int
    updated_at: datetime
    logistic_orders: list[LogisticOrderState] = field(default_factory=list)
    changed: bool = False

    def add_line_amounts(
        self, lo: LogisticOrderState, net: Decimal, tax: Decimal, quantity: int, lines: int
    ) -> None:
        """A line of `lo` added, removed or changed by these amounts: the logistic order's
        and the order's totals and counts follow, in constant time (a file that changes
        every line of a 1,000-line order re-adds no 1,000 lines a row). What is added is
        exact (Decimal), so the totals stay the sums of the lines', as every writer keeps
        them."""
        lo.total_net += net
        lo.total_tax += tax
        lo.total_gross = lo.total_net + lo.total_tax
        self.total_net += net
        self.total_tax += tax
        self.total_gross = self.total_net + self.total_tax
        self.product_count += quantity
        self.line_count += lines


@dataclass(frozen=True)
class Customer:
    user_id: int
    account_ids: frozenset[int]


@dataclass
class Lookups:
    """What the rows of one chunk may refer to, loaded with one query per kind."""

    offer_prices: Mapping[str, OfferPrice]  # by external id (and those of named variants)
    variants: Mapping[str, int]  # variant external id -> id
    customers: Mapping[str, Customer]  # user external id -> the user
    custom_fields: Mapping[str, CustomField]  # by external id
    default_addresses: Mapping[int, dict[str, Any] | None]  # account id -> first address
    # External ids held by rows of other orders (logistic orders, lines), kept current as
    # the chunk's rows set new ones.
    logistic_external_ids: dict[str, int]  # -> logistic order id
    line_external_ids: dict[str, int | None]  # -> line id (None: a line this chunk created)


class RowRefused(Exception):
    def __init__(self, code: RowCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _refuse(code: RowCode, message: str) -> RowRefused:
    return RowRefused(code, message)


_NO_VALUES: Mapping[str, Any] = MappingProxyType({})


class _LinePlan(NamedTuple):
    """The line part of a row, checked: what to do once the row is known to pass. (A named
    tuple: one is made per row, and a frozen dataclass's fields are each set through
    `object.__setattr__`.)"""

    kind: str  # "create", "update", "delete", "none"
    line: LineState | None = None
    values: Mapping[str, Any] = _NO_VALUES
    # The line's total net, tax and total gross after the row (create and update only).
    amounts: tuple[Decimal, Decimal, Decimal] | None = None


def apply_row(
    row: ImportRow,
    order: OrderState,
    lo: LogisticOrderState,
    lookups: Lookups,
    now: datetime,
) -> bool:
    """Check the row against the logistic order as it is now, then apply all of it. Returns
    whether anything changed; raises RowRefused (nothing changed) otherwise."""
    _check_owner(row, order, lo)
    rights = edit_rights(lo.status)
    plan = _plan_line(row, order, lo, lookups, rights.lines_created_or_deleted, rights.line_values)
    order_fields = _plan_order_fields(row, order, lookups, rights.status)
    external_id = _plan_external_id(row, lo, lookups)
    address = _plan_address(row, order, lo, lookups)
    if plan.kind != "none":
        _check_totals(order, lo, plan)
    patch = LogisticOrderPatch(
        status=row.status, external_id=external_id, shipping_address=address
    )
    try:
        changed = apply_patch(order, lo, patch, now)
    except OrdersyncError as exc:
        raise _refuse(RowCode(exc.code.value), exc.message) from None
    if external_id is not None and changed:
        lookups.logistic_external_ids[external_id] = lo.id
    changed = _apply_line(plan, order, lo, lookups) or changed
    if order_fields:
        for name, value in order_fields.items():
            setattr(order, name, value)
        changed = True
    if changed:
        lo.changed = True
        lo.updated_at = now
        order.changed = True
        order.updated_at = now
    return changed


def _check_owner(row: ImportRow, order: OrderState, lo: LogisticOrderState) -> None:
    if (
        row.account_external_id is not None
        and row.account_external_id != order.account_external_id
    ):
        raise _refuse(
            RowCode.ORDER_MISMATCH,
            f"Order {lo.reference} belongs to account {order.account_external_id}, "
            f"not {row.account_external_id}.",
        )
    if (
        row.supplier_external_id is not None
        and row.supplier_external_id != lo.supplier_external_id
    ):
        raise _refuse(
            RowCode.ORDER_MISMATCH,
            f"Order {lo.reference} is supplier {lo.supplier_external_id}'s, "
            f"not {row.supplier_external_id}'s.",
        )


def _not_editable(what: str, lo: LogisticOrderState) -> RowRefused:
    return _refuse(
        RowCode.FIELD_NOT_EDITABLE_IN_STATUS,
        f"{what} cannot change in status {lo.status.value} (order {lo.reference}).",
    )


_LINE_VALUES = (
    "quantity",
    "net_unit_price",
    "gross_unit_price",
    "tax_amount",
    "variant_name",
    "variant_description",
    "classification_external_id",
)
# The row's and the line's values of those fields, read at once (the same names on both).
_READ_LINE_VALUES = attrgetter(*_LINE_VALUES)


def _target_line(row: ImportRow, lo: LogisticOrderState) -> LineState | None:
    if row.line_id is not None:
        line = lo.line(row.line_id)
        if line is None:
            raise _refuse(
                RowCode.UNKNOWN_REFERENCE, f"Order {lo.reference} has no line {row.line_id}."
            )
        return line
    assert row.line_external_id is not None  # the parser requires one of the two
    return lo.line_with_external_id(row.line_external_id)


def _plan_line(
    row: ImportRow,
    order: OrderState,
    lo: LogisticOrderState,
    lookups: Lookups,
    may_create_or_delete: bool,
    may_change_values: bool,
) -> _LinePlan:
    line = _target_line(row, lo)
    if row.delete:
        if line is None:
            raise _refuse(
                RowCode.UNKNOWN_REFERENCE,
                f"Order {lo.reference} has no line {row.line_external_id} to delete.",
            )
        if not may_create_or_delete:
            raise _not_editable("Lines", lo)
        return _LinePlan("delete", line)
    if line is None:
        if not may_create_or_delete:
            raise _not_editable("Lines", lo)
        values = _new_line_values(row, order, lo, lookups)
        return _LinePlan("create", None, values, _amounts(None, values, order.currency))
    values = _changed_line_values(row, line, lookups)
    if values and not may_change_values:
        raise _not_editable("Quantities, prices, tax and names", lo)
    if not values:
        return _LinePlan("none", line)
    return _LinePlan("update", line, values, _amounts(line, values, order.currency))


def _line_external_id(row: ImportRow, line: LineState | None, lookups: Lookups) -> str | None:
    """The line external id this row sets, if any: only while unset, and not one another
    line holds."""
    wanted = row.line_external_id
    if wanted is None or (line is not None and line.external_id == wanted):
        return None
    if line is not None and line.external_id is not None:
        raise _refuse(
            RowCode.EXTERNAL_ID_ALREADY_SET,
            f"Line {line.id} already has external id {line.external_id}; it is set once.",
        )
    if wanted in lookups.line_external_ids:
        raise _refuse(
            RowCode.EXTERNAL_ID_TAKEN, f"Line external id {wanted} belongs to another line."
        )
    return wanted


def _offer_for(
    row: ImportRow, order: OrderState, lo: LogisticOrderState, lookups: Lookups
) -> OfferPrice:
    if row.offer_price_external_id is not None:
        offer = lookups.offer_prices.get(row.offer_price_external_id)
        if offer is None:
            raise _refuse(
                RowCode.UNKNOWN_REFERENCE, f"No offer price {row.offer_price_external_id}."
            )
        if row.variant_external_id is not None:
            if row.variant_external_id not in lookups.variants:
                raise _refuse(RowCode.UNKNOWN_REFERENCE, f"No variant {row.variant_external_id}.")
            if offer.variant_external_id != row.variant_external_id:
                raise _refuse(
                    RowCode.OFFER_VARIANT_MISMATCH,
                    f"Offer price {offer.external_id} is of variant "
                    f"{offer.variant_external_id}, not {row.variant_external_id}.",
                )
    else:
        if row.variant_external_id is None or row.net_unit_price is None:
            missing = [
                name
                for name, value in (
                    ("Variant External Id", row.variant_external_id),
                    ("Net Unit Price", row.net_unit_price),
                )
                if value is None
            ]
            raise _refuse(
                RowCode.REQUIRED,
                "A new line needs Offer Price External Id, or Variant External Id and Net "
                f"Unit Price (missing: {', '.join(missing)}).",
            )
        if row.variant_external_id not in lookups.variants:
            raise _refuse(RowCode.UNKNOWN_REFERENCE, f"No variant {row.variant_external_id}.")
        candidates = sorted(
            (
                op
                for op in lookups.offer_prices.values()
                if op.variant_external_id == row.variant_external_id
                and op.supplier_id == lo.supplier_id
                and op.currency == order.currency
            ),
            key=lambda op: op.external_id,
        )
        if not candidates:
            raise _refuse(
                RowCode.UNKNOWN_REFERENCE,
                f"Supplier {lo.supplier_external_id} has no {order.currency} offer for variant "
                f"{row.variant_external_id}.",
            )
        offer = candidates[0]
    if offer.supplier_id != lo.supplier_id:
        raise _refuse(
            RowCode.OFFER_SUPPLIER_MISMATCH,
            f"Offer price {offer.external_id} is supplier {offer.supplier_external_id}'s; "
            f"order {lo.reference} is {lo.supplier_external_id}'s.",
        )
    return offer


def _new_line_values(
    row: ImportRow, order: OrderState, lo: LogisticOrderState, lookups: Lookups
) -> dict[str, Any]:
    if row.line_external_id is None:
        raise _refuse(RowCode.REQUIRED, "A new line needs Order Line External Id.")
    if row.quantity is None:
        raise _refuse(RowCode.REQUIRED, "A new line needs Order Line Quantity.")
    offer = _offer_for(row, order, lo, lookups)
    existing = lo.line_of_offer(offer.id)
    if existing is not None:
        raise _refuse(
            RowCode.DUPLICATE,
            f"Order {lo.reference} already has a line of offer price {offer.external_id} "
            f"(line {existing.id}).",
        )
    missing = sorted(
        d.external_id
        for d in lookups.custom_fields.values()
        if d.entity is CustomFieldEntity.ORDER_LINE
        and d.required
        and row.line_custom_fields.get(d.external_id) is None
    )
    if missing:
        raise _refuse(RowCode.REQUIRED, f"Required custom fields missing: {', '.join(missing)}.")
    tier = tier_for(offer, row.quantity)
    values: dict[str, Any] = {
        "external_id": _line_external_id(row, None, lookups),
        "offer": offer,
        "quantity": row.quantity,
        "net_unit_price": row.net_unit_price
        if row.net_unit_price is not None
        else tier.net_unit_price,
        "gross_unit_price": row.gross_unit_price
        if row.gross_unit_price is not None
        else tier.gross_unit_price,
        "tax_amount": row.tax_amount,
        "variant_name": row.variant_name or offer.variant_name,
        "variant_description": row.variant_description
        if row.variant_description is not None
        else offer.variant_description,
        "classification_external_id": row.classification_external_id
        if row.classification_external_id is not None
        else offer.classification_external_id,
        "custom_fields": dict(row.line_custom_fields),
    }
    return values


def _changed_line_values(row: ImportRow, line: LineState, lookups: Lookups) -> dict[str, Any]:
    if (
        row.offer_price_external_id is not None
        and row.offer_price_external_id != line.offer_price_external_id
    ):
        raise _refuse(
            RowCode.ORDER_MISMATCH,
            f"Line {line.id} is of offer price {line.offer_price_external_id}, "
            f"not {row.offer_price_external_id}.",
        )
    if row.variant_external_id is not None and row.variant_external_id != line.variant_external_id:
        raise _refuse(
            RowCode.OFFER_VARIANT_MISMATCH,
            f"Line {line.id} is of variant {line.variant_external_id}, "
            f"not {row.variant_external_id}.",
        )
    values = {
        name: value
        for name, value, now in zip(
            _LINE_VALUES, _READ_LINE_VALUES(row), _READ_LINE_VALUES(line), strict=True
        )
        if value is not None and value != now
    }
    if row.line_custom_fields:  # most files set none: nothing compared for nothing
        custom = _custom_fields_after(line.custom_fields, row.line_custom_fields)
        if custom is not None:
            values["custom_fields"] = custom
    external_id = _line_external_id(row, line, lookups)
    if external_id is not None:
        values["external_id"] = external_id
    return values


def _custom_fields_after(
    current: Mapping[str, Any], given: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The custom fields once the row's are set, or None when none of them differs."""
    changed = {key: value for key, value in given.items() if current.get(key) != value}
    return {**current, **changed} if changed else None


def _plan_order_fields(
    row: ImportRow, order: OrderState, lookups: Lookups, may_change: bool
) -> dict[str, Any]:
    """The commercial order's customer and ORDER custom fields, as the row sets them."""
    fields: dict[str, Any] = {}
    if row.customer_external_id is not None:
        customer = lookups.customers.get(row.customer_external_id)
        if customer is None or order.account_id not in customer.account_ids:
            raise _refuse(
                RowCode.UNKNOWN_REFERENCE,
                f"No customer user {row.customer_external_id} of account "
                f"{order.account_external_id}.",
            )
        if customer.user_id != order.customer_user_id:
            fields["customer_user_id"] = customer.user_id
    if row.order_custom_fields:  # most files set none: nothing compared for nothing
        custom = _custom_fields_after(order.custom_fields, row.order_custom_fields)
        if custom is not None:
            fields["custom_fields"] = custom
    if fields and not may_change:
        raise _refuse(
            RowCode.FIELD_NOT_EDITABLE_IN_STATUS,
            f"The order's customer and custom fields cannot change in a final status "
            f"(order {order.reference}).",
        )
    return fields


def _plan_external_id(row: ImportRow, lo: LogisticOrderState, lookups: Lookups) -> str | None:
    """Order External Id given alongside Order Reference: set it once (apply_patch refuses a
    change), unless another logistic order holds it."""
    wanted = row.order_external_id
    if wanted is None or row.order_reference is None or wanted == lo.external_id:
        return None
    holder = lookups.logistic_external_ids.get(wanted)
    if holder is not None and holder != lo.id and lo.external_id is None:
        raise _refuse(
            RowCode.EXTERNAL_ID_TAKEN,
            f"Order external id {wanted} belongs to another logistic order.",
        )
    return wanted


def _plan_address(
    row: ImportRow, order: OrderState, lo: LogisticOrderState, lookups: Lookups
) -> dict[str, Any] | None:
    """The address after the row, or None when the row gives no address cell. State and
    Additional alone complete the current address (or, for an order that has none yet, the
    account's first one: the seed's default fills what is set for the first time)."""
    if not row.address:
        return None
    base = lo.shipping_address or lookups.default_addresses.get(order.account_id) or {}
    merged = {**base, **row.address}
    # Fix: State or Additional alone on an order with no address, whose account has none
    # either, made an address of a state alone; the all-or-none rule refuses it.
    missing = [column.value for column, key in ADDRESS_REQUIRED.items() if not merged.get(key)]
    if missing:
        raise _refuse(
            RowCode.REQUIRED,
            f"Order {lo.reference} has no shipping address to complete, nor has its account: "
            f"{', '.join(missing)} are missing.",
        )
    return None if merged == lo.shipping_address else merged


def _check_totals(order: OrderState, lo: LogisticOrderState, plan: _LinePlan) -> None:
    old_gross = plan.line.total_gross if plan.line is not None else ZERO
    if plan.kind == "none":
        return
    new_gross = plan.amounts[2] if plan.amounts is not None else ZERO
    total = order.total_gross - old_gross + new_gross
    if total > MAX_AMOUNT:
        raise _refuse(
            RowCode.AMOUNT_TOO_LARGE,
            f"Order {order.reference}'s total would be {total} {order.currency}; at most "
            f"{MAX_AMOUNT}.",
        )


def _amounts(
    line: LineState | None, values: Mapping[str, Any], currency: str
) -> tuple[Decimal, Decimal, Decimal]:
    quantity = values.get("quantity", line.quantity if line else 0)
    net = values.get("net_unit_price", line.net_unit_price if line else ZERO)
    given_tax = values.get("tax_amount")
    tax_rate = values["offer"].tax_rate if "offer" in values else (line.tax_rate if line else ZERO)
    if (
        given_tax is None
        and line is not None
        and not ({"quantity", "net_unit_price"} & values.keys())
    ):
        given_tax = line.tax_amount  # nothing that drives the tax changed: keep it
    return line_amounts(net, quantity, currency, tax_rate=tax_rate, tax_amount=given_tax)


def _apply_line(
    plan: _LinePlan, order: OrderState, lo: LogisticOrderState, lookups: Lookups
) -> bool:
    if plan.kind == "none":
        return False
    if plan.kind == "delete":
        assert plan.line is not None
        gone = plan.line
        order.add_line_amounts(lo, -gone.total_net, -gone.tax_amount, -gone.quantity, -1)
        lo.remove_line(plan.line)
        if plan.line.id is not None:
            lo.deleted_line_ids.append(plan.line.id)
        if plan.line.external_id is not None:
            lookups.line_external_ids.pop(plan.line.external_id, None)
        return True
    assert plan.amounts is not None
    total_net, tax, total_gross = plan.amounts
    values = plan.values
    if plan.kind == "create":
        offer: OfferPrice = values["offer"]
        line = LineState(
            id=None,
            external_id=values["external_id"],
            variant_id=offer.variant_id,
            variant_external_id=offer.variant_external_id,
            offer_price_id=offer.id,
            offer_price_external_id=offer.external_id,
            quantity=values["quantity"],
            net_unit_price=values["net_unit_price"],
            gross_unit_price=values["gross_unit_price"],
            tax_rate=offer.tax_rate,
            tax_amount=tax,
            total_net=total_net,
            total_gross=total_gross,
            variant_name=values["variant_name"],
            variant_description=values["variant_description"],
            classification_external_id=values["classification_external_id"],
            custom_fields=values["custom_fields"],
            changed=True,
        )
        lo.lines.append(line)
        order.add_line_amounts(lo, total_net, tax, line.quantity, 1)
    else:
        assert plan.line is not None
        line = plan.line
        was = (line.total_net, line.tax_amount, line.quantity)
        for name, value in values.items():
            setattr(line, name, value)
        line.total_net, line.tax_amount, line.total_gross = total_net, tax, total_gross
        line.changed = True
        order.add_line_amounts(lo, total_net - was[0], tax - was[1], line.quantity - was[2], 0)
    if line.external_id is not None:
        lookups.line_external_ids[line.external_id] = line.id
    return True


def outcome_of(line_number: int, refusal: RowRefused | None) -> RowOutcome:
    if refusal is None:
        return RowOutcome(line_number, RowResult.SUCCESS)
    return RowOutcome(line_number, RowResult.ERROR, refusal.code.value, refusal.message)


def lines_in_file_order(rows: Sequence[ImportRow]) -> list[ImportRow]:
    return sorted(rows, key=lambda r: r.line_number)
