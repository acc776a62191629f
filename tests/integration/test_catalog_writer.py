"""Loading the catalog of a data bundle into SQLite: idempotent upserts by external id."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ordersync.adapters.db.catalog_writer import upsert_catalog
from ordersync.adapters.db.tables import (
    account_stores,
    accounts,
    catalog_view_variants,
    metadata,
    offer_prices,
    offers,
    operations,
    store_view_catalog_views,
    stores,
    suppliers,
    tenant_settings,
    user_accounts,
    user_stores,
    users,
    variants,
)
from ordersync.domain.api_keys import hash_api_key
from ordersync.domain.bundle import DataBundle
from ordersync.domain.errors import ErrorCode, Unprocessable
from tests.spec_example import SPEC_EXAMPLE

DEMO_BUNDLE = Path(__file__).resolve().parents[2] / "data" / "demo-bundle.json"


@pytest.fixture
def engine() -> Iterator[sa.Engine]:
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def conn(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect() as connection:
        yield connection


def spec_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_EXAMPLE)
    # The example's CV-PRO names V-2, which it does not define; give it one so it loads.
    data["variants"].append({"externalId": "V-2", "name": "Nut M6"})
    return data


def load(conn: sa.Connection, data: dict[str, Any]) -> dict[str, int]:
    return upsert_catalog(conn, DataBundle.model_validate(data))


def row_counts(conn: sa.Connection) -> dict[str, int]:
    return {
        table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        for table in metadata.sorted_tables
    }


def one(conn: sa.Connection, table: sa.Table, external_id: str) -> sa.Row[Any]:
    return conn.execute(sa.select(table).where(table.c.external_id == external_id)).one()


def test_spec_example_loads(conn: sa.Connection) -> None:
    counts = load(conn, spec_data())

    assert counts["variants"] == 2 and counts["offerPrices"] == 1 and counts["settings"] == 1
    assert one(conn, stores, "STORE-EU").is_default is True
    settings = conn.execute(sa.select(tenant_settings)).one()
    assert (settings.id, settings.pricing_mode, settings.currency) == (1, "STANDARD", "EUR")
    account = one(conn, accounts, "ACC-1")
    assert account.groups == ["GOLD"]
    assert account.shipping_addresses[0]["zipCode"] == "75002"
    assert conn.execute(sa.select(account_stores)).all() == [(account.id, 1)]
    price = one(conn, offer_prices, "OP-1")
    assert price.tax_rate == Decimal("20")
    assert price.tiers[0] == {"minQuantity": 1, "netUnitPrice": "1.20", "grossUnitPrice": "1.50"}
    assert price.eligible_account_ids == [] and price.quantity_step == 10
    assert one(conn, offers, "OFR-1").available_quantity == 500
    operation = one(conn, operations, "OPN-1")
    variant = one(conn, variants, "V-1")
    assert operation.start_date == datetime(2026, 1, 1, tzinfo=UTC)
    assert operation.lines == [
        {
            "variantId": variant.id,
            "variantExternalId": "V-1",
            "minQuantity": 20,
            "maxQuantity": 200,
            "recommendedQuantity": 50,
        }
    ]
    assert row_counts(conn)["catalog_view_variants"] == 2
    assert row_counts(conn)["store_view_catalog_views"] == 1


def test_spec_example_loads_as_written_skipping_its_undefined_variant(
    conn: sa.Connection,
) -> None:
    # CV-PRO lists V-2, which the example never defines: the view links only V-1.
    counts = load(conn, json.loads(SPEC_EXAMPLE))

    assert counts["variants"] == 1
    assert row_counts(conn)["catalog_view_variants"] == 1


def test_loading_twice_changes_no_counts_and_updates_what_changed(conn: sa.Connection) -> None:
    data = spec_data()
    load(conn, data)
    before = row_counts(conn)

    data["variants"][0]["name"] = "Bolt M6 zinc"
    data["offers"][0]["stock"] = None
    load(conn, data)

    assert row_counts(conn) == before
    assert one(conn, variants, "V-1").name == "Bolt M6 zinc"
    assert one(conn, offers, "OFR-1").available_quantity is None


def test_api_keys_are_stored_hashed(conn: sa.Connection) -> None:
    load(conn, spec_data())

    stored = one(conn, users, "U-1").api_key_hash
    assert stored == hash_api_key("plain-key-1")
    assert "plain-key-1" not in {v for row in conn.execute(sa.select(users)) for v in row}


def test_user_accounts_keep_bundle_order_first_is_default(conn: sa.Connection) -> None:
    data = spec_data()
    data["accounts"].append({"externalId": "ACC-2", "name": "Second Co", "stores": ["STORE-EU"]})
    data["users"][0]["accounts"] = ["ACC-2", "ACC-1"]
    load(conn, data)

    links = conn.execute(
        sa.select(accounts.c.external_id, user_accounts.c.position)
        .join(accounts, accounts.c.id == user_accounts.c.account_id)
        .order_by(user_accounts.c.position)
    ).all()
    assert links == [("ACC-2", 0), ("ACC-1", 1)]
    assert len(conn.execute(sa.select(user_stores)).all()) == 1


def test_an_unknown_supplier_is_refused_and_no_offer_is_written(conn: sa.Connection) -> None:
    data = spec_data()
    data["offers"][0]["supplier"] = "SUP-NOPE"

    with pytest.raises(Unprocessable) as caught:
        load(conn, data)

    assert caught.value.code is ErrorCode.BUNDLE_INVALID
    assert [e.field for e in caught.value.errors] == ["offers[0].supplier"]
    assert row_counts(conn)["offers"] == 0
    assert row_counts(conn)["offer_prices"] == 0


def test_every_unknown_reference_is_listed(conn: sa.Connection) -> None:
    data = spec_data()
    data["storeViews"][0]["catalogViews"] = ["CV-ALL", "CV-GONE"]
    data["offers"][0]["prices"][0]["accounts"] = ["ACC-GONE"]
    data["operations"][0]["lines"][0]["variant"] = "V-GONE"

    with pytest.raises(Unprocessable) as caught:
        load(conn, data)

    assert sorted(e.field for e in caught.value.errors if e.field) == [
        "offers[0].prices[0].accounts[0]",
        "operations[0].lines[0].variant",
        "storeViews[0].catalogViews[1]",
    ]
    assert all(v == 0 for v in row_counts(conn).values())


def test_references_may_point_at_rows_of_an_earlier_load(conn: sa.Connection) -> None:
    load(conn, spec_data())

    counts = load(
        conn,
        {
            "offers": [
                {
                    "externalId": "OFR-2",
                    "supplier": "SUP-A",
                    "variant": "V-2",
                    "prices": [
                        {
                            "externalId": "OP-2",
                            "currency": "EUR",
                            "taxRate": 5.5,
                            "tiers": [
                                {"minQuantity": 1, "netUnitPrice": 2, "grossUnitPrice": 2.11}
                            ],
                            "accounts": ["ACC-1"],
                            "accountGroups": ["GOLD"],
                        }
                    ],
                }
            ]
        },
    )

    assert counts["offers"] == 1 and counts["variants"] == 0
    price = one(conn, offer_prices, "OP-2")
    assert price.eligible_account_ids == [one(conn, accounts, "ACC-1").id]
    assert price.eligible_account_groups == ["GOLD"]
    assert price.tiers[0]["grossUnitPrice"] == "2.11"
    assert one(conn, offers, "OFR-2").supplier_id == one(conn, suppliers, "SUP-A").id


def test_a_new_default_store_replaces_the_old_one(conn: sa.Connection) -> None:
    load(conn, spec_data())

    load(conn, {"stores": [{"externalId": "STORE-US", "name": "America", "default": True}]})

    defaults = conn.execute(sa.select(stores.c.external_id).where(stores.c.is_default)).all()
    assert defaults == [("STORE-US",)]


def test_partial_settings_keep_what_the_bundle_does_not_mention(conn: sa.Connection) -> None:
    load(conn, spec_data())

    load(conn, {"settings": {"cpqUrl": "http://cpq.local"}})

    settings = conn.execute(sa.select(tenant_settings)).one()
    assert settings.cpq_url == "http://cpq.local" and settings.currency == "EUR"


def test_links_are_replaced_for_the_parents_in_the_bundle(conn: sa.Connection) -> None:
    data = spec_data()
    load(conn, data)

    data["catalogViews"][1]["variants"] = ["V-2"]
    load(conn, data)

    assert len(conn.execute(sa.select(catalog_view_variants)).all()) == 1
    assert len(conn.execute(sa.select(store_view_catalog_views)).all()) == 1


def test_duplicate_external_ids_are_refused(conn: sa.Connection) -> None:
    data = spec_data()
    data["variants"].append({"externalId": "V-1", "name": "Again"})

    with pytest.raises(Unprocessable) as caught:
        load(conn, data)

    assert [e.field for e in caught.value.errors] == ["variants[2].externalId"]


def test_an_api_key_of_another_user_is_refused(conn: sa.Connection) -> None:
    load(conn, spec_data())
    thief = {"externalId": "U-2", "clientType": "OPERATOR", "apiKey": "plain-key-1"}

    with pytest.raises(Unprocessable) as caught:
        load(conn, {"users": [thief]})

    assert [e.field for e in caught.value.errors] == ["users[0].apiKey"]
    assert "plain-key-1" not in caught.value.errors[0].message


def test_progress_is_reported_per_entity_type(conn: sa.Connection) -> None:
    seen: list[tuple[str, int]] = []

    upsert_catalog(conn, DataBundle.model_validate(spec_data()), lambda n, c: seen.append((n, c)))

    assert ("variants", 2) in seen and ("offerPrices", 1) in seen
    assert [name for name, _ in seen].index("variants") < [n for n, _ in seen].index("offers")


def sized_bundle(size: int) -> dict[str, Any]:
    data = spec_data()
    data["variants"] += [{"externalId": f"V-X{i}", "name": f"Item {i}"} for i in range(size)]
    template = data["offers"][0]
    for i in range(size):
        offer = copy.deepcopy(template)
        offer["externalId"], offer["variant"] = f"OFR-X{i}", f"V-X{i}"
        offer["prices"][0]["externalId"] = f"OP-X{i}"
        data["offers"].append(offer)
    data["users"] += [
        {
            "externalId": f"U-X{i}",
            "clientType": "ACCOUNT",
            "apiKey": f"k{i}",
            "accounts": ["ACC-1"],
        }
        for i in range(size)
    ]
    return data


def test_statement_count_does_not_grow_with_the_bundle(engine: sa.Engine) -> None:
    def statements_for(size: int) -> int:
        executed: list[str] = []

        def record(*args: Any) -> None:
            executed.append(args[2])

        sa.event.listen(engine, "before_cursor_execute", record)
        with engine.connect() as connection:
            load(connection, sized_bundle(size))  # first load inserts
            load(connection, sized_bundle(size))  # second load updates
            connection.rollback()
        sa.event.remove(engine, "before_cursor_execute", record)
        return len(executed)

    assert statements_for(3) == statements_for(60)


def test_demo_bundle_loads_with_300_variants(conn: sa.Connection) -> None:
    if not DEMO_BUNDLE.exists():
        pytest.skip(f"{DEMO_BUNDLE} has not been generated")
    bundle = DataBundle.model_validate_json(DEMO_BUNDLE.read_bytes())

    counts = upsert_catalog(conn, bundle)

    assert counts["variants"] == 300
    assert row_counts(conn)["variants"] == 300
