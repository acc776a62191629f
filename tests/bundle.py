"""The small, hand-made catalog every integration test runs against."""

from __future__ import annotations

from typing import Any

# api keys
KEY_1 = "key-user-1"  # ACC-1 (GOLD), stores S1 and S2
KEY_2 = "key-user-2"  # ACC-2, store S1
KEY_MULTI = "key-user-multi"  # ACC-1 (default) and ACC-2, store S1
KEY_OPS = "key-ops"
KEY_SUPPLIER = "key-supplier-a"

BULK_VARIANTS = 1100  # V-0001..: one public SUP-A offer each (OP-0001..), for big orders


def _price(ext: str, net: str = "10.00", gross: str = "12.00", **kw: Any) -> dict[str, Any]:
    price: dict[str, Any] = {
        "externalId": ext,
        "currency": "EUR",
        "taxRate": "20",
        "tiers": [{"minQuantity": 1, "netUnitPrice": net, "grossUnitPrice": gross}],
        "minOrderQuantity": None,
        "maxOrderQuantity": None,
        "quantityStep": 1,
        "validFrom": None,
        "validTo": None,
        "accounts": [],
        "accountGroups": [],
    }
    price.update(kw)
    return price


def _offer(
    ext: str,
    supplier: str,
    variant: str,
    price: dict[str, Any],
    stock: int | None = None,
    status: str = "ACTIVE",
) -> dict[str, Any]:
    return {
        "externalId": ext,
        "supplier": supplier,
        "variant": variant,
        "status": status,
        "stock": stock,
        "prices": [price],
    }


def special_offers() -> list[dict[str, Any]]:
    """Offers with one rule each; tests that change the catalog reload these afterwards."""
    return [
        _offer(
            "OFR-STEP",
            "SUP-A",
            "V-STEP",
            _price(
                "OP-STEP",
                "2.00",
                "2.50",
                minOrderQuantity=10,
                maxOrderQuantity=100,
                quantityStep=10,
            ),
            stock=55,
        ),
        _offer(
            "OFR-TIER",
            "SUP-A",
            "V-TIER",
            _price(
                "OP-TIER",
                tiers=[
                    {"minQuantity": 1, "netUnitPrice": "1.20", "grossUnitPrice": "1.50"},
                    {"minQuantity": 100, "netUnitPrice": "1.00", "grossUnitPrice": "1.50"},
                ],
            ),
        ),
        _offer("OFR-INACTIVE-SUP", "SUP-X", "V-INACTIVE-SUP", _price("OP-INACTIVE-SUP")),
        _offer(
            "OFR-RESTRICTED", "SUP-A", "V-RESTRICTED", _price("OP-RESTRICTED", accounts=["ACC-2"])
        ),
        _offer("OFR-GOLD", "SUP-A", "V-GOLD", _price("OP-GOLD", accountGroups=["GOLD"])),
        _offer(
            "OFR-EXPIRED",
            "SUP-A",
            "V-EXPIRED",
            _price("OP-EXPIRED", validFrom="2020-01-01T00:00:00Z", validTo="2021-01-01T00:00:00Z"),
        ),
        _offer("OFR-NOSTOCK", "SUP-A", "V-NOSTOCK", _price("OP-NOSTOCK"), stock=0),
        _offer("OFR-HIDDEN", "SUP-A", "V-HIDDEN", _price("OP-HIDDEN")),
        _offer("OFR-B-SUP", "SUP-B", "V-B", _price("OP-B", "5.00", "6.00")),
        _offer("OFR-SYNC", "SUP-A", "V-SYNC", _price("OP-SYNC", "3.00", "4.00"), stock=1000),
        _offer("OFR-SYNC-B", "SUP-B", "V-SYNC-B", _price("OP-SYNC-B", "3.00", "4.00")),
        # V-CHOICE: SUP-B is cheaper from 50 units, SUP-A below; SUP-C ties SUP-A.
        _offer("OFR-CHOICE-A", "SUP-A", "V-CHOICE", _price("OP-CHOICE-A", "9.00", "10.00")),
        _offer("OFR-CHOICE-C", "SUP-C", "V-CHOICE", _price("OP-CHOICE-C", "9.00", "10.00")),
        _offer(
            "OFR-CHOICE-B",
            "SUP-B",
            "V-CHOICE",
            _price(
                "OP-CHOICE-B",
                tiers=[
                    {"minQuantity": 1, "netUnitPrice": "11.00", "grossUnitPrice": "12.00"},
                    {"minQuantity": 50, "netUnitPrice": "8.00", "grossUnitPrice": "12.00"},
                ],
            ),
        ),
        _offer("OFR-OPN-1", "SUP-A", "V-OPN-1", _price("OP-OPN-1", "4.00", "5.00")),
        _offer("OFR-OPN-2", "SUP-A", "V-OPN-2", _price("OP-OPN-2", "4.00", "5.00")),
    ]


