"""The spreadsheet escape of CSV cells (SPEC §4): formula neutralising on the way out, its
undoing on the way in, so that export -> edit -> import round-trips.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (CSV
injection); a leading tab or carriage return is the known way round a filter that only
looks at those four. Cells we write that start with any of them get a leading `'`, which a
spreadsheet shows as text and keeps; an imported cell that starts with `'` followed by one of
them loses the `'`.

The one value that does not round-trip is a text that itself starts with `'` followed by one
of those characters (`'=A1` written by hand, meant literally): it is written unchanged and
read back without its `'`. Escaping it twice would make every hand-typed `'=` cell in an
imported file ambiguous, and such values do not occur in order data.
"""

from __future__ import annotations

_TRIGGERS = frozenset("=+-@\t\r")
ESCAPE = "'"


def neutralise_cell(text: str) -> str:
    """`text` as a spreadsheet must receive it: prefixed with `'` when it would start a
    formula (`=`, `+`, `-`, `@`, tab or carriage return first)."""
    if text and text[0] in _TRIGGERS:
        return ESCAPE + text
    return text


def unescape_cell(text: str) -> str:
    """`text` as it was before `neutralise_cell`: a leading `'` before `=`, `+`, `-`, `@`,
    tab or carriage return is dropped; anything else is returned unchanged."""
    if len(text) > 1 and text[0] == ESCAPE and text[1] in _TRIGGERS:
        return text[1:]
    return text
