"""The warnings a write answers are built as plain JSON (api/answers.py), not through the
pydantic model the OpenAPI document shows: both must say the same."""

from __future__ import annotations

import orjson
from pydantic import TypeAdapter

from ordersync.api.answers import warnings_answer
from ordersync.api.schemas.shop import WarningOut
from ordersync.domain.warnings import OrderWarning, WarningCode


def test_the_warnings_answer_is_the_documented_model_and_carries_the_version() -> None:
    warnings = [
        OrderWarning("OP-1", WarningCode.PRICE_CHANGED, "Net unit price 1.50 -> 1.75."),
        OrderWarning("OP-2", WarningCode.OUT_OF_STOCK, "No stock.", blocked=True),
    ]
    response = warnings_answer(warnings, 7)
    body = orjson.loads(response.body)
    documented = [WarningOut.of(w).model_dump(by_alias=True) for w in warnings]
    assert body == documented
    parsed = TypeAdapter(list[WarningOut]).validate_python(body)
    assert [w.model_dump(by_alias=True) for w in parsed] == body
    assert response.headers["ETag"] == '"7"'
    assert response.media_type == "application/json"
