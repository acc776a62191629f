"""What counts as acceptable text and numbers, wherever they enter (SPEC §2).

Text must be valid Unicode scalar values with no NUL: a lone UTF-16 surrogate cannot be
encoded as UTF-8 (so it could be stored but never answered again), and PostgreSQL text cannot
hold NUL. Numbers must be finite. JSON bodies, bundles, headers, query strings and CSV cells
are all checked here, so the rule lives in one place.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import orjson

_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_JSON_DEPTH = 64  # bodies and bundles nest a handful of levels; deeper is not ours


@dataclass(frozen=True)
class TextProblem:
    """Where (a JSON path like `lines[3].customFields.CF-PO`, or a header name) and why."""

    where: str
    problem: str
    not_finite: bool = False  # a number rather than text


class InvalidJson(ValueError):
    """The bytes are not a JSON document (or not UTF-8)."""


class InvalidText(ValueError):
    def __init__(self, problem: TextProblem) -> None:
        super().__init__(f"{problem.where}: {problem.problem}")
        self.problem = problem


def text_problem(value: str) -> str | None:
    """Why `value` is not acceptable text, or None."""
    if "\x00" in value:
        return "contains a NUL character"
    if _SURROGATE.search(value):
        return "is not valid Unicode (a lone surrogate)"
    return None


def bytes_problem(raw: bytes) -> str | None:
    """Why raw bytes (a header, a URL, a CSV cell) are not acceptable UTF-8 text, or None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "is not valid UTF-8"
    return text_problem(text)


def first_value_problem(value: Any, where: str = "") -> TextProblem | None:
    """The first unacceptable string, key or number in a parsed JSON value, or None."""
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return TextProblem(path or "body", problem)
        elif isinstance(item, float):
            if not math.isfinite(item):
                return TextProblem(path or "body", "is not a finite number", not_finite=True)
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return TextProblem(path or "body", f"nests deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    problem = text_problem(key)
                    if problem:
                        return TextProblem(f"{path}.{key!r}" if path else repr(key), problem)
                    stack.append((child, f"{path}.{key}" if path else key, depth + 1))
            else:
                stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
    return None


def parse_json(data: bytes | str) -> Any:
    """A JSON document as Python values. orjson refuses what the standard library lets
    through (NaN, Infinity, numbers that overflow a double, lone surrogates, invalid UTF-8);
    NUL characters and excessive nesting are refused here. Raises InvalidJson or
    InvalidText."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        # orjson names these causes in its message; they are text and number problems,
        # not syntax ones, and are reported as such.
        message = str(exc)
        if "surrogate in string" in message:
            problem = TextProblem("body", "is not valid Unicode (a lone surrogate)")
            raise InvalidText(problem) from None
        if "infinity" in message.lower():
            problem = TextProblem("body", "is not a finite number", not_finite=True)
            raise InvalidText(problem) from None
        raise InvalidJson(message) from None
    found = first_value_problem(value)
    if found is not None:
        raise InvalidText(found)
    return value
