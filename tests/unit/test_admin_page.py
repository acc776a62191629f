"""The operator page's pure parts: session cookies, CSRF tokens, history rows, escaping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ordersync.api.admin.history_view import history_row
from ordersync.api.admin.pages import TEMPLATES
from ordersync.api.admin.session import (
    csrf_token,
    decode_key,
    encode_key,
    same_token,
    session_binding,
    sign_in_binding,
)
from ordersync.domain.history import Actor, Entity, HistoryEntry, Source

AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("key", ["demo-key-operator", 'a; b="c"\\ é', "x" * 200])
def test_a_key_survives_the_cookie_whatever_its_characters(key: str) -> None:
    value = encode_key(key)
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
    assert decode_key(value) == key


@pytest.mark.parametrize("value", [None, "", "***", "////", "gA=="])
def test_a_cookie_this_page_did_not_write_is_no_session(value: str | None) -> None:
    assert decode_key(value) is None


def test_a_token_depends_on_the_secret_the_key_and_what_it_binds() -> None:
    token = csrf_token(b"secret", session_binding("key-a"))

    assert token == csrf_token(b"secret", session_binding("key-a"))  # any process, any time
    assert token != csrf_token(b"other", session_binding("key-a"))
    assert token != csrf_token(b"secret", session_binding("key-b"))
    assert token != csrf_token(b"secret", sign_in_binding("key-a"))
    assert same_token(token, token)
    assert not same_token(token, token.upper())
    assert not same_token(None, token)
    assert not same_token(token, None)


def test_a_history_entry_of_the_domain_reads_as_a_row() -> None:
    entry = HistoryEntry(
        order_id=1,
        at=AT,
        actor=Actor("OPS-1", "OPERATOR", "req-1"),
        source=Source.IMPORT,
        version_before=2,
        version_after=3,
        changes=((Entity.LINE, 13, "quantity", 5, 12),),
        job_id="job-1",
        line_number=2,
    )

    row = history_row(entry)

    assert (row.source, row.actor, row.client_type, row.request_id) == (
        "IMPORT",
        "OPS-1",
        "OPERATOR",
        "req-1",
    )
    assert (row.job_id, row.line_number, row.version_before, row.version_after) == (
        "job-1",
        2,
        2,
        3,
    )
    assert [(c.entity, c.id, c.field, c.before, c.after) for c in row.changes] == [
        ("LINE", 13, "quantity", 5, 12)
    ]


def test_every_template_escapes_what_it_is_given() -> None:
    html = TEMPLATES.from_string("<td>{{ name }}</td><td>{{ value|shown }}</td>").render(
        name="<script>alert(1)</script>", value={"a": "<b>"}
    )
    assert html == (
        "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>{&#34;a&#34;: &#34;&lt;b&gt;&#34;}</td>"
    )
