"""The committed JSON Schema of the data bundle is the one the code validates with."""

from __future__ import annotations

import json
from pathlib import Path

from ordersync.domain.bundle import DataBundle

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "data-bundle.schema.json"


def test_documented_bundle_schema_is_current() -> None:
    documented = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert documented == DataBundle.model_json_schema(by_alias=True, mode="validation"), (
        "regenerate it: ordersync bundle-schema > docs/data-bundle.schema.json"
    )
