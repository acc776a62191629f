"""The data bundle schema (SPEC §6): what it accepts, how it reads values, what it refuses."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from ordersync.domain.access import ClientType
from ordersync.domain.bundle import DataBundle, PricingMode
from ordersync.domain.catalog import OperationStatus, Status
from ordersync.domain.orders import CheckoutType
from tests.spec_example import SPEC_EXAMPLE

# The SPEC §6 example, verbatim.


@pytest.fixture
def spec_bundle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_EXAMPLE)
    return data


def _price(bundle: dict[str, Any]) -> dict[str, Any]:
    price: dict[str, Any] = bundle["offers"][0]["prices"][0]
    return price


def test_spec_example_is_accepted_as_written(spec_bundle: dict[str, Any]) -> None:
    bundle = DataBundle.model_validate(spec_bundle)

    assert bundle.settings is not None
    assert bundle.settings.pricing_mode is PricingMode.STANDARD
    assert bundle.settings.default_store == "STORE-EU"
    assert bundle.stores[0].is_default is True
    assert bundle.catalog_views[0].all_variants is True
    assert bundle.catalog_views[1].variants == ["V-1", "V-2"]
    assert bundle.accounts[0].shipping_addresses[0].zip_code == "75002"
    assert bundle.users[0].client_type is ClientType.ACCOUNT
    assert bundle.users[1].accounts == []
    price = bundle.offers[0].prices[0]
    assert price.tax_rate == Decimal("20")
    assert price.tiers[0].net_unit_price == Decimal("1.20")
    assert price.quantity_step == 10
    assert bundle.offers[0].stock == 500
    assert bundle.operations[0].status is OperationStatus.ACTIVE
    assert bundle.operations[0].start_date == datetime(2026, 1, 1, tzinfo=UTC)
    assert bundle.custom_fields[0].external_id == "CF-PO"


def test_an_empty_document_is_a_valid_partial_bundle() -> None:
    bundle = DataBundle.model_validate({})

    assert bundle.settings is None
    assert bundle.variants == []
    assert bundle.orders == []


def test_a_bundle_with_only_variants_loads() -> None:
    bundle = DataBundle.model_validate({"variants": [{"externalId": "V-9", "name": "Nut"}]})

    assert bundle.variants[0].name == "Nut"
    assert bundle.variants[0].sku is None


def test_money_and_rates_accept_numbers_without_float_noise(spec_bundle: dict[str, Any]) -> None:
    price = _price(spec_bundle)
    price["taxRate"] = 5.5
    price["tiers"][0]["netUnitPrice"] = 1.2
    price["tiers"][0]["grossUnitPrice"] = 2

    parsed = DataBundle.model_validate(spec_bundle).offers[0].prices[0]

    assert parsed.tax_rate == Decimal("5.5")
    assert str(parsed.tiers[0].net_unit_price) == "1.2"
    assert parsed.tiers[0].gross_unit_price == Decimal("2")


@pytest.mark.parametrize("value", [True, "1,20", "-1", "1.23456", "NaN"])
def test_a_price_that_is_not_a_decimal_amount_is_rejected(
    spec_bundle: dict[str, Any], value: object
) -> None:
    _price(spec_bundle)["tiers"][0]["netUnitPrice"] = value

    with pytest.raises(ValidationError):
        DataBundle.model_validate(spec_bundle)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("users", 0, "clientType"), "ADMIN"),
        (("suppliers", 0, "status"), "active"),
        (("operations", 0, "status"), "PAUSED"),
        (("operations", 0, "type"), "SECRET"),
        (("customFields", 0, "entity"), "ACCOUNT"),
        (("customFields", 0, "type"), "INTEGER"),
        (("settings", "pricingMode"), "MAGIC"),
    ],
)
def test_an_unknown_enum_value_is_rejected(
    spec_bundle: dict[str, Any], path: tuple[str | int, ...], value: str
) -> None:
    target: Any = spec_bundle
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value

    with pytest.raises(ValidationError):
        DataBundle.model_validate(spec_bundle)


def test_an_offer_price_without_tiers_is_rejected(spec_bundle: dict[str, Any]) -> None:
    _price(spec_bundle)["tiers"] = []

    with pytest.raises(ValidationError, match="tiers"):
        DataBundle.model_validate(spec_bundle)


@pytest.mark.parametrize(
    ("key", "value"), [("quantityStep", 0), ("minOrderQuantity", -1), ("maxOrderQuantity", 2.5)]
)
def test_quantities_must_be_whole_and_in_range(
    spec_bundle: dict[str, Any], key: str, value: object
) -> None:
    _price(spec_bundle)[key] = value

    with pytest.raises(ValidationError):
        DataBundle.model_validate(spec_bundle)


def test_quantity_step_defaults_to_one(spec_bundle: dict[str, Any]) -> None:
    del _price(spec_bundle)["quantityStep"]

    assert DataBundle.model_validate(spec_bundle).offers[0].prices[0].quantity_step == 1


def test_negative_stock_is_rejected_and_null_stock_means_unlimited(
    spec_bundle: dict[str, Any],
) -> None:
    unlimited = copy.deepcopy(spec_bundle)
    unlimited["offers"][0]["stock"] = None
    spec_bundle["offers"][0]["stock"] = -5

    assert DataBundle.model_validate(unlimited).offers[0].stock is None
    with pytest.raises(ValidationError):
        DataBundle.model_validate(spec_bundle)


def test_naive_datetimes_are_read_as_utc(spec_bundle: dict[str, Any]) -> None:
    _price(spec_bundle)["validFrom"] = "2026-03-01T08:00:00"
    _price(spec_bundle)["validTo"] = "2026-03-01T10:00:00+02:00"

    price = DataBundle.model_validate(spec_bundle).offers[0].prices[0]

    assert price.valid_from == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert price.valid_from is not None and price.valid_from.tzinfo is UTC
    assert price.valid_to == datetime(2026, 3, 1, 8, tzinfo=UTC)


def test_unknown_keys_are_ignored(spec_bundle: dict[str, Any]) -> None:
    spec_bundle["warehouses"] = [{"externalId": "W-1"}]
    spec_bundle["stores"][0]["timezone"] = "Europe/Paris"

    assert DataBundle.model_validate(spec_bundle).stores[0].name == "Europe"


def test_optional_names_and_supplier_user_are_read(spec_bundle: dict[str, Any]) -> None:
    spec_bundle["storeViews"][0]["name"] = "France"
    spec_bundle["operations"][0]["name"] = "Spring sale"
    spec_bundle["customFields"][0]["name"] = "PO number"
    spec_bundle["users"].append(
        {"externalId": "S-1", "clientType": "SUPPLIER", "apiKey": "k", "supplier": "SUP-A"}
    )

    bundle = DataBundle.model_validate(spec_bundle)

    assert bundle.store_views[0].name == "France"
    assert bundle.operations[0].name == "Spring sale"
    assert bundle.custom_fields[0].name == "PO number"
    assert bundle.users[2].supplier == "SUP-A"


def test_a_supplier_user_must_name_its_supplier(spec_bundle: dict[str, Any]) -> None:
    spec_bundle["users"].append({"externalId": "S-1", "clientType": "SUPPLIER", "apiKey": "k"})

    with pytest.raises(ValidationError, match="supplier"):
        DataBundle.model_validate(spec_bundle)


def test_the_plain_api_key_does_not_show_in_the_model_repr(spec_bundle: dict[str, Any]) -> None:
    bundle = DataBundle.model_validate(spec_bundle)

    assert "plain-key-1" not in repr(bundle)
    assert bundle.users[0].api_key.get_secret_value() == "plain-key-1"


def test_orders_default_to_an_order_based_draft_in_the_default_store() -> None:
    bundle = DataBundle.model_validate(
        {
            "orders": [
                {
                    "externalId": "CO-1",
                    "account": "ACC-1",
                    "user": "U-1",
                    "lines": [{"offerPrice": "OP-1", "quantity": 20}],
                }
            ]
        }
    )

    order = bundle.orders[0]
    assert order.store is None and order.store_view is None and order.operation is None
    assert order.checkout_type is CheckoutType.ORDER_BASED
    assert order.is_full is False and order.placed is False
    assert order.custom_fields == {} and order.lines[0].custom_fields == {}


def test_an_order_line_needs_a_positive_quantity() -> None:
    line = {"offerPrice": "OP-1", "quantity": 0}
    order = {"externalId": "CO-1", "account": "A", "user": "U", "lines": [line]}

    with pytest.raises(ValidationError):
        DataBundle.model_validate({"orders": [order]})


def test_snake_case_names_work_from_python() -> None:
    bundle = DataBundle.model_validate(
        {"suppliers": [{"external_id": "SUP-B", "name": "Bolts Inc", "status": "INACTIVE"}]}
    )

    assert bundle.suppliers[0].status is Status.INACTIVE
