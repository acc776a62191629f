"""Checking custom-field values against their definitions."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from ordersync.domain.catalog import CustomField, CustomFieldEntity, CustomFieldType
from ordersync.domain.errors import ErrorCode, FieldError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# How a yes/no is written in a CSV cell (case-insensitive): custom fields and the import's
# deletion flag read the same words.
BOOLEAN_WORDS: dict[str, bool] = {
    "true": True,
    "yes": True,
    "1": True,
    "false": False,
    "no": False,
    "0": False,
}


def value_problem(definition: CustomField, value: Any) -> str | None:
    """Why `value` does not fit the definition, or None. Null clears a field."""
    if value is None:
        return None
    kind = definition.type
    if kind is CustomFieldType.BOOLEAN:
        return None if isinstance(value, bool) else "expects a boolean"
    if kind is CustomFieldType.NUMBER:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and not math.isfinite(value):
            return "expects a finite number"
        return None if ok else "expects a number"
    if not isinstance(value, str):
        return "expects a string"
    if kind is CustomFieldType.DATE:
        try:
            if not _ISO_DATE.fullmatch(value):
                raise ValueError(value)
            date.fromisoformat(value)
        except ValueError:
            return "expects a date as YYYY-MM-DD"
    if (kind is CustomFieldType.LIST or definition.allowed_values) and (
        value not in definition.allowed_values
    ):
        return f"allows only {', '.join(definition.allowed_values)}"
    return None


def custom_field_from_text(definition: CustomField, text: str) -> tuple[Any, str | None]:
    """The typed value of a custom field written as text (a CSV cell) and None, or None and
    why it does not fit: NUMBER as an int or a float written with a dot, BOOLEAN as one of
    BOOLEAN_WORDS, DATE as YYYY-MM-DD, STRING and LIST as the text itself."""
    kind = definition.type
    value: Any = text
    if kind is CustomFieldType.NUMBER:
        try:
            if _INTEGER.fullmatch(text):
                value = int(text)
            elif _NUMBER.fullmatch(text):
                value = float(text)
            else:
                return None, "expects a number (with a dot for decimals)"
        except ValueError:  # more digits than Python converts
            return None, "expects a number of reasonable size"
    elif kind is CustomFieldType.BOOLEAN:
        value = BOOLEAN_WORDS.get(text.lower())
        if value is None:
            return None, "expects true or false"
    problem = value_problem(definition, value)
    return (None, problem) if problem else (value, None)


def check_values(
    values: Mapping[str, Any],
    definitions: Mapping[str, CustomField],
    entity: CustomFieldEntity,
    field_prefix: str,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Values keyed by the identifier the client used, checked against the definitions keyed
    the same way; returns them keyed by the field's external id, and the problems found."""
    checked: dict[str, Any] = {}
    problems: list[FieldError] = []
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None or definition.entity is not entity:
            problems.append(
                FieldError(
                    ErrorCode.CUSTOM_FIELD_UNKNOWN,
                    f"{field_prefix}.{key}",
                    f"Unknown {entity.value} custom field {key!r}.",
                )
            )
            continue
        problem = value_problem(definition, value)
        if problem:
            problems.append(
                FieldError(
                    ErrorCode.CUSTOM_FIELD_INVALID,
                    f"{field_prefix}.{key}",
                    f"Custom field {key!r} {problem}.",
                )
            )
            continue
        checked[definition.external_id] = value
    return checked, problems


def missing_required(
    values: Mapping[str, Any], definitions: Mapping[str, CustomField], entity: CustomFieldEntity
) -> list[str]:
    """External ids of required fields of `entity` with no value (values keyed by external id)."""
    return sorted(
        d.external_id
        for d in definitions.values()
        if d.entity is entity and d.required and values.get(d.external_id) is None
    )


def stored_value_problems(
    values: Mapping[str, Any], definitions: Mapping[str, CustomField], entity: CustomFieldEntity
) -> list[tuple[str, str]]:
    """(field, problem) for each stored value (keyed by external id) that no longer fits its
    definition, or whose definition is gone or now belongs to the other entity."""
    problems = []
    for key, value in values.items():
        definition = definitions.get(key)
        problem = (
            "is no longer defined"
            if definition is None or definition.entity is not entity
            else value_problem(definition, value)
        )
        if problem:
            problems.append((key, problem))
    return problems
