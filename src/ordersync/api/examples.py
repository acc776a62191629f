"""Examples shown in the OpenAPI document (one per endpoint at least)."""

from __future__ import annotations

from typing import Any

LINE: dict[str, Any] = {
    "id": 13,
    "externalId": None,
    "variantId": 1,
    "variantExternalId": "V-0001",
    "offerPriceId": 1,
    "offerPriceExternalId": "OP-V-0001-ACME",
    "quantity": 120,
    "netUnitPrice": "0.38",
    "grossUnitPrice": "0.50",
    "taxRate": "20",
    "taxAmount": "9.12",
    "totalNet": "45.60",
    "totalTax": "9.12",
    "totalGross": "54.72",
    "variantName": "Hex bolt M8x20 zinc-plated",
    "variantDescription": "ISO 4017 hex head bolt",
    "classificationExternalId": "CLS-FASTENERS",
    "customFields": {"CF-LINE-NOTE": "Gate 3"},
    "cpqTxnLineNumber": None,
    "cpqUnitPrice": None,
    "cpqCharges": None,
    "syncInfo": None,
}
ADDRESS: dict[str, Any] = {
    "externalId": "ADDR-BUILDCO-LYON",
    "fullName": "Claire Martin",
    "streetName": "12 avenue Jean Jaures",
    "city": "Lyon",
    "zipCode": "69007",
    "country": "FR",
    "state": None,
    "additional": "Site office, gate 3",
}
LOGISTIC_ORDER: dict[str, Any] = {
    "id": 8,
    "reference": "260-211-8089581-1",
    "externalId": None,
    "supplierId": 1,
    "supplierExternalId": "SUP-ACME",
    "status": "DRAFT_ORDER",
    "shippingAddress": ADDRESS,
    "totalNet": "45.60",
    "totalTax": "9.12",
    "totalGross": "54.72",
    "createdAt": "2026-11-25T10:00:00Z",
    "updatedAt": "2026-11-25T10:05:00Z",
    "lines": [LINE],
}
HEADER: dict[str, Any] = {
    "id": 5,
    "reference": "260-211-8089581",
    "externalId": "ORD-DEMO-1",
    "accountId": 1,
    "customerUserId": 1,
    "storeId": 1,
    "storeViewId": 1,
    "isValidated": False,
    "validatedAt": None,
    "checkoutType": "ORDER_BASED",
    "sourceType": None,
    "sourceId": None,
    "isFull": False,
    "currency": "EUR",
    "totalNet": "45.60",
    "totalTax": "9.12",
    "totalGross": "54.72",
    "productCount": 120,
    "lineCount": 1,
    "customFields": {"CF-PO": "PO-2026-001"},
    "version": 3,
    "createdAt": "2026-11-25T10:00:00Z",
    "updatedAt": "2026-11-25T10:05:00Z",
}
ORDER: dict[str, Any] = {
    **HEADER,
    "cpq": {"transactionId": None, "syncStatus": None, "lastSyncedAt": None},
    "logisticOrders": [LOGISTIC_ORDER],
}
CPQ_SYNCED_ORDER: dict[str, Any] = {
    **HEADER,
    "version": 4,
    "cpq": {
        "transactionId": "TXN-000001",
        "syncStatus": "SYNCED",
        "lastSyncedAt": "2026-11-25T10:06:00Z",
    },
    "logisticOrders": [
        {
            **LOGISTIC_ORDER,
            "lines": [
                {
                    **LINE,
                    "cpqTxnLineNumber": "1",
                    "cpqUnitPrice": "0.38",
                    "cpqCharges": [
                        {
                            "name": "Handling",
                            "unitPrice": "0.50",
                            "amount": "60.00",
                            "priceType": "oneTime",
                        }
                    ],
                    "syncInfo": {"status": "completed", "errorMessage": None},
                }
            ],
        }
    ],
}
ORDER_PAGE: dict[str, Any] = {
    "content": [HEADER],
    "page": 0,
    "size": 20,
    "totalElements": 1,
    "totalPages": 1,
}
LOGISTIC_ORDER_PAGE: dict[str, Any] = {
    "content": [
        {
            **{k: v for k, v in LOGISTIC_ORDER.items() if k != "lines"},
            "commercialOrderReference": "260-211-8089581",
            "accountId": 1,
            "accountExternalId": "ACC-BUILDCO",
            "lineCount": 1,
        }
    ],
    "page": 0,
    "size": 20,
    "totalElements": 1,
    "totalPages": 1,
}
CREATED: dict[str, Any] = {"id": 5, "reference": "260-211-8089581"}
IMPORT_JOB: dict[str, Any] = {
    "jobId": "5f0c2a9e4b1d4c6e8a7b3c2d1e0f9a8b",
    "type": "INTERNAL_ORDER_UPDATE",
    "dryRun": False,
    "status": "PARTIALLY_SUCCEEDED",
    "fileName": "orders.csv",
    "total": 1200,
    "processed": 1200,
    "succeeded": 1198,
    "failed": 2,
    "createdAt": "2026-11-25T10:00:00Z",
    "startedAt": "2026-11-25T10:00:01Z",
    "finishedAt": "2026-11-25T10:00:03Z",
    "error": None,
}

