"""Control characters a client puts in a URL or a header never reach a log raw (issue 9,
finding 10): every string value is escaped as `\\xNN` before any renderer sees it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from ordersync.log_config import configure_logging, escape_control_characters


def escaped(**event: Any) -> dict[str, Any]:
    return dict(escape_control_characters(None, "info", event))


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x00", "\\x00"),  # NUL
        ("\x07", "\\x07"),  # BEL
        ("\x1b[31m", "\\x1b[31m"),  # ESC: the start of a colour sequence
        ("a\nb\rc\td", "a\\x0ab\\x0dc\\x09d"),  # no forged log lines
        ("\x7f", "\\x7f"),  # DEL
        ("\x80", "\\x80"),  # C1, first
        ("\x9b2J", "\\x9b2J"),  # C1 CSI: clears the screen on some terminals
        ("\x9f", "\\x9f"),  # C1, last
    ],
)
def test_control_characters_in_string_values_are_escaped(raw: str, shown: str) -> None:
    assert escaped(path=f"/v1/{raw}") == {"path": f"/v1/{shown}"}


def test_printable_text_and_other_values_are_left_alone() -> None:
    event = {"path": "/v1/commandes/été ½ €", "status": 200, "ms": 1.5, "tags": ["\x1b"]}
    assert escaped(**event) == event


def test_the_event_itself_is_escaped() -> None:
    assert escaped(event="request \x1b[2J") == {"event": "request \\x1b[2J"}


def test_the_rendered_exception_is_left_alone() -> None:
    traceback = "Traceback (most recent call last):\n  File ...\nValueError: x\n"
    assert escaped(exception=traceback, path="\n") == {"exception": traceback, "path": "\\x0a"}


@pytest.fixture
def console_logging() -> Iterator[None]:
    """The console renderer, as `ordersync serve` configures it, for one test."""
    saved = structlog.get_config()
    configure_logging(json=False, level="INFO")
    yield
    structlog.configure(**saved)


def test_the_console_renderer_prints_an_escape_character_as_backslash_x1b(
    console_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    structlog.get_logger("test").info("request", path="/v1/shop/commercial-orders/\x1b[31mX\x07")
    printed = capsys.readouterr().out
    assert "path=/v1/shop/commercial-orders/\\x1b[31mX\\x07" in printed
    # Not even the renderer's own colours: the output is not a terminal.
    assert "\x1b" not in printed
    assert "\x07" not in printed


def test_the_json_renderer_prints_an_escape_character_as_backslash_x1b(
    capsys: pytest.CaptureFixture[str],
) -> None:
    saved = structlog.get_config()
    configure_logging(json=True, level="INFO")
    try:
        structlog.get_logger("test").info("request", path="/\x1b")
    finally:
        structlog.configure(**saved)
    printed = capsys.readouterr().out
    assert '"path": "/\\\\x1b"' in printed
    assert "\x1b" not in printed
