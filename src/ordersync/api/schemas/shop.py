"""Front-office bodies: orders, lines, warnings (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from ordersync.api.schemas.common import (
    Body,
    CustomFieldValueIn,
    CustomFieldValues,
    Id,
    PageOut,
    Quantity,
)
from ordersync.domain.listing import LogisticOrderRow
from ordersync.domain.money import minor_units, money_str, round_money
from ordersync.domain.orders import CommercialOrder, LogisticOrder, OrderLine
from ordersync.domain.warnings import OrderWarning
from ordersync.rules.line_updates import LineType, UpdateAction
from ordersync.rules.synchronise import SyncPreview


class CreateOrderIn(CustomFieldValues):
    source_type: Literal["OPERATION"] | None = None
    source_id: Id | None = None
    is_full: Annotated[bool, Field(strict=True)] = False
    custom_fields: list[CustomFieldValueIn] | None = None
    custom_field_id_type: Literal["EXTERNAL_ID", "DJUST_ID"] = "EXTERNAL_ID"

    @model_validator(mode="after")
    def _source_id_needs_a_source_type(self) -> Self:
        if self.source_id is not None and self.source_type is None:
            raise ValueError("sourceId is given without sourceType")
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {},
                {"sourceType": "OPERATION", "sourceId": "OPN-SPRING", "isFull": False},
                {"customFields": [{"customFieldId": "CF-PO", "customFieldValue": "PO-2026-117"}]},
            ]
        }
    )


class LineUpdateIn(CustomFieldValues):
    id: Id
    quantity: Quantity
    update_action: UpdateAction = UpdateAction.REPLACE_QUANTITY
    custom_fields: list[CustomFieldValueIn] | None = None
    metadata: dict[str, Any] | None = None


class UpdateLinesIn(Body):
    line_type: LineType = LineType.OFFER_PRICE
    line_id_type: Literal["EXTERNAL_ID"] = "EXTERNAL_ID"
    custom_field_id_type: Literal["EXTERNAL_ID", "DJUST_ID"] = "EXTERNAL_ID"
    metadata: dict[str, Any] | None = None
    update_order_commercial_lines: Annotated[list[LineUpdateIn], Field(min_length=1)]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lineType": "OFFER_PRICE",
                    "updateOrderCommercialLines": [
                        {
                            "id": "OP-V-0001-ACME",
                            "quantity": 120,
                            "updateAction": "REPLACE_QUANTITY",
                            "customFields": [
                                {
                                    "customFieldId": "CF-LINE-NOTE",
                                    "customFieldValue": "Deliver to dock 4",
                                }
                            ],
                        },
                        {"id": "OP-V-0002-ACME", "quantity": 10, "updateAction": "ADD_QUANTITY"},
                    ],
                }
            ]
        }
    )


class OfferPriceRef(Body):
    offer_price_id: Id


class WarningOut(Body):
    id: str
    code: str
    detail: str
    blocked: bool

    @classmethod
    def of(cls, warning: OrderWarning) -> WarningOut:
        return cls(
            id=warning.id, code=warning.code.value, detail=warning.detail, blocked=warning.blocked
        )


class CreatedOut(Body):
    id: int
    reference: str


def unit_price(amount: Decimal, currency: str) -> str:
    """Minor units, or up to 4 decimals when the price is finer than that."""
    rounded = round_money(amount, currency)
    if rounded == amount:
        return str(rounded)
    return (
        str(amount.quantize(Decimal("0.0001")).normalize())
        if minor_units(currency) < 4
        else str(amount)
    )


class LineOut(Body):
    id: int
    external_id: str | None
    variant_id: int
    variant_external_id: str
    offer_price_id: int
    offer_price_external_id: str
    quantity: int
    net_unit_price: str
    gross_unit_price: str
    tax_rate: str
    tax_amount: str
    total_net: str
    total_tax: str
    total_gross: str
    variant_name: str
    variant_description: str | None
    classification_external_id: str | None
    custom_fields: dict[str, Any]
    cpq_txn_line_number: str | None
    cpq_unit_price: str | None
    cpq_charges: list[dict[str, str]] | None
    sync_info: dict[str, str | None] | None

    @classmethod
    def of(cls, line: OrderLine, currency: str) -> LineOut:
        assert line.id is not None
        return cls(
            id=line.id,
            external_id=line.external_id,
            variant_id=line.variant_id,
            variant_external_id=line.variant_external_id,
            offer_price_id=line.offer_price_id,
            offer_price_external_id=line.offer_price_external_id,
            quantity=line.quantity,
            net_unit_price=unit_price(line.net_unit_price, currency),
            gross_unit_price=unit_price(line.gross_unit_price, currency),
            tax_rate=format(line.tax_rate.normalize(), "f"),
            tax_amount=money_str(line.tax_amount, currency),
            total_net=money_str(line.total_net, currency),
            total_tax=money_str(line.tax_amount, currency),
            total_gross=money_str(line.total_gross, currency),
            variant_name=line.variant_name,
            variant_description=line.variant_description,
            classification_external_id=line.classification_external_id,
            custom_fields=dict(line.custom_fields),
            cpq_txn_line_number=line.cpq_txn_line_number,
            cpq_unit_price=None
            if line.cpq_unit_price is None
            else unit_price(line.cpq_unit_price, currency),
            cpq_charges=line.cpq_charges,
            sync_info=line.cpq_sync_info,
        )


def logistic_order_fields(lo: LogisticOrder | LogisticOrderRow, currency: str) -> dict[str, Any]:
    """What a logistic order shows, from the aggregate or from a list row alike."""
    assert lo.id is not None
    return dict(
        id=lo.id,
        reference=lo.reference,
        external_id=lo.external_id,
        supplier_id=lo.supplier_id,
        supplier_external_id=lo.supplier_external_id,
        status=lo.status.value,
        shipping_address=lo.shipping_address,
        total_net=money_str(lo.total_net, currency),
        total_tax=money_str(lo.total_tax, currency),
        total_gross=money_str(lo.total_gross, currency),
        created_at=lo.created_at,
        updated_at=lo.updated_at,
    )


class LogisticOrderOut(Body):
    id: int
    reference: str
    external_id: str | None
    supplier_id: int
    supplier_external_id: str
    status: str
    shipping_address: dict[str, Any] | None
    total_net: str
    total_tax: str
    total_gross: str
    created_at: datetime
    updated_at: datetime
    lines: list[LineOut]

    @classmethod
    def of(cls, lo: LogisticOrder, currency: str) -> LogisticOrderOut:
        return cls(
            **logistic_order_fields(lo, currency),
            lines=[LineOut.of(ln, currency) for ln in lo.lines],
        )


class CpqOut(Body):
    transaction_id: str | None
    sync_status: str | None
    last_synced_at: datetime | None


class OrderHeaderOut(Body):
    id: int
    reference: str
    external_id: str | None
    account_id: int
    customer_user_id: int
    store_id: int
    store_view_id: int | None
    is_validated: bool
    validated_at: datetime | None
    checkout_type: str
    source_type: str | None
    source_id: str | None
    is_full: bool
    currency: str
    total_net: str
    total_tax: str
    total_gross: str
    product_count: int
    line_count: int
    custom_fields: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def header_fields(cls, order: CommercialOrder) -> dict[str, Any]:
        c = order.currency
        return dict(
            id=order.id,
            reference=order.reference,
            external_id=order.external_id,
            account_id=order.account_id,
            customer_user_id=order.customer_user_id,
            store_id=order.store_id,
            store_view_id=order.store_view_id,
            is_validated=order.is_validated,
            validated_at=order.validated_at,
            checkout_type=order.checkout_type.value,
            source_type=order.source_type.value if order.source_type else None,
            source_id=order.source_id,
            is_full=order.is_full,
            currency=c,
            total_net=money_str(order.total_net, c),
            total_tax=money_str(order.total_tax, c),
            total_gross=money_str(order.total_gross, c),
            product_count=order.product_count,
            line_count=order.line_count,
            custom_fields=dict(order.custom_fields),
            version=order.version,
            created_at=order.created_at,
            updated_at=order.updated_at,
        )

    @classmethod
    def of(cls, order: CommercialOrder) -> OrderHeaderOut:
        return cls(**cls.header_fields(order))


class OrderOut(OrderHeaderOut):
    cpq: CpqOut
    logistic_orders: list[LogisticOrderOut]

    @classmethod
    def of(cls, order: CommercialOrder) -> OrderOut:
        return cls(
            **cls.header_fields(order),
            cpq=CpqOut(
                transaction_id=order.cpq_transaction_id,
                sync_status=order.cpq_sync_status,
                last_synced_at=order.cpq_last_synced_at,
            ),
            logistic_orders=[
                LogisticOrderOut.of(lo, order.currency) for lo in order.logistic_orders
            ],
        )


class OrderPageOut(PageOut[OrderHeaderOut]):
    pass


class LinePreviewOut(Body):
    id: int | None
    offer_price_id: str
    quantity_before: int
    quantity_after: int
    net_unit_price_before: str
    net_unit_price_after: str
    gross_unit_price_before: str
    gross_unit_price_after: str


class SyncPreviewOut(Body):
    warnings: list[WarningOut]
    lines: list[LinePreviewOut]
    would_change: bool

    @classmethod
    def of(cls, preview: SyncPreview) -> SyncPreviewOut:
        currency = preview.currency
        return cls(
            warnings=[WarningOut.of(w) for w in preview.warnings],
            lines=[
                LinePreviewOut(
                    id=ln.line_id,
                    offer_price_id=ln.offer_price_external_id,
                    quantity_before=ln.quantity_before,
                    quantity_after=ln.quantity_after,
                    net_unit_price_before=unit_price(ln.net_unit_price_before, currency),
                    net_unit_price_after=unit_price(ln.net_unit_price_after, currency),
                    gross_unit_price_before=unit_price(ln.gross_unit_price_before, currency),
                    gross_unit_price_after=unit_price(ln.gross_unit_price_after, currency),
                )
                for ln in preview.lines
            ],
            would_change=preview.would_change,
        )