CREATE_ORDER_BODIES: dict[str, Any] = {
    "plain": {"summary": "A plain draft", "value": {}},
    "operation": {
        "summary": "A PARTIAL operation order",
        "value": {"sourceType": "OPERATION", "sourceId": "OPN-SPRING", "isFull": False},
    },
    "custom-fields": {
        "summary": "With order custom fields",
        "value": {"customFields": [{"customFieldId": "CF-PO", "customFieldValue": "PO-2026-117"}]},
    },
}
PATCH_BODIES: dict[str, Any] = {
    "status": {
        "summary": "Move the status forward",
        "value": {"status": "WAITING_SUPPLIER_APPROVAL"},
    },
    "external-id": {"summary": "Set the ERP id (once)", "value": {"externalId": "ERP-SO-48211"}},
    "address": {
        "summary": "Change the shipping address",
        "value": {
            "shippingAddress": {
                "fullName": "Jane Doe",
                "streetName": "1 rue de la Paix",
                "city": "Paris",
                "zipCode": "75002",
                "country": "FR",
            }
        },
    },
}


def answer(example: Any, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"example": example}}}


HISTORY_PAGE: dict[str, Any] = {
    "content": [
        {
            "at": "2026-11-25T10:05:00Z",
            "actor": {"userExternalId": "U-BUILDCO-1", "clientType": "ACCOUNT"},
            "source": "API",
            "jobId": None,
            "lineNumber": None,
            "requestId": "3f2a9c…",
            "versionBefore": 2,
            "versionAfter": 3,
            "changes": [
                {
                    "entity": "LINE",
                    "id": 13,
                    "field": "quantity",
                    "before": 100,
                    "after": 120,
                },
                {
                    "entity": "LINE",
                    "id": 13,
                    "field": "total_net",
                    "before": "38.0000",
                    "after": "45.60",
                },
            ],
        }
    ],
    "page": 0,
    "size": 20,
    "totalElements": 1,
    "totalPages": 1,
}

SYNC_PREVIEW: dict[str, Any] = {
    "warnings": [
        {
            "id": "OP-V-0001-ACME",
            "code": "PRICE_CHANGED",
            "detail": "Net unit price 0.42 -> 0.40, gross 0.50 -> 0.50, tax rate 20 -> 20.",
            "blocked": False,
        }
    ],
    "lines": [
        {
            "id": 13,
            "offerPriceId": "OP-V-0001-ACME",
            "quantityBefore": 120,
            "quantityAfter": 120,
            "netUnitPriceBefore": "0.42",
            "netUnitPriceAfter": "0.40",
            "grossUnitPriceBefore": "0.50",
            "grossUnitPriceAfter": "0.50",
        }
    ],
    "wouldChange": True,
}
