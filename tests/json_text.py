"""Hypothesis strategies for JSON documents as a hostile client writes them: as text, so they
can hold what Python's json module would never produce or would refuse — lone surrogates
(escaped as `\\udXXX`, or raw, which makes the bytes invalid UTF-8), NaN and Infinity, numbers
past a double, deep nesting, invalid syntax.

Every strategy here yields a JSON text fragment (a `str`); `document()` turns one into the
bytes of a body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TypeVar

from hypothesis import strategies as st

T = TypeVar("T")
Fragment = st.SearchStrategy[str]

NASTY_TEXT = (
    "",
    " ",
    "\x00",
    "PO-\x00",
    "\udc80",
    "PO-\udc80",
    "\ud800",
    "\udbff\udfff",  # a valid pair when escaped, invalid UTF-8 when raw
    "\x1b[31m",
    "\x07",
    "\x7f\x85\x9b",
    "\u2028\u2029",
    "\ufeff",
    "\ufffe\uffff",
    "\u0661\u00b2",  # digits that are not ASCII
    "é€😀\U0010ffff",
    "\\",
    '"',
    "x" * 129,
    "x" * 600,
)
NASTY_NUMBERS = (
    "NaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "1e309",
    "-1e400",
    "1e-400",
    "1E+2",
    "-0",
    "-0.0",
    "0.1",
    "0.00001",
    "1.00005",
    "99999999999999.99999",
    "1000000000",
    "1000000001",
    "2147483647",
    "2147483648",
    "9223372036854775808",
    "123456789012345678901234567890",
    "1.0000000000000000000000001",
    "01",  # not JSON: leading zero
    "+1",
    ".5",
    "5.",
)


def weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """One of the strategies, each as often as its weight says (`one_of` draws its branches
    evenly, however often one is listed)."""
    slots = [i for i, (weight, _) in enumerate(choices) for _ in range(weight)]
    return st.sampled_from(slots).flatmap(lambda i: choices[i][1])


def clean_text(max_size: int = 16) -> st.SearchStrategy[str]:
    """Text that may be stored: any Unicode scalar value but NUL (control characters,
    RTL marks, emoji and all)."""
    return st.text(
        st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=max_size
    )


def text_values() -> st.SearchStrategy[str]:
    """Any text: mostly storable, else the nasty cases above or arbitrary code points
    including surrogates."""
    return weighted(
        (20, clean_text()),
        (2, st.sampled_from(NASTY_TEXT)),
        (1, st.text(st.characters(exclude_categories=()), max_size=16)),
    )


def string(values: st.SearchStrategy[str] | None = None) -> Fragment:
    """A JSON string literal; non-ASCII escaped (`\\uXXXX`) or written raw, either way."""
    return st.builds(
        lambda text, ascii_only: json.dumps(text, ensure_ascii=ascii_only),
        values if values is not None else text_values(),
        weighted((3, st.just(True)), (1, st.just(False))),
    )


def literal(*values: object) -> Fragment:
    """One of these Python values, as JSON."""
    return st.sampled_from([json.dumps(v) for v in values])


def number() -> Fragment:
    return weighted(
        (4, st.integers(-100, 1000).map(str)),
        (1, st.sampled_from(NASTY_NUMBERS)),
        (1, st.integers().map(str)),
        (1, st.floats(allow_nan=False, allow_infinity=False).map(repr)),
        (1, st.decimals(allow_nan=False, allow_infinity=False).map(str)),
    )


def scalar() -> Fragment:
    return st.one_of(string(), number(), st.sampled_from(["true", "false", "null"]))


def array(items: Fragment, max_size: int = 4, min_size: int = 0) -> Fragment:
    return st.lists(items, min_size=min_size, max_size=max_size).map(
        lambda xs: "[" + ",".join(xs) + "]"
    )


def any_value(max_leaves: int = 12) -> Fragment:
    """Any JSON value, nested a few levels (and the odd value that is not JSON)."""
    return st.recursive(
        scalar(),
        lambda children: st.one_of(
            array(children),
            st.lists(st.tuples(string(), children), max_size=4).map(_object),
        ),
        max_leaves=max_leaves,
    )


def deep(depth: st.SearchStrategy[int] | None = None) -> Fragment:
    """Arrays or objects nested past any sensible depth."""
    return st.builds(
        lambda n, use_object: ('{"a":' * n + "1" + "}" * n) if use_object else "[" * n + "]" * n,
        depth if depth is not None else st.integers(30, 200),
        st.booleans(),
    )


def shaped(
    required: Mapping[str, Fragment], optional: Mapping[str, Fragment] | None = None
) -> Fragment:
    """A JSON object with these keys (the optional ones present or not), and at times a key
    the API does not know."""
    extra = {"x-unknown": any_value(4)}
    return st.fixed_dictionaries(dict(required), optional={**(optional or {}), **extra}).map(
        lambda fields: _object([(json.dumps(k), v) for k, v in fields.items()])
    )


def either(plausible: Fragment) -> Fragment:
    """Mostly a plausible value for a field (so that most bodies get past validation to the
    rules and the database); at times anything at all."""
    return weighted((6, plausible), (1, any_value(6)))


def document(root: Fragment) -> st.SearchStrategy[bytes]:
    """A body: the JSON text (with raw lone surrogates written as the bytes they would have
    been), now and then cut short, padded or replaced by arbitrary bytes."""
    return weighted(
        (20, root.map(_encode)),
        (1, root.map(lambda text: _encode(text) + b" \n")),
        (1, st.tuples(root, st.integers(0, 40)).map(lambda t: _encode(t[0])[: t[1]])),
        (1, root.map(lambda text: b"\xef\xbb\xbf" + _encode(text))),
        (1, root.map(lambda text: _encode(text) + b"{}")),
        (1, deep().map(_encode)),
        (1, st.binary(max_size=40)),
    )


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")
