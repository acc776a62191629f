"""An order, its logistic orders and lines as their JSON answer, from stored values (column
name -> value): the one place that formats them, whether they come from the aggregate
(its attributes are its columns) or straight from a query's rows.

Money is a decimal string in the currency's minor units; unit prices keep up to 4
decimals when finer; statuses and types are their names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson
from starlette.responses import Response

from ordersync.domain.money import minor_units, money_str, round_money
from ordersync.domain.orders import OrderRecord
from ordersync.domain.warnings import OrderWarning

Values = Mapping[str, Any]


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


def _name(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def line_answer(line: Values, currency: str) -> dict[str, Any]:
    cpq_price = line.get("cpq_unit_price")
    return {
        "id": line["id"],
        "externalId": line["external_id"],
        "variantId": line["variant_id"],
        "variantExternalId": line["variant_external_id"],
        "offerPriceId": line["offer_price_id"],
        "offerPriceExternalId": line["offer_price_external_id"],
        "quantity": line["quantity"],
        "netUnitPrice": unit_price(line["net_unit_price"], currency),
        "grossUnitPrice": unit_price(line["gross_unit_price"], currency),
        "taxRate": format(line["tax_rate"].normalize(), "f"),
        "taxAmount": money_str(line["tax_amount"], currency),
        "totalNet": money_str(line["total_net"], currency),
        "totalTax": money_str(line["tax_amount"], currency),
        "totalGross": money_str(line["total_gross"], currency),
        "variantName": line["variant_name"],
        "variantDescription": line["variant_description"],
        "classificationExternalId": line["classification_external_id"],
        "customFields": dict(line["custom_fields"] or {}),
        "cpqTxnLineNumber": line.get("cpq_txn_line_number"),
        "cpqUnitPrice": None if cpq_price is None else unit_price(cpq_price, currency),
        "cpqCharges": line.get("cpq_charges"),
        "syncInfo": line.get("cpq_sync_info"),
    }


def logistic_order_answer(
    lo: Values, currency: str, lines: Sequence[Values] | None = None
) -> dict[str, Any]:
    """`lines` None: a list row, without them."""
    answer = {
        "id": lo["id"],
        "reference": lo["reference"],
        "externalId": lo["external_id"],
        "supplierId": lo["supplier_id"],
        "supplierExternalId": lo["supplier_external_id"],
        "status": _name(lo["status"]),
        "shippingAddress": lo["shipping_address"],
        "totalNet": money_str(lo["total_net"], currency),
        "totalTax": money_str(lo["total_tax"], currency),
        "totalGross": money_str(lo["total_gross"], currency),
        "createdAt": lo["created_at"],
        "updatedAt": lo["updated_at"],
    }
    if lines is not None:
        answer["lines"] = [line_answer(line, currency) for line in lines]
    return answer


def order_header_answer(order: Values) -> dict[str, Any]:
    currency = order["currency"]
    return {
        "id": order["id"],
        "reference": order["reference"],
        "externalId": order["external_id"],
        "accountId": order["account_id"],
        "customerUserId": order["customer_user_id"],
        "storeId": order["store_id"],
        "storeViewId": order["store_view_id"],
        "isValidated": order["is_validated"],
        "validatedAt": order["validated_at"],
        "checkoutType": _name(order["checkout_type"]),
        "sourceType": _name(order["source_type"]),
        "sourceId": order["source_id"],
        "isFull": order["is_full"],
        "currency": currency,
        "totalNet": money_str(order["total_net"], currency),
        "totalTax": money_str(order["total_tax"], currency),
        "totalGross": money_str(order["total_gross"], currency),
        "productCount": order["product_count"],
        "lineCount": order["line_count"],
        "customFields": dict(order["custom_fields"] or {}),
        "version": order["version"],
        "createdAt": order["created_at"],
        "updatedAt": order["updated_at"],
    }


def order_answer(
    order: Values, logistic_orders: Sequence[tuple[Values, Sequence[Values]]]
) -> dict[str, Any]:
    currency = order["currency"]
    return {
        **order_header_answer(order),
        "cpq": {
            "transactionId": order["cpq_transaction_id"],
            "syncStatus": order["cpq_sync_status"],
            "lastSyncedAt": order["cpq_last_synced_at"],
        },
        "logisticOrders": [
            logistic_order_answer(lo, currency, lines) for lo, lines in logistic_orders
        ],
    }


def record_answer(record: OrderRecord) -> dict[str, Any]:
    return order_answer(record.values, [(lo.values, lo.lines) for lo in record.logistic_orders])


def warnings_answer(warnings: Sequence[OrderWarning], version: int) -> Response:
    """The warnings of a write (schemas.shop.WarningOut, which the OpenAPI document shows),
    with the order's new version as ETag; built as plain JSON once: a synchronise of a
    1,000-line order answers 1,000 of them."""
    return json_answer([w.as_dict() for w in warnings], etag=version)


def json_answer(body: Any, *, status: int = 200, etag: int | None = None) -> Response:
    """An answer serialised once, by orjson (UTC times end in Z, as pydantic writes them)."""
    headers = {"ETag": f'"{etag}"'} if etag is not None else None
    return Response(
        orjson.dumps(body, option=orjson.OPT_UTC_Z),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
