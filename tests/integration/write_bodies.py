"""Hypothesis strategies for the bodies of the write endpoints (the property test of
test_write_bodies_property.py): the real field names of each body, mostly with plausible values
so that most requests reach the rules and the database, at times with anything at all
(tests/json_text.py).

Bundles only create entities whose external ids start with `HYP-` (and users with `hyp-key-`
API keys), with no `settings`, no default store and no required custom field: what they
create cannot change how the shared test catalog answers other tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from tests.json_text import (
    Fragment,
    any_value,
    array,
    document,
    either,
    literal,
    number,
    shaped,
    string,
    text_values,
    weighted,
)

OFFER_PRICES = (
    "OP-TIER",
    "OP-STEP",
    "OP-0001",
    "OP-0002",
    "OP-GOLD",
    "OP-RESTRICTED",
    "OP-EXPIRED",
    "OP-NOSTOCK",
    "OP-HIDDEN",
    "OP-SYNC",
    "OP-B",
    "OP-CHOICE-A",
    "OP-INACTIVE-SUP",
)
ELIGIBLE = ("OP-TIER", "OP-STEP", "OP-0001", "OP-0002", "OP-SYNC", "OP-B", "OP-GOLD")
VARIANTS = ("V-TIER", "V-STEP", "V-CHOICE", "V-0001")
CUSTOM_FIELDS = ("CF-PO", "CF-CC", "CF-NOTE", "CF-URGENT", "CF-QTY", "CF-DATE")
STATUSES = (
    "DRAFT_ORDER",
    "ORDER_DRAFT_ON_HOLD",
    "ORDER_CREATED",
    "WAITING_SUPPLIER_APPROVAL",
    "ACCEPTED_BY_SUPPLIER",
    "SHIPPED",
    "COMPLETED",
    "CANCELED",
)
IF_MATCH = (
    b'"1"',
    b'"2"',
    b'W/"1"',
    b"*",
    b'"\xb2"',
    b'"1", "2"',
    b"1",
    b"",
    b'"' + b"9" * 40 + b'"',
)
CONTENT_TYPES = (
    *["application/json"] * 8,
    "application/json; charset=utf-8",
    "application/merge-patch+json",
    "text/plain",
    None,
)


def quantity() -> Fragment:
    return weighted((4, st.integers(0, 300).map(str)), (1, number()))


def json_object() -> Fragment:
    """Free-form metadata: an object of anything."""
    return st.lists(st.tuples(string(), any_value(6)), max_size=4).map(
        lambda kv: "{" + ",".join(f"{k}:{v}" for k, v in kv) + "}"
    )


def custom_field_value() -> Fragment:
    return st.one_of(
        string(),
        number(),
        literal(True, False, None, "CC-A", "CC-B", "2026-12-15", "2026-02-30", "PO-1"),
    )


def custom_field_list() -> Fragment:
    entry = shaped(
        {"customFieldId": either(literal(*CUSTOM_FIELDS))},
        {"customFieldValue": either(custom_field_value())},
    )
    return either(array(entry, 3))


def custom_field_object() -> Fragment:
    keys = st.one_of(literal(*CUSTOM_FIELDS, "HYP-CF-1"), string())
    pairs = st.lists(st.tuples(keys, custom_field_value()), max_size=3)
    return either(pairs.map(lambda kv: "{" + ",".join(f"{k}:{v}" for k, v in kv) + "}"))


def offer_price_id() -> Fragment:
    # Mostly offer prices ACC-1 may order, so that most bodies reach the rules and the rows.
    return either(weighted((3, literal(*ELIGIBLE)), (1, literal(*OFFER_PRICES, *VARIANTS))))


def create_order_bodies() -> Fragment:
    return shaped(
        {},
        {
            "sourceType": either(literal("OPERATION")),
            "sourceId": either(literal("OPN-PUB", "OPN-PRIV", "OPN-OFF", "OPN-NONE")),
            "isFull": either(literal(True, False)),
            "customFields": custom_field_list(),
            "customFieldIdType": either(literal("EXTERNAL_ID", "DJUST_ID")),
        },
    )


def update_lines_bodies() -> Fragment:
    line = shaped(
        {"id": offer_price_id(), "quantity": quantity()},
        {
            "updateAction": either(literal("REPLACE_QUANTITY", "ADD_QUANTITY", "REMOVE_QUANTITY")),
            "customFields": custom_field_list(),
            "metadata": either(json_object()),
        },
    )
    return shaped(
        {"updateOrderCommercialLines": either(array(line, 3, min_size=1))},
        {
            "lineType": either(literal("OFFER_PRICE", "VARIANT")),
            "lineIdType": either(literal("EXTERNAL_ID")),
            "customFieldIdType": either(literal("EXTERNAL_ID", "DJUST_ID")),
            "metadata": either(json_object()),
        },
    )


def delete_lines_bodies() -> Fragment:
    return either(array(shaped({"offerPriceId": offer_price_id()}), 4, min_size=1))


def address() -> Fragment:
    text = either(string(st.one_of(st.just("12 quai de Seine"), text_values())))
    return shaped(
        {
            "fullName": text,
            "streetName": text,
            "city": text,
            "zipCode": either(literal("76000")),
            "country": either(literal("FR")),
        },
        {"externalId": text, "state": text, "additional": text},
    )


def logistic_patch_bodies() -> Fragment:
    return shaped(
        {},
        {
            "status": either(literal(*STATUSES)),
            "externalId": either(hyp("ERP")),
            "shippingAddress": either(address()),
        },
    )


def hyp(kind: str) -> Fragment:
    """An external id of our own: `HYP-<kind>-1..3` (so entities refer to each other), or
    `HYP-<kind>-` followed by any text."""
    suffix = st.one_of(st.sampled_from(["1", "2", "3"]), text_values())
    return string(suffix.map(lambda s: f"HYP-{kind}-{s}"))


def bundle_bodies() -> Fragment:
    """Tiny bundles; every entity's own external id is fresh (`HYP-`), references may point
    anywhere. No `settings`, no default store, no required custom field: what is created
    here cannot change how the shared catalog answers other tests."""
    name = either(string(st.one_of(st.just("Thing"), text_values())))
    status = either(literal("ACTIVE", "INACTIVE"))
    date = either(literal("2020-01-01T00:00:00Z", "2099-01-01T00:00:00+02:00", "2026-13-01"))
    tier = shaped(
        {"minQuantity": quantity(), "netUnitPrice": either(number()), "grossUnitPrice": number()}
    )
    price = shaped(
        {
            "externalId": hyp("OP"),
            "currency": either(literal("EUR", "USD")),
            "taxRate": either(number()),
            "tiers": either(array(tier, 3)),
        },
        {
            "minOrderQuantity": quantity(),
            "maxOrderQuantity": quantity(),
            "quantityStep": quantity(),
            "validFrom": date,
            "validTo": date,
            "accounts": array(either(literal("ACC-1", "ACC-2")), 2),
            "accountGroups": array(either(literal("GOLD")), 2),
        },
    )
    entities = {
        "stores": shaped({"externalId": hyp("S"), "name": name}, {"default": literal(False)}),
        "suppliers": shaped({"externalId": hyp("SUP"), "name": name}, {"status": status}),
        "catalogViews": shaped(
            {"externalId": hyp("CV")},
            {"allVariants": either(literal(True, False)), "variants": array(hyp("V"), 3)},
        ),
        "storeViews": shaped(
            {"externalId": hyp("SV"), "store": either(hyp("S"))},
            {"name": name, "catalogViews": array(hyp("CV"), 2)},
        ),
        "accounts": shaped(
            {"externalId": hyp("ACC"), "name": name},
            {
                "status": status,
                "stores": array(either(literal("S1")), 2),
                "groups": array(string(), 2),
                "shippingAddresses": array(address(), 2),
            },
        ),
        "users": shaped(
            {
                "externalId": hyp("U"),
                "clientType": either(literal("ACCOUNT", "OPERATOR", "SUPPLIER")),
                "apiKey": string(st.sampled_from(["1", "2", "\x00", "é"]).map("hyp-key-".__add__)),
            },
            {
                "name": name,
                "accounts": array(either(literal("ACC-1")), 2),
                "stores": array(either(literal("S1")), 2),
                "supplier": either(literal("SUP-A")),
            },
        ),
        "variants": shaped(
            {"externalId": hyp("V"), "name": name},
            {"sku": name, "description": name, "classification": name, "product": name},
        ),
        "offers": shaped(
            {
                "externalId": hyp("OFR"),
                "supplier": either(st.one_of(literal("SUP-A"), hyp("SUP"))),
                "variant": either(hyp("V")),
            },
            {"status": status, "stock": quantity(), "prices": either(array(price, 2))},
        ),
        "operations": shaped(
            {"externalId": hyp("OPN")},
            {
                "name": name,
                "status": either(literal("DRAFT", "ACTIVE", "INACTIVE")),
                "type": either(literal("PUBLIC", "PRIVATE")),
                "startDate": date,
                "endDate": date,
                "accounts": array(either(literal("ACC-1")), 2),
                "lines": array(
                    shaped(
                        {"variant": either(hyp("V"))},
                        {"minQuantity": quantity(), "maxQuantity": quantity()},
                    ),
                    2,
                ),
            },
        ),
        "customFields": shaped(
            {
                "externalId": hyp("CF"),
                "entity": either(literal("ORDER", "ORDER_LINE")),
                "type": either(literal("STRING", "NUMBER", "BOOLEAN", "DATE", "LIST")),
            },
            {"name": name, "allowedValues": array(string(), 3), "required": literal(False)},
        ),
        "orders": shaped(
            {
                "externalId": hyp("ORD"),
                "account": either(literal("ACC-1")),
                "user": either(literal("U-1")),
            },
            {
                "reference": either(literal("999-000-0000001", "999-000-000000")),
                "store": literal("S1"),
                "isFull": either(literal(True, False)),
                "customFields": custom_field_object(),
                "lines": either(
                    array(
                        shaped(
                            {
                                "offerPrice": either(st.one_of(literal("OP-TIER"), hyp("OP"))),
                                "quantity": quantity(),
                            },
                            {"customFields": custom_field_object()},
                        ),
                        3,
                    )
                ),
                "placed": either(literal(True, False)),
            },
        ),
    }
    return shaped({}, {key: array(entity, 2) for key, entity in entities.items()})


@dataclass(frozen=True)
class Sent:
    """What a request carried, for the failure message."""

    body: bytes
    content_type: str | None
    if_match: bytes | None = None


def sent(bodies: Fragment, *, if_match: bool = False) -> st.SearchStrategy[Sent]:
    tags = weighted((3, st.none()), (1, st.sampled_from(IF_MATCH))) if if_match else st.none()
    return st.builds(Sent, document(bodies), st.sampled_from(CONTENT_TYPES), tags)
