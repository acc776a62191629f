"""Structured logging: JSON lines in production, readable lines in a terminal."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# C0 controls, DEL and C1 controls: a client can put them in a URL or a header, and raw in a
# terminal they move the cursor, ring the bell or rewrite earlier lines.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}
# Renderer output a processor must not touch: the traceback's newlines are ours.
_TRUSTED_KEYS = frozenset({"exception", "exc_info", "stack"})


def escape_control_characters(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Every string value (and the event itself) with control characters written as
    `\\xNN`, for every renderer."""
    for key, value in event_dict.items():
        if isinstance(value, str) and key not in _TRUSTED_KEYS:
            event_dict[key] = value.translate(_CONTROLS)
    return event_dict


def configure_logging(json: bool, level: str = "INFO") -> None:
    # Colours only on a terminal: in a file or a pipe the renderer's own escape sequences
    # would be control characters in the log as much as a client's.
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            escape_control_characters,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        cache_logger_on_first_use=True,
    )
