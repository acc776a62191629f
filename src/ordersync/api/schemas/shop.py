"""Front-office bodies: orders, lines, warnings (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from ordersync.api.answers import (
    line_answer,
    logistic_order_answer,
    order_answer,
    order_header_answer,
    unit_price,
)
from ordersync.api.schemas.common import (
    Body,
    CustomFieldValueIn,
    CustomFieldValues,
    Id,
    PageOut,
    Quantity,
)
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
        return cls.model_validate(line_answer(vars(line), currency))


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
        return cls.model_validate(
            logistic_order_answer(vars(lo), currency, [vars(line) for line in lo.lines])
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
    def of(cls, order: CommercialOrder) -> OrderHeaderOut:
        return cls.model_validate(order_header_answer(vars(order)))


class OrderOut(OrderHeaderOut):
    cpq: CpqOut
    logistic_orders: list[LogisticOrderOut]

    @classmethod
    def of(cls, order: CommercialOrder) -> OrderOut:
        return cls.model_validate(answer_of(order))


def answer_of(order: CommercialOrder) -> dict[str, Any]:
    """The order's answer from the aggregate (its attributes are its columns)."""
    return order_answer(
        vars(order),
        [(vars(lo), [vars(line) for line in lo.lines]) for lo in order.logistic_orders],
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