def catalog_bundle() -> dict[str, Any]:
    special = [
        "V-STEP",
        "V-TIER",
        "V-INACTIVE-SUP",
        "V-RESTRICTED",
        "V-GOLD",
        "V-EXPIRED",
        "V-NOSTOCK",
        "V-HIDDEN",
        "V-B",
        "V-SYNC",
        "V-SYNC-B",
        "V-CHOICE",
        "V-OPN-1",
        "V-OPN-2",
    ]
    bulk = [f"V-{i:04d}" for i in range(1, BULK_VARIANTS + 1)]
    return {
        "settings": {
            "pricingMode": "STANDARD",
            "defaultStore": "S1",
            "currency": "EUR",
            "operationsEnabled": True,
        },
        "stores": [
            {"externalId": "S1", "name": "Main", "default": True},
            {"externalId": "S2", "name": "Other"},
        ],
        "catalogViews": [
            {"externalId": "CV-ALL", "allVariants": True},
            {"externalId": "CV-LIMITED", "variants": [v for v in special if v != "V-HIDDEN"]},
        ],
        "storeViews": [
            {"externalId": "SV-ALL", "store": "S1", "catalogViews": ["CV-ALL"]},
            {"externalId": "SV-LIMITED", "store": "S1", "catalogViews": ["CV-LIMITED"]},
            {"externalId": "SV-S2", "store": "S2", "catalogViews": ["CV-ALL"]},
        ],
        "suppliers": [
            {"externalId": "SUP-A", "name": "Acme", "status": "ACTIVE"},
            {"externalId": "SUP-B", "name": "Boltex", "status": "ACTIVE"},
            {"externalId": "SUP-C", "name": "Cobalt", "status": "ACTIVE"},
            {"externalId": "SUP-X", "name": "Gone", "status": "INACTIVE"},
        ],
        "accounts": [
            {
                "externalId": "ACC-1",
                "name": "Buyer One",
                "status": "ACTIVE",
                "stores": ["S1", "S2"],
                "groups": ["GOLD"],
                "shippingAddresses": [
                    {
                        "externalId": "ADDR-1",
                        "fullName": "Jane Doe",
                        "streetName": "1 rue de la Paix",
                        "city": "Paris",
                        "zipCode": "75002",
                        "country": "FR",
                    }
                ],
            },
            {"externalId": "ACC-2", "name": "Buyer Two", "status": "ACTIVE", "stores": ["S1"]},
        ],
        "users": [
            {
                "externalId": "U-1",
                "clientType": "ACCOUNT",
                "apiKey": KEY_1,
                "accounts": ["ACC-1"],
                "stores": ["S1", "S2"],
            },
            {
                "externalId": "U-2",
                "clientType": "ACCOUNT",
                "apiKey": KEY_2,
                "accounts": ["ACC-2"],
                "stores": ["S1"],
            },
            {
                "externalId": "U-MULTI",
                "clientType": "ACCOUNT",
                "apiKey": KEY_MULTI,
                "accounts": ["ACC-1", "ACC-2"],
                "stores": ["S1"],
            },
            {"externalId": "U-OPS", "clientType": "OPERATOR", "apiKey": KEY_OPS},
            {
                "externalId": "U-SUP",
                "clientType": "SUPPLIER",
                "apiKey": KEY_SUPPLIER,
                "supplier": "SUP-A",
            },
        ],
        "variants": [
            {
                "externalId": v,
                "sku": f"SKU-{v}",
                "name": f"Item {v}",
                "description": f"Description of {v}",
                "classification": "CLS-1",
                "product": f"P-{v}",
            }
            for v in special + bulk
        ],
        "offers": special_offers()
        + [
            _offer(
                f"OFR-{i:04d}",
                "SUP-A" if i % 2 else "SUP-B",
                f"V-{i:04d}",
                _price(f"OP-{i:04d}", "1.50", "2.00"),
            )
            for i in range(1, BULK_VARIANTS + 1)
        ],
        "operations": [
            {
                "externalId": "OPN-PUB",
                "status": "ACTIVE",
                "type": "PUBLIC",
                "startDate": "2020-01-01T00:00:00Z",
                "endDate": "2099-01-01T00:00:00Z",
                "lines": [
                    {
                        "variant": "V-OPN-1",
                        "minQuantity": 20,
                        "maxQuantity": 200,
                        "recommendedQuantity": 50,
                    },
                    {
                        "variant": "V-OPN-2",
                        "minQuantity": 5,
                        "maxQuantity": 10,
                        "recommendedQuantity": 5,
                    },
                ],
            },
            {
                "externalId": "OPN-PRIV",
                "status": "ACTIVE",
                "type": "PRIVATE",
                "startDate": "2020-01-01T00:00:00Z",
                "endDate": "2099-01-01T00:00:00Z",
                "accounts": ["ACC-2"],
                "lines": [{"variant": "V-OPN-1", "minQuantity": 1, "maxQuantity": 5}],
            },
            {
                "externalId": "OPN-OFF",
                "status": "INACTIVE",
                "type": "PUBLIC",
                "lines": [{"variant": "V-OPN-1"}],
            },
        ],
        "customFields": [
            {"externalId": "CF-PO", "entity": "ORDER", "type": "STRING"},
            {
                "externalId": "CF-CC",
                "entity": "ORDER",
                "type": "LIST",
                "allowedValues": ["CC-A", "CC-B"],
            },
            {"externalId": "CF-NOTE", "entity": "ORDER_LINE", "type": "STRING"},
            {"externalId": "CF-URGENT", "entity": "ORDER_LINE", "type": "BOOLEAN"},
            {"externalId": "CF-QTY", "entity": "ORDER_LINE", "type": "NUMBER"},
            {"externalId": "CF-DATE", "entity": "ORDER_LINE", "type": "DATE"},
        ],
    }
