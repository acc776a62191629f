"""Generate the deterministic demo data bundle of ordersync.

The bundle (SPEC §6, plus demo orders) describes a small European
industrial-supplies marketplace: two stores, four suppliers, three buyer
accounts, 300 variants with their offers and tiered prices, operations, custom
fields and four demo orders. The random generator is seeded, so every run
writes the same file. The bundle is checked before it is written: every
reference resolves and every demo order line is orderable as written.

Usage: python3 scripts/make_demo_bundle.py [OUTPUT_PATH]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from random import Random
from typing import Any

Json = dict[str, Any]

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "data" / "demo-bundle.json"
SEED = 42
VARIANT_COUNT = 300
CURRENCY = "EUR"
# Dates are checked against this instant rather than the clock, so that the
# script's verdict does not change from one day to the next.
REFERENCE_NOW = datetime.fromisoformat("2026-11-25T00:00:00+00:00")
CENT = Decimal("0.01")

SUPPLIERS: list[Json] = [
    {"externalId": "SUP-ACME", "name": "Acme Industrie", "status": "ACTIVE"},
    {"externalId": "SUP-BOLTEX", "name": "Boltex GmbH", "status": "ACTIVE"},
    {"externalId": "SUP-SAFETY", "name": "SafeWork SAS", "status": "ACTIVE"},
    {"externalId": "SUP-OLD", "name": "Legacy Supplies", "status": "INACTIVE"},
]
SHORT_NAME = {"SUP-ACME": "ACME", "SUP-BOLTEX": "BOLTEX", "SUP-SAFETY": "SAFETY", "SUP-OLD": "OLD"}
ACTIVE_SUPPLIERS = ("SUP-ACME", "SUP-BOLTEX", "SUP-SAFETY")
# How likely each active supplier (in ACTIVE_SUPPLIERS order) is to sell a family.
SUPPLIER_WEIGHTS = {
    "FASTENERS": (5, 6, 1),
    "SCREWS": (5, 6, 1),
    "DRILL-BITS": (5, 5, 1),
    "CABLE-TIES": (5, 3, 3),
    "ADHESIVES": (5, 3, 2),
    "GLOVES": (4, 1, 6),
    "SAFETY-GLASSES": (4, 1, 6),
    "CLEANING": (4, 1, 5),
}


@dataclass(frozen=True)
class Template:
    """A product line: one product per `products` value, one variant per `variants` value."""

    family: str
    name: str
    description: str
    products: str
    variants: str
    base_price: str
    # Relative price increase from one variant value to the next (e.g. longer bolts).
    scale: str


# fmt: off
TEMPLATES = [
    Template("FASTENERS", "Hex bolt M{p}x{v} zinc-plated",
             "ISO 4017 hex head bolt, grade 8.8 steel, zinc-plated, M{p} x {v} mm, sold per piece",
             "8|6|10|12|16|20", "20|30|40|50|60|80", "0.18", "0.25"),
    Template("FASTENERS", "Hex bolt M{p}x{v} stainless A2",
             "ISO 4017 hex head bolt, A2-70 stainless steel, M{p} x {v} mm, sold per piece",
             "6|8|10|12", "20|30|40|50|60|80", "0.45", "0.25"),
    Template("FASTENERS", "Hex bolt M{p}x{v} hot-dip galvanised",
             "ISO 4017 hex bolt, grade 8.8, hot-dip galvanised, M{p} x {v} mm, sold per piece",
             "10|12|16|20", "40|60|80|100|120", "0.40", "0.25"),
    Template("FASTENERS", "Socket head cap screw M{p}x{v} grade 12.9 black",
             "ISO 4762 socket head cap screw, grade 12.9 alloy steel, black oxide, sold per piece",
             "4|5|6|8|10", "10|16|20|25|30|40", "0.15", "0.2"),
    Template("FASTENERS", "Hex nut {v} {p} box of 100",
             "ISO 4032 hex nut, {p}, thread {v}, box of 100",
             "zinc-plated|stainless A2|nylon-insert zinc-plated", "M6|M8|M10|M12|M16",
             "4.50", "0.4"),
    Template("FASTENERS", "Flat washer {v} DIN 125 {p} box of 100",
             "DIN 125 flat washer for {v} bolts, {p}, box of 100",
             "zinc-plated|stainless A2|hot-dip galvanised", "M6|M8|M10|M12|M16", "2.80", "0.4"),
    Template("FASTENERS", "Threaded rod {v} x 1 m {p}",
             "DIN 975 threaded rod, {p}, thread {v}, length 1 m",
             "zinc-plated|stainless A2", "M6|M8|M10|M12|M16", "1.90", "0.5"),
    Template("FASTENERS", "Wedge anchor M{p}x{v} zinc-plated",
             "Through-bolt wedge anchor for cracked concrete, M{p} x {v} mm, sold per piece",
             "8|10|12", "75|100|120|150", "0.65", "0.2"),
    Template("GLOVES", "{p} gloves size {v} box of 100",
             "Disposable examination gloves, {p}, EN 455, ambidextrous, size {v}, box of 100",
             "Nitrile|Latex powder-free|Vinyl|Nitrile long-cuff"
             "|Nitrile heavy-duty black",
             "S|M|L|XL", "6.90", "0"),
    Template("GLOVES", "{p} work gloves size {v}",
             "EN 388 work gloves, {p}, size {v}, sold per pair",
             "Cut-resistant level C|Leather rigger|PU-coated nylon|Thermal winter",
             "7|8|9|10|11", "3.20", "0"),
    Template("GLOVES", "Chemical-resistant gauntlets {p} size {v}",
             "EN ISO 374-1 chemical-resistant gauntlets, {p}, size {v}, sold per pair",
             "nitrile 33 cm|neoprene 35 cm|butyl 35 cm", "7|8|9|10|11", "4.80", "0"),
    Template("SAFETY-GLASSES", "Safety glasses {p} {v} lens",
             "EN 166 {p} safety glasses, anti-scratch and anti-fog coating, {v} lens",
             "wraparound|over-spectacles|sport-style|low-profile",
             "clear|smoke|yellow|indoor/outdoor mirror", "3.40", "0.1"),
    Template("SAFETY-GLASSES", "Safety goggles {p} {v}",
             "EN 166 {p} safety goggles with elastic strap, {v} polycarbonate lens",
             "indirect-vent|direct-vent", "clear anti-fog|clear anti-scratch|smoke anti-fog",
             "6.50", "0.1"),
    Template("SAFETY-GLASSES", "Face shield {p} {v}",
             "EN 166 face shield, {p} visor, {v}",
             "polycarbonate|acetate", "with headgear|replacement visor|with brow guard",
             "9.80", "0.2"),
    Template("SAFETY-GLASSES", "Welding goggles {p} shade {v}",
             "EN 175 {p} welding goggles, shade {v} filter",
             "flip-up|panoramic", "3|5|8", "8.90", "0.1"),
    Template("CABLE-TIES", "Cable ties {v} mm {p} bag of 100",
             "Polyamide 6.6 cable ties, {p}, {v} mm, bag of 100",
             "black UV-resistant|natural|releasable natural|black heavy-duty|stainless steel 316"
             "|coloured assorted", "2.5x100|3.6x140|3.6x200|4.8x200|4.8x280|7.6x370",
             "1.60", "0.35"),
    Template("CABLE-TIES", "Cable tie mounts {p} {v}",
             "Cable tie mounting bases, {p}, {v}",
             "adhesive 19x19 mm|adhesive 28x28 mm|screw-fix nylon",
             "bag of 25|bag of 100|bag of 500", "2.40", "1.5"),
    Template("CABLE-TIES", "Spiral wrap {p} {v}",
             "Spiral cable wrap, {p}, bundle diameter {v}",
             "black polyethylene|natural polyethylene",
             "4-50 mm x 10 m|6-60 mm x 10 m|10-100 mm x 10 m", "4.20", "0.4"),
    Template("DRILL-BITS", "{p} drill bit {v} mm",
             "{p} drill bit, diameter {v} mm, sold per piece",
             "HSS-G metal|HSS-Co cobalt|SDS-plus masonry|Brad-point wood|Carbide tile and glass",
             "3|4|5|6|8|10|12", "1.80", "0.25"),
    Template("DRILL-BITS", "{p} drill bit set {v}-piece",
             "{p} drill bit set in a storage case, {v} pieces",
             "HSS-G metal|SDS-plus masonry|Brad-point wood", "5|13|19|25", "12.00", "0.6"),
    Template("DRILL-BITS", "Hole saw {p} {v} mm",
             "{p} hole saw, diameter {v} mm, cutting depth 38 mm",
             "bi-metal|carbide-tipped", "22|32|51|68|80", "8.50", "0.2"),
    Template("DRILL-BITS", "Countersink bit {p} {v} mm",
             "{p} countersink bit, 3 flutes, diameter {v} mm",
             "HSS 90-degree|HSS-Co 90-degree", "10.4|12.4|16.5|20.5", "6.00", "0.2"),
    Template("SCREWS", "Wood screw {p}x{v} Torx countersunk box of 200",
             "Countersunk Torx wood screw, zinc-plated, {p} x {v} mm, box of 200",
             "3.5|4|4.5|5|6", "20|30|40|50|60", "5.50", "0.2"),
    Template("SCREWS", "Drywall screw 3.5x{v} {p} box of 1000",
             "Bugle head drywall screw, {p}, 3.5 x {v} mm, box of 1000",
             "fine thread phosphated|coarse thread phosphated", "25|35|45|55", "9.90", "0.2"),
    Template("SCREWS", "Self-drilling screw {p}x{v} hex washer head box of 250",
             "Self-drilling screw with hex washer head, {p} x {v} mm, box of 250",
             "4.2|4.8|5.5", "16|19|25|32|38", "11.50", "0.15"),
    Template("SCREWS", "Machine screw M{p}x{v} pan head stainless A2 box of 100",
             "ISO 7045 pan head machine screw, A2 stainless, M{p} x {v} mm, box of 100",
             "3|4|5|6", "10|12|16|20|25", "6.20", "0.15"),
    Template("SCREWS", "Chipboard screw {p}x{v} yellow zinc box of 500",
             "Chipboard screw, Pozidriv, yellow zinc-plated, {p} x {v} mm, box of 500",
             "3|3.5|4|5", "16|20|30|40|50", "7.40", "0.2"),
    Template("SCREWS", "Concrete screw {p}x{v} hex head box of 100",
             "Concrete screw with hex head for direct fixing, {p} x {v} mm, box of 100",
             "6|7.5", "40|60|80|100", "18.00", "0.25"),
    Template("ADHESIVES", "Threadlocker {p} {v} ml",
             "Anaerobic threadlocker, {p}, bottle of {v} ml",
             "medium strength blue|high strength red|low strength purple", "10|50|250",
             "7.50", "2"),
    Template("ADHESIVES", "Instant adhesive {p} {v} g",
             "Cyanoacrylate instant adhesive, {p}, {v} g",
             "general purpose|gel|rubber-toughened", "3|20|50", "3.90", "1.5"),
    Template("ADHESIVES", "Polyurethane sealant {p} {v} 310 ml",
             "Polyurethane sealant and adhesive, {p} grade, {v}, 310 ml cartridge",
             "construction|marine", "white|grey|black", "8.20", "0"),
    Template("ADHESIVES", "Two-part epoxy {p} {v} ml",
             "Two-part epoxy adhesive, {p}, {v} ml",
             "5-minute|structural|metal-filled", "24|50|400", "9.50", "2"),
    Template("ADHESIVES", "Silicone sealant {p} {v} 310 ml",
             "Silicone sealant, {p}, {v}, 310 ml cartridge",
             "sanitary|neutral-cure|high-temperature", "translucent|white|grey|black",
             "5.60", "0"),
    Template("ADHESIVES", "Retaining compound {p} {v} ml",
             "Anaerobic retaining compound for cylindrical parts, {p}, {v} ml",
             "high strength|slip-fit", "10|50|250", "9.80", "2"),
    Template("ADHESIVES", "Contact adhesive {p} {v}",
             "Solvent-based contact adhesive, {p}, {v}",
             "gel|liquid", "250 ml tin|750 ml tin|5 L can", "6.40", "2"),
    Template("CLEANING", "Industrial degreaser {p} {v} L",
             "Industrial degreaser, {p}, {v} L",
             "solvent-free|citrus-based|heavy-duty alkaline", "1|5|20", "6.50", "2"),
    Template("CLEANING", "Hand cleaner {p} {v}",
             "Workshop hand cleaner, {p}, {v}",
             "with microbeads|citrus gel|sensitive skin foam",
             "500 ml pump bottle|2 L cartridge|4 L can", "5.20", "1.2"),
    Template("CLEANING", "Wiping roll {p} {v}",
             "Industrial wiping roll, {p}, {v}",
             "blue 2-ply|white 3-ply|non-woven heavy-duty",
             "500 sheets|1000 sheets|case of 2 rolls", "14.00", "0.8"),
    Template("CLEANING", "Surface disinfectant {p} {v}",
             "EN 1276 surface disinfectant, {p}, {v}",
             "alcohol-based spray|alcohol-free spray", "500 ml|750 ml|5 L refill", "4.80", "1.5"),
    Template("CLEANING", "Absorbent pads {p} {v}",
             "Absorbent pads, {p}, 40 x 50 cm, {v}",
             "oil-only|universal|chemical", "pack of 50|pack of 100|pack of 200", "24.00", "0.9"),
    Template("CLEANING", "Floor cleaner {p} {v} L",
             "Concentrated floor cleaner, {p}, {v} L",
             "neutral|degreasing|disinfecting", "1|5|10", "4.50", "2"),
]
# fmt: on

# fmt: off
# externalId, name, entity, type, allowed values; none is required.
CUSTOM_FIELDS = [
    ("CF-PO", "Purchase order number", "ORDER", "STRING", ()),
    ("CF-COST-CENTER", "Cost center", "ORDER", "LIST", ("CC-100", "CC-200", "CC-300")),
    ("CF-DELIVERY-DATE", "Requested delivery date", "ORDER", "DATE", ()),
    ("CF-LINE-NOTE", "Line note", "ORDER_LINE", "STRING", ()),
    ("CF-LINE-URGENT", "Urgent line", "ORDER_LINE", "BOOLEAN", ()),
    ("CF-LINE-QTY-PACK", "Quantity per pack", "ORDER_LINE", "NUMBER", ()),
]
# externalId, name, stores, groups; all ACTIVE.
ACCOUNTS = [
    ("ACC-BUILDCO", "BuildCo Construction SA", ("STORE-EU", "STORE-UK"), ("GOLD",)),
    ("ACC-FACTORY", "Usinage Rhone-Alpes SAS", ("STORE-EU",), ("SILVER",)),
    ("ACC-HOSPITAL", "Clinique Saint-Louis", ("STORE-EU",), ()),
]
# account, externalId, fullName, streetName, city, zipCode, country, state, additional;
# an account's first address is its default one.
ADDRESSES = [
    ("ACC-BUILDCO", "ADDR-BUILDCO-LYON", "Claire Martin", "12 avenue Jean Jaures", "Lyon",
     "69007", "FR", None, "Site office, gate 3"),
    ("ACC-BUILDCO", "ADDR-BUILDCO-MANCHESTER", "Oliver Bennett", "45 Trafford Wharf Road",
     "Manchester", "M17 1AB", "GB", "Greater Manchester", None),
    ("ACC-FACTORY", "ADDR-FACTORY-GRENOBLE", "Thomas Girard", "8 rue des Peupliers", "Grenoble",
     "38100", "FR", None, "Goods receiving, dock 2"),
    ("ACC-FACTORY", "ADDR-FACTORY-VALENCE", "Nadia Benali", "Zone industrielle des Aureats",
     "Valence", "26000", "FR", None, None),
    ("ACC-HOSPITAL", "ADDR-HOSPITAL-MAIN", "Sophie Laurent", "3 boulevard Pasteur", "Bordeaux",
     "33000", "FR", None, "Central stores, level -1"),
]
# externalId, name, clientType, apiKey, accounts, stores, supplier
USERS = [
    ("U-BUILDCO-1", "Claire Martin", "ACCOUNT", "demo-key-buildco",
     ("ACC-BUILDCO",), ("STORE-EU", "STORE-UK"), None),
    ("U-BUILDCO-2", "Paul Lefevre", "ACCOUNT", "demo-key-buildco-2",
     ("ACC-BUILDCO", "ACC-FACTORY"), ("STORE-EU",), None),
    ("U-FACTORY-1", "Thomas Girard", "ACCOUNT", "demo-key-factory",
     ("ACC-FACTORY",), ("STORE-EU",), None),
    ("U-HOSPITAL-1", "Sophie Laurent", "ACCOUNT", "demo-key-hospital",
     ("ACC-HOSPITAL",), ("STORE-EU",), None),
    ("OPS-1", "Back-office operator", "OPERATOR", "demo-key-operator", (), (), None),
    ("SUP-ACME-USER", "Acme Industrie sales desk", "SUPPLIER", "demo-key-supplier-acme",
     (), (), "SUP-ACME"),
]
# fmt: on


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def percent(rng: Random, low: int, high: int) -> Decimal:
    """A random factor between low% and high%, drawn as an integer to stay exact."""
    return Decimal(rng.randint(low, high)) / 100


def make_custom_fields() -> list[Json]:
    keys = ("externalId", "name", "entity", "type")
    return [
        {**dict(zip(keys, row[:4], strict=True)), "required": False, "allowedValues": [*row[4]]}
        for row in CUSTOM_FIELDS
    ]


def make_accounts() -> list[Json]:
    keys = ("fullName", "streetName", "city", "zipCode", "country", "state", "additional")
    accounts = []
    for ext_id, name, stores, groups in ACCOUNTS:
        addresses = [
            {"externalId": row[1], **dict(zip(keys, row[2:], strict=True))}
            for row in ADDRESSES
            if row[0] == ext_id
        ]
        accounts.append(
            {
                "externalId": ext_id,
                "name": name,
                "status": "ACTIVE",
                "stores": [*stores],
                "groups": [*groups],
                "shippingAddresses": addresses,
            }
        )
    return accounts


def make_users() -> list[Json]:
    users = []
    for ext_id, name, client_type, api_key, accounts, stores, supplier in USERS:
        user: Json = {"externalId": ext_id, "name": name, "clientType": client_type}
        user["apiKey"] = api_key
        if client_type == "ACCOUNT":
            user.update(accounts=[*accounts], stores=[*stores])
        if supplier is not None:
            user["supplier"] = supplier
        users.append(user)
    return users


def make_variants(rng: Random) -> tuple[list[Json], dict[str, Decimal], dict[str, str]]:
    """The variants, their list price and their family, products taken family by family."""
    queues: dict[str, list[tuple[Template, int]]] = {}
    for template in TEMPLATES:
        queue = queues.setdefault(template.family, [])
        queue.extend((template, i) for i in range(len(template.products.split("|"))))
    products: list[tuple[Template, int]] = []
    for depth in range(max(len(q) for q in queues.values())):
        products.extend(q[depth] for q in queues.values() if depth < len(q))

    variants: list[Json] = []
    list_price: dict[str, Decimal] = {}
    family: dict[str, str] = {}
    for number, (template, p_index) in enumerate(products, start=1):
        remaining = VARIANT_COUNT - len(variants)
        if remaining == 0:
            break
        count = rng.choice((2, 3, 3))
        if remaining <= 3:
            count = remaining
        elif remaining - count == 1:
            count = 2
        values = template.variants.split("|")
        p_value = template.products.split("|")[p_index]
        for v_index in sorted(rng.sample(range(len(values)), count)):
            n = len(variants) + 1
            ext_id = f"V-{n:04d}"
            fields = {"p": p_value, "v": values[v_index]}
            variants.append(
                {
                    "externalId": ext_id,
                    "sku": f"SKU-{n:04d}",
                    "name": template.name.format(**fields),
                    "description": template.description.format(**fields),
                    "classification": f"CLS-{template.family}",
                    "product": f"P-{number:03d}",
                }
            )
            price = (
                Decimal(template.base_price)
                * (1 + Decimal(template.scale) * v_index)
                * (1 + Decimal("0.1") * p_index)
                * percent(rng, 90, 110)
            )
            list_price[ext_id] = max(money(price), Decimal("0.20"))
            family[ext_id] = template.family
    return variants, list_price, family


def pick_suppliers(rng: Random, family: str) -> list[str]:
    count = rng.choices((1, 2, 3), weights=(45, 40, 15))[0]
    pool = list(ACTIVE_SUPPLIERS)
    weights = list(SUPPLIER_WEIGHTS[family])
    chosen = []
    for _ in range(count):
        index = rng.choices(range(len(pool)), weights=weights)[0]
        chosen.append(pool.pop(index))
        weights.pop(index)
    if count < 3 and rng.random() < 0.26:
        chosen.append("SUP-OLD")
    return sorted(chosen)


def largest_multiple(value: int, step: int, floor: int) -> int:
    """The largest multiple of step not above value, but at least the smallest one >= floor."""
    result = value - value % step
    while result < floor:
        result += step
    return result


def make_tiers(rng: Random, gross: Decimal, low: int, high: int | None, step: int) -> list[Json]:
    first = rng.choice((1, low))
    thresholds = [
        q
        for q in (10, 24, 25, 50, 100, 200, 250, 500, 1000)
        if q > max(first, low) and q % step == 0 and (high is None or q <= high)
    ]
    extra = rng.choices((0, 1, 2), weights=(35, 40, 25))[0]
    starts = [first, *sorted(rng.sample(thresholds, min(extra, len(thresholds))))]
    tiers = []
    net = money(gross * percent(rng, 85, 100))
    for start in starts:
        tiers.append(
            {"minQuantity": start, "netUnitPrice": str(net), "grossUnitPrice": str(gross)}
        )
        net = min(money(net * percent(rng, 88, 96)), net - CENT)
    return tiers


def make_price(rng: Random, ext_id: str, list_price: Decimal) -> Json:
    step = rng.choices((1, 5, 10, 12), weights=(50, 20, 20, 10))[0]
    low = rng.choice((1, 1, 1, 1, 2, 5, 10)) if step == 1 else step * rng.randint(1, 20 // step)
    high = None
    if rng.random() < 0.5:
        high = largest_multiple(rng.choice((100, 200, 500, 1000, 2000, 5000, 10000)), step, 100)
    restriction = rng.random()
    gross = money(list_price * percent(rng, 98, 106))
    return {
        "externalId": ext_id,
        "currency": CURRENCY,
        "taxRate": rng.choices(("20", "10", "5.5"), weights=(90, 6, 4))[0],
        "tiers": make_tiers(rng, gross, low, high, step),
        "minOrderQuantity": low,
        "maxOrderQuantity": high,
        "quantityStep": step,
        "validFrom": None,
        "validTo": None,
        "accounts": ["ACC-BUILDCO"] if restriction < 0.035 else [],
        "accountGroups": ["GOLD"] if 0.035 <= restriction < 0.07 else [],
    }


CURRENT_WINDOWS = [
    ("2026-01-01T00:00:00Z", "2026-12-31T23:59:59Z"),
    ("2026-09-01T00:00:00Z", "2027-03-31T23:59:59Z"),
    (None, "2027-12-31T23:59:59Z"),
    ("2027-01-01T00:00:00Z", None),
]
EXPIRED_WINDOWS = [
    ("2025-01-01T00:00:00Z", "2025-06-30T23:59:59Z"),
    (None, "2025-12-31T23:59:59Z"),
]


def make_offers(
    rng: Random, variants: list[Json], list_price: dict[str, Decimal], family: dict[str, str]
) -> list[Json]:
    offers = []
    for variant in variants:
        v_id = variant["externalId"]
        if v_id in ("V-0001", "V-0002"):
            suppliers = ["SUP-ACME", "SUP-BOLTEX"]
        else:
            suppliers = pick_suppliers(rng, family[v_id])
        for supplier in suppliers:
            suffix = f"{v_id}-{SHORT_NAME[supplier]}"
            roll = rng.random()
            stock = None if roll < 0.10 else 0 if roll < 0.15 else rng.randint(5, 500) * 10
            offers.append(
                {
                    "externalId": f"OFR-{suffix}",
                    "supplier": supplier,
                    "variant": v_id,
                    "status": "INACTIVE" if rng.random() < 0.02 else "ACTIVE",
                    "stock": stock,
                    "prices": [make_price(rng, f"OP-{suffix}", list_price[v_id])],
                }
            )
            if rng.random() < 0.02:
                price = offers[-1]["prices"][0]
                price["validFrom"], price["validTo"] = rng.choice(CURRENT_WINDOWS)
    by_price = {o["prices"][0]["externalId"]: o for o in offers}
    # The README's curl example orders these two prices: keep them public and orderable.
    first = by_price["OP-V-0001-ACME"]
    first.update(status="ACTIVE", stock=5000)
    # fmt: off
    first["prices"][0].update(
        taxRate="20", minOrderQuantity=1, maxOrderQuantity=None, quantityStep=1,
        validFrom=None, validTo=None, accounts=[], accountGroups=[],
        tiers=[{"minQuantity": 1, "netUnitPrice": "0.42", "grossUnitPrice": "0.50"},
               {"minQuantity": 100, "netUnitPrice": "0.38", "grossUnitPrice": "0.50"}])
    # fmt: on
    second = by_price["OP-V-0002-ACME"]
    gross = money(list_price["V-0002"])
    second.update(status="ACTIVE", stock=2000)
    # fmt: off
    second["prices"][0].update(
        minOrderQuantity=10, maxOrderQuantity=1000, quantityStep=10, validFrom=None,
        validTo=None, accounts=[], accountGroups=[], tiers=make_tiers(rng, gross, 10, 1000, 10))
    # fmt: on
    undated = [
        o
        for o in offers
        if o["variant"] not in ("V-0001", "V-0002")
        and o["prices"][0]["validFrom"] is None
        and o["prices"][0]["validTo"] is None
    ]
    for offer, window in zip(rng.sample(undated, 2), EXPIRED_WINDOWS, strict=True):
        offer["prices"][0]["validFrom"], offer["prices"][0]["validTo"] = window
    return offers


def is_public(price: Json) -> bool:
    return not price["accounts"] and not price["accountGroups"]


def is_orderable(offer: Json, account: Json | None = None) -> bool:
    """ACTIVE offer of an ACTIVE supplier, in stock, undated, and open to the account."""
    price = offer["prices"][0]
    eligible = is_public(price) or (
        account is not None
        and (
            account["externalId"] in price["accounts"]
            or bool(set(account["groups"]) & set(price["accountGroups"]))
        )
    )
    return (
        offer["status"] == "ACTIVE"
        and offer["supplier"] in ACTIVE_SUPPLIERS
        and offer["stock"] != 0
        and price["validFrom"] is None
        and price["validTo"] is None
        and eligible
    )


def quantity_cap(offer: Json, ceiling: int) -> int:
    price = offer["prices"][0]
    limits = [x for x in (price["maxOrderQuantity"], offer["stock"]) if x is not None]
    return largest_multiple(
        min([ceiling, *limits]), price["quantityStep"], price["minOrderQuantity"]
    )


def operation_line(rng: Random, offer: Json) -> Json:
    price = offer["prices"][0]
    step, low = price["quantityStep"], price["minOrderQuantity"]
    cap = quantity_cap(offer, low * 40)
    op_min = min(low * rng.choice((1, 2, 3)), cap)
    op_max = max(op_min, min(op_min * rng.choice((5, 10, 20)), cap))
    recommended = op_min + step * rng.randint(0, (op_max - op_min) // step // 3)
    return {
        "variant": offer["variant"],
        "minQuantity": op_min,
        "maxQuantity": op_max,
        "recommendedQuantity": recommended,
    }


def make_operations(rng: Random, offers: list[Json]) -> tuple[list[Json], dict[str, Json]]:
    """The operations, and for each operation variant the offer its lines were sized on."""
    by_variant: dict[str, list[Json]] = {}
    for offer in offers:
        by_variant.setdefault(offer["variant"], []).append(offer)
    clean = [
        v
        for v, vo in by_variant.items()
        if v not in ("V-0001", "V-0002") and all(is_orderable(o) for o in vo)
    ]
    picked = rng.sample(clean, 15)
    others = [v for v in by_variant if v not in picked]
    old = sorted(rng.sample(others, 3))
    sized_on = {v: by_variant[v][0] for v in [*picked, *old]}

    def lines(chosen: list[str]) -> list[Json]:
        return [operation_line(rng, sized_on[v]) for v in sorted(chosen)]

    # fmt: off
    operations = [
        {"externalId": "OPN-SPRING", "name": "Spring site-safety and fixings campaign",
         "status": "ACTIVE", "type": "PUBLIC", "startDate": "2026-01-01T00:00:00Z",
         "endDate": "2027-06-30T23:59:59Z", "accounts": [], "lines": lines(picked[:10])},
        {"externalId": "OPN-VIP", "name": "BuildCo framework agreement", "status": "ACTIVE",
         "type": "PRIVATE", "startDate": "2026-06-01T00:00:00Z",
         "endDate": "2027-05-31T23:59:59Z", "accounts": ["ACC-BUILDCO"],
         "lines": lines(picked[10:])},
        {"externalId": "OPN-OLD", "name": "Winter 2025 clearance", "status": "INACTIVE",
         "type": "PUBLIC", "startDate": "2025-01-01T00:00:00Z",
         "endDate": "2025-03-31T23:59:59Z", "accounts": [], "lines": lines(old)},
    ]
    # fmt: on
    return operations, sized_on


def order_quantity(rng: Random, offer: Json) -> int:
    """A valid quantity, on a tier threshold when one is reachable, to show tier pricing."""
    price = offer["prices"][0]
    step, low = price["quantityStep"], price["minOrderQuantity"]
    cap = quantity_cap(offer, low + step * 30)
    choices = [low, low + step * rng.randint(0, (cap - low) // step)]
    choices += [
        t["minQuantity"]
        for t in price["tiers"]
        if low <= t["minQuantity"] <= cap and t["minQuantity"] % step == 0
    ]
    quantity: int = rng.choice(choices)
    return quantity


def make_orders(
    rng: Random,
    offers: list[Json],
    accounts: list[Json],
    variants: list[Json],
    operation: Json,
    sized_on: dict[str, Json],
) -> list[Json]:
    account = {a["externalId"]: a for a in accounts}
    classification = {v["externalId"]: v["classification"] for v in variants}
    reserved = {"V-0001", "V-0002", *sized_on}

    def pool(
        account_id: str,
        suppliers: tuple[str, ...] = ACTIVE_SUPPLIERS,
        classes: tuple[str, ...] = (),
    ) -> list[Json]:
        return [
            o
            for o in offers
            if is_orderable(o, account[account_id])
            and o["variant"] not in reserved
            and o["supplier"] in suppliers
            and (not classes or classification[o["variant"]] in classes)
        ]

    def line(offer: Json, quantity: int | None = None, fields: Json | None = None) -> Json:
        reserved.add(offer["variant"])
        return {
            "offerPrice": offer["prices"][0]["externalId"],
            "quantity": order_quantity(rng, offer) if quantity is None else quantity,
            "customFields": fields or {},
        }

    def order(ext_id: str, account_id: str, user: str, lines: list[Json], **extra: Any) -> Json:
        return {
            "externalId": ext_id,
            # Fixed references so the README's curl examples work as printed.
            "reference": f"260-211-808958{ext_id[-1]}",
            "account": account_id,
            "user": user,
            "store": "STORE-EU",
            "storeView": "SV-FR",
            "checkoutType": extra.get("checkout", "ORDER_BASED"),
            "operation": extra.get("operation"),
            "isFull": False,
            "customFields": extra.get("fields", {}),
            "lines": lines,
            "placed": extra.get("placed", False),
        }

    restricted = [o for o in pool("ACC-BUILDCO", ("SUP-ACME",)) if not is_public(o["prices"][0])]
    acme = restricted[:1] + rng.sample(pool("ACC-BUILDCO", ("SUP-ACME",)), 3)
    acme = list({o["variant"]: o for o in acme}.values())[:3]
    demo1 = [
        line(acme[0], fields={"CF-LINE-NOTE": "Deliver to site gate 3"}),
        line(acme[1], fields={"CF-LINE-URGENT": True}),
        line(acme[2]),
    ]
    demo1 += [line(o) for o in rng.sample(pool("ACC-BUILDCO", ("SUP-BOLTEX",)), 2)]
    demo2 = [line(o) for o in rng.sample(pool("ACC-FACTORY"), 3)]
    spring = [sized_on[op_line["variant"]] for op_line in operation["lines"][:2]]
    demo3 = [
        line(o, op_line["recommendedQuantity"], {"CF-LINE-NOTE": "Spring campaign"})
        for o, op_line in zip(spring, operation["lines"][:2], strict=True)
    ]
    hospital = pool("ACC-HOSPITAL", ("SUP-SAFETY", "SUP-ACME"), ("CLS-GLOVES", "CLS-CLEANING"))
    demo4 = [line(o) for o in rng.sample(hospital, 2)]
    # fmt: off
    return [
        order("ORD-DEMO-1", "ACC-BUILDCO", "U-BUILDCO-1", demo1,
              fields={"CF-PO": "PO-2026-001", "CF-COST-CENTER": "CC-100",
                      "CF-DELIVERY-DATE": "2026-12-15"}),
        order("ORD-DEMO-2", "ACC-FACTORY", "U-FACTORY-1", demo2, placed=True,
              fields={"CF-PO": "PO-2026-002", "CF-COST-CENTER": "CC-200"}),
        order("ORD-DEMO-3", "ACC-BUILDCO", "U-BUILDCO-1", demo3, operation="OPN-SPRING",
              fields={"CF-PO": "PO-2026-003"}),
        order("ORD-DEMO-4", "ACC-HOSPITAL", "U-HOSPITAL-1", demo4, checkout="CART_BASED",
              fields={"CF-COST-CENTER": "CC-300"}),
    ]
    # fmt: on


def build_bundle(rng: Random) -> Json:
    accounts = make_accounts()
    variants, list_price, family = make_variants(rng)
    # V-0001 is the README's example: its other offers are priced around its ACME price.
    list_price["V-0001"] = Decimal("0.50")
    offers = make_offers(rng, variants, list_price, family)
    ids = [v["externalId"] for v in variants]
    pro = sorted({"V-0001", "V-0002", *rng.sample(ids[2:], 198)})
    uk = sorted({"V-0001", "V-0002", *rng.sample(ids[2:], 148)})
    operations, sized_on = make_operations(rng, offers)
    orders = make_orders(rng, offers, accounts, variants, operations[0], sized_on)
    # fmt: off
    return {
        "settings": {"pricingMode": "STANDARD", "pricingUrl": None, "cpqUrl": None,
                     "defaultStore": "STORE-EU", "currency": CURRENCY, "operationsEnabled": True},
        "stores": [{"externalId": "STORE-EU", "name": "Europe", "default": True},
                   {"externalId": "STORE-UK", "name": "United Kingdom", "default": False}],
        "catalogViews": [{"externalId": "CV-ALL", "allVariants": True},
                         {"externalId": "CV-PRO", "variants": pro},
                         {"externalId": "CV-UK", "variants": uk}],
        "storeViews": [
            {"externalId": "SV-FR", "name": "France", "store": "STORE-EU",
             "catalogViews": ["CV-ALL"]},
            {"externalId": "SV-DE", "name": "Germany (professional range)", "store": "STORE-EU",
             "catalogViews": ["CV-PRO"]},
            {"externalId": "SV-UK", "name": "United Kingdom", "store": "STORE-UK",
             "catalogViews": ["CV-UK"]},
        ],
        "suppliers": SUPPLIERS,
        "accounts": accounts,
        "users": make_users(),
        "variants": variants,
        "offers": offers,
        "operations": operations,
        "customFields": make_custom_fields(),
        "orders": orders,
    }
    # fmt: on


# --- validation --------------------------------------------------------------------------


def require(condition: bool, message: str) -> None:
    """An assertion that survives `python -O`."""
    if not condition:
        raise AssertionError(message)


def index(items: list[Json], kind: str) -> dict[str, Json]:
    result = {item["externalId"]: item for item in items}
    require(len(result) == len(items), f"duplicate {kind} externalId")
    return result


def instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def within(start: str | None, end: str | None) -> bool:
    low, high = instant(start), instant(end)
    return (low is None or low <= REFERENCE_NOW) and (high is None or high >= REFERENCE_NOW)


def check_price(price: Json, stock: int | None) -> None:
    pid, step = price["externalId"], price["quantityStep"]
    low, high = price["minOrderQuantity"], price["maxOrderQuantity"]
    require(step in (1, 5, 10, 12) and 1 <= low <= 20 and low % step == 0, f"{pid}: min/step")
    require(high is None or (100 <= high <= 10000 and high % step == 0), f"{pid}: max")
    require(price["currency"] == CURRENCY and price["taxRate"] in ("20", "10", "5.5"), pid)
    tiers = price["tiers"]
    require(1 <= len(tiers) <= 3 and tiers[0]["minQuantity"] in (1, low), f"{pid}: first tier")
    grosses = {Decimal(t["grossUnitPrice"]) for t in tiers}
    nets = [Decimal(t["netUnitPrice"]) for t in tiers]
    starts = [t["minQuantity"] for t in tiers]
    require(len(grosses) == 1 and max(nets) <= min(grosses), f"{pid}: gross")
    require(starts == sorted(set(starts)) and nets == sorted(set(nets), reverse=True), pid)
    require(min(nets) > 0 and (stock is None or stock >= 0), f"{pid}: net or stock")


def check_quantity(offer: Json, quantity: int) -> None:
    price = offer["prices"][0]
    high, stock = price["maxOrderQuantity"], offer["stock"]
    require(
        quantity >= price["minOrderQuantity"]
        and quantity % price["quantityStep"] == 0
        and (high is None or quantity <= high)
        and (stock is None or quantity <= stock),
        f"{price['externalId']}: quantity {quantity} is not orderable as is",
    )


def check_custom_fields(values: Json, fields: dict[str, Json], entity: str) -> None:
    for key, value in values.items():
        require(key in fields and fields[key]["entity"] == entity, f"custom field {key}")
        field = fields[key]
        kind = field["type"]
        if kind == "DATE":
            date.fromisoformat(value)  # raises on anything but YYYY-MM-DD
        valid = {
            "STRING": isinstance(value, str),
            "DATE": True,
            "BOOLEAN": isinstance(value, bool),
            "NUMBER": isinstance(value, int | float) and not isinstance(value, bool),
            "LIST": value in field["allowedValues"],
        }[kind]
        require(valid, f"custom field {key}: {value!r}")


def validate(bundle: Json) -> None:
    stores = index(bundle["stores"], "store")
    require([s for s in stores.values() if s["default"]] == [stores["STORE-EU"]], "default")
    require(bundle["settings"]["defaultStore"] in stores, "settings.defaultStore")
    variants = index(bundle["variants"], "variant")
    require(len(variants) == VARIANT_COUNT, "variant count")
    require(len({v["sku"] for v in variants.values()}) == VARIANT_COUNT, "duplicate sku")
    products: dict[str, int] = {}
    for variant in variants.values():
        products[variant["product"]] = products.get(variant["product"], 0) + 1
    require(all(2 <= n <= 3 for n in products.values()), "variants per product")
    views = index(bundle["catalogViews"], "catalog view")
    for view in views.values():
        require(view.get("allVariants") or set(view["variants"]) <= set(variants), "cv ref")
    store_views = index(bundle["storeViews"], "store view")
    for sv in store_views.values():
        require(sv["store"] in stores and set(sv["catalogViews"]) <= set(views), "sv ref")
    suppliers = index(bundle["suppliers"], "supplier")
    accounts = index(bundle["accounts"], "account")
    groups = {g for a in accounts.values() for g in a["groups"]}
    index([ad for a in accounts.values() for ad in a["shippingAddresses"]], "address")
    for account in accounts.values():
        require(set(account["stores"]) <= set(stores) and account["shippingAddresses"], "acc")
    users = index(bundle["users"], "user")
    for user in users.values():
        kind = user["clientType"]
        require(kind in ("ACCOUNT", "OPERATOR", "SUPPLIER"), "clientType")
        require(set(user.get("accounts", [])) <= set(accounts), "user accounts")
        require(set(user.get("stores", [])) <= set(stores), "user stores")
        require(kind != "SUPPLIER" or user["supplier"] in suppliers, "user supplier")
        require(kind != "ACCOUNT" or bool(user["accounts"] and user["stores"]), "user")
    require(len({u["apiKey"] for u in users.values()}) == len(users), "duplicate apiKey")
    offers = index(bundle["offers"], "offer")
    prices = index([p for o in offers.values() for p in o["prices"]], "offer price")
    offer_of = {o["prices"][0]["externalId"]: o for o in offers.values()}
    require(len({(o["variant"], o["supplier"]) for o in offers.values()}) == len(offers), "dup")
    for offer in offers.values():
        require(offer["supplier"] in suppliers and offer["variant"] in variants, "offer ref")
        require(len(offer["prices"]) == 1, "one price per offer")
        check_price(offer["prices"][0], offer["stock"])
    for price in prices.values():
        require(set(price["accounts"]) <= set(accounts), "price accounts")
        require(set(price["accountGroups"]) <= groups, "price groups")
    per_variant = {v: sum(o["variant"] == v for o in offers.values()) for v in variants}
    require(all(1 <= n <= 3 for n in per_variant.values()), "1 to 3 offers per variant")
    for operation in bundle["operations"]:
        require(set(operation["accounts"]) <= set(accounts), "operation accounts")
        for op_line in operation["lines"]:
            require(op_line["variant"] in variants, "operation variant")
            require(
                op_line["minQuantity"] <= op_line["recommendedQuantity"] <= op_line["maxQuantity"],
                f"{operation['externalId']}: bounds",
            )
    operations = index(bundle["operations"], "operation")
    for operation in operations.values():
        if operation["status"] == "ACTIVE":
            check_operation_sizing(operation, offers)
    ref = {
        "accounts": accounts,
        "users": users,
        "store_views": store_views,
        "views": views,
        "variants": variants,
        "operations": operations,
        "offer_of": offer_of,
        "suppliers": suppliers,
        "fields": index(bundle["customFields"], "custom field"),
    }
    orders = index(bundle["orders"], "order")
    for order in orders.values():
        check_order(order, ref)
    expected = {
        "ORD-DEMO-1": (5, 2),
        "ORD-DEMO-2": (3, None),
        "ORD-DEMO-3": (2, None),
        "ORD-DEMO-4": (2, None),
    }
    require(set(orders) == set(expected), "demo orders")
    for oid, (line_count, supplier_count) in expected.items():
        lines = orders[oid]["lines"]
        used = {offer_of[line["offerPrice"]]["supplier"] for line in lines}
        require(len(lines) == line_count, f"{oid}: line count")
        require(supplier_count is None or len(used) == supplier_count, f"{oid}: suppliers")


def check_operation_sizing(operation: Json, offers: dict[str, Json]) -> None:
    """Each line of a live operation fits an orderable offer of its variant, step included."""
    for op_line in operation["lines"]:
        fits = False
        for offer in offers.values():
            if offer["variant"] != op_line["variant"] or not is_orderable(offer):
                continue
            quantities = (
                op_line["minQuantity"],
                op_line["recommendedQuantity"],
                op_line["maxQuantity"],
            )
            try:
                for quantity in quantities:
                    check_quantity(offer, quantity)
                fits = True
            except AssertionError:
                continue
        require(fits, f"{operation['externalId']}: {op_line['variant']} fits no offer")


def check_order(order: Json, ref: dict[str, Any]) -> None:
    oid, account = order["externalId"], ref["accounts"][order["account"]]
    user, store_view = ref["users"][order["user"]], ref["store_views"][order["storeView"]]
    require(order["account"] in user["accounts"] and order["store"] in user["stores"], oid)
    require(order["store"] in account["stores"] and store_view["store"] == order["store"], oid)
    visible: set[str] = set()
    for cv_id in store_view["catalogViews"]:
        view = ref["views"][cv_id]
        visible |= set(ref["variants"]) if view.get("allVariants") else set(view["variants"])
    operation = ref["operations"].get(order["operation"]) if order["operation"] else None
    require(order["operation"] is None or operation is not None, f"{oid}: operation")
    check_custom_fields(order["customFields"], ref["fields"], "ORDER")
    op_lines = {ln["variant"]: ln for ln in operation["lines"]} if operation else {}
    if operation:
        require(
            operation["status"] == "ACTIVE"
            and operation["type"] == "PUBLIC"
            and within(operation["startDate"], operation["endDate"]),
            f"{oid}: op",
        )
    require(len({ln["offerPrice"] for ln in order["lines"]}) == len(order["lines"]), oid)
    for line in order["lines"]:
        offer = ref["offer_of"][line["offerPrice"]]
        price = offer["prices"][0]
        require(offer["variant"] in visible, f"{oid}: variant not visible")
        require(is_orderable(offer, account), f"{oid}: {line['offerPrice']} not orderable")
        require(ref["suppliers"][offer["supplier"]]["status"] == "ACTIVE", oid)
        require(within(price["validFrom"], price["validTo"]), f"{oid}: price dates")
        check_quantity(offer, line["quantity"])
        check_custom_fields(line["customFields"], ref["fields"], "ORDER_LINE")
        op_line = op_lines.get(offer["variant"])
        if operation:
            require(op_line is not None, f"{oid}: line outside its operation")
        if op_line:
            require(op_line["minQuantity"] <= line["quantity"] <= op_line["maxQuantity"], oid)


def summary(bundle: Json, path: Path) -> str:
    offers = bundle["offers"]
    old = sum(o["supplier"] == "SUP-OLD" for o in offers)
    restricted = sum(not is_public(o["prices"][0]) for o in offers)
    dated = sum(
        o["prices"][0]["validTo"] is not None or o["prices"][0]["validFrom"] is not None
        for o in offers
    )
    keys = ("stores", "catalogViews", "storeViews", "suppliers", "accounts", "users", "variants")
    counts = ", ".join(f"{len(bundle[key])} {key}" for key in keys)
    return (
        f"demo bundle: {counts}, {len(offers)} offers ({old} on SUP-OLD, "
        f"{restricted} restricted, {dated} dated), {len(bundle['operations'])} operations, "
        f"{len(bundle['customFields'])} customFields, {len(bundle['orders'])} orders "
        f"-> {path}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "output",
        nargs="?",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where to write the bundle (default: {DEFAULT_OUTPUT})",
    )
    output: Path = parser.parse_args().output
    bundle = build_bundle(Random(SEED))
    validate(bundle)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(bundle, indent=1) + "\n", encoding="utf-8")
    print(summary(bundle, output))


if __name__ == "__main__":
    main()
