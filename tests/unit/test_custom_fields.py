"""Custom-field values checked against their definitions."""

from __future__ import annotations

from typing import Any

import pytest

from ordersync.domain.catalog import CustomFieldEntity, CustomFieldType
from ordersync.domain.errors import ErrorCode
from ordersync.rules.custom_fields import check_values, missing_required, value_problem
from tests.unit.factories import custom_field

T = CustomFieldType
LINE = CustomFieldEntity.ORDER_LINE
ORDER = CustomFieldEntity.ORDER


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (T.BOOLEAN, True),
        (T.BOOLEAN, False),
        (T.NUMBER, 3),
        (T.NUMBER, 2.5),
        (T.NUMBER, 0),
        (T.STRING, "free text"),
        (T.STRING, ""),
        (T.DATE, "2025-06-01"),
        (T.DATE, "2024-02-29"),
        (T.BOOLEAN, None),
        (T.DATE, None),
    ],
)
def test_a_value_of_the_right_type_is_accepted(kind: CustomFieldType, value: Any) -> None:
    assert value_problem(custom_field(type=kind), value) is None


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (T.BOOLEAN, "true"),
        (T.BOOLEAN, 1),
        (T.NUMBER, True),
        (T.NUMBER, False),
        (T.NUMBER, "3"),
        (T.STRING, 3),
        (T.STRING, ["a"]),
        (T.DATE, "01/06/2025"),
        (T.DATE, "2025-02-30"),
        (T.DATE, "tomorrow"),
        (T.DATE, 20250601),
        (T.LIST, 1),
    ],
)
def test_a_value_of_the_wrong_type_is_a_problem(kind: CustomFieldType, value: Any) -> None:
    assert value_problem(custom_field(type=kind), value) is not None


def test_a_boolean_is_not_a_number() -> None:
    assert value_problem(custom_field(type=T.NUMBER), True) == "expects a number"


def test_a_date_must_be_year_month_day() -> None:
    assert value_problem(custom_field(type=T.DATE), "06/01/2025") == "expects a date as YYYY-MM-DD"


def test_a_list_accepts_only_its_allowed_values() -> None:
    colours = custom_field(type=T.LIST, allowed_values=("RED", "BLUE"))

    assert value_problem(colours, "RED") is None
    assert value_problem(colours, "GREEN") == "allows only RED, BLUE"
    assert value_problem(colours, "red") is not None


def test_a_string_with_allowed_values_accepts_only_those() -> None:
    grade = custom_field(type=T.STRING, allowed_values=("A", "B"))

    assert value_problem(grade, "A") is None
    assert value_problem(grade, "C") == "allows only A, B"


def test_null_clears_any_field() -> None:
    assert value_problem(custom_field(type=T.LIST, allowed_values=("X",)), None) is None


def definitions() -> dict[str, Any]:
    return {
        "CF-NOTE": custom_field("CF-NOTE", entity=LINE, type=T.STRING),
        "CF-QTY": custom_field("CF-QTY", entity=LINE, type=T.NUMBER),
        "CF-PO": custom_field("CF-PO", entity=ORDER, type=T.STRING, required=True),
    }


def test_check_values_returns_valid_values_keyed_by_external_id() -> None:
    checked, problems = check_values(
        {"CF-NOTE": "fragile", "CF-QTY": 4}, definitions(), LINE, "cf"
    )

    assert problems == []
    assert checked == {"CF-NOTE": "fragile", "CF-QTY": 4}


def test_check_values_keys_the_result_by_external_id_whatever_key_the_client_used() -> None:
    note = custom_field("CF-NOTE", id=41, entity=LINE)

    checked, problems = check_values({"41": "fragile"}, {"41": note}, LINE, "cf")

    assert problems == []
    assert checked == {"CF-NOTE": "fragile"}


def test_check_values_reports_an_unknown_field() -> None:
    checked, problems = check_values({"CF-NOPE": "x"}, definitions(), LINE, "lines[0].cf")

    assert checked == {}
    assert [(p.code, p.field) for p in problems] == [
        (ErrorCode.CUSTOM_FIELD_UNKNOWN, "lines[0].cf.CF-NOPE")
    ]


def test_check_values_reports_a_field_of_the_other_entity_as_unknown() -> None:
    checked, problems = check_values({"CF-PO": "PO-1"}, definitions(), LINE, "cf")

    assert checked == {}
    assert [p.code for p in problems] == [ErrorCode.CUSTOM_FIELD_UNKNOWN]


def test_check_values_reports_an_invalid_value_and_keeps_the_valid_ones() -> None:
    checked, problems = check_values(
        {"CF-NOTE": "ok", "CF-QTY": "four"}, definitions(), LINE, "cf"
    )

    assert checked == {"CF-NOTE": "ok"}
    assert [(p.code, p.field) for p in problems] == [(ErrorCode.CUSTOM_FIELD_INVALID, "cf.CF-QTY")]
    assert "expects a number" in problems[0].message


def test_missing_required_lists_required_fields_of_the_entity_with_no_value() -> None:
    defs = {
        **definitions(),
        "CF-A": custom_field("CF-A", entity=ORDER, required=True),
        "CF-L": custom_field("CF-L", entity=LINE, required=True),
    }

    assert missing_required({}, defs, ORDER) == ["CF-A", "CF-PO"]
    assert missing_required({"CF-PO": "PO-1", "CF-A": None}, defs, ORDER) == ["CF-A"]
    assert missing_required({"CF-PO": "PO-1", "CF-A": "x"}, defs, ORDER) == []
    assert missing_required({}, defs, LINE) == ["CF-L"]
