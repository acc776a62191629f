"""Helpers of the operator page's tests: signing in, the forms' tokens, uploads."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.bundle import KEY_OPS

_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def token_in(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "the page has no form token"
    return match.group(1)


def sign_in(page: TestClient, key: str = KEY_OPS) -> Any:
    """Open the sign-in form and send it with `key`; the answer, not followed."""
    form = page.get("/admin/sign-in")
    assert form.status_code == 200, form.text
    return page.post(
        "/admin/sign-in",
        data={"csrf_token": token_in(form.text), "api_key": key},
        follow_redirects=False,
    )


def signed_in(page: TestClient, key: str = KEY_OPS) -> str:
    """Sign in; the token of the session's forms."""
    answer = sign_in(page, key)
    assert answer.status_code == 303, answer.text
    dashboard = page.get("/admin")
    assert dashboard.status_code == 200, dashboard.text
    return token_in(dashboard.text)


def upload(
    page: TestClient,
    token: str,
    data: bytes,
    *,
    dry_run: bool = False,
    file_name: str = "orders.csv",
) -> Any:
    form = {"csrf_token": token} | ({"dry_run": "on"} if dry_run else {})
    return page.post(
        "/admin/imports",
        data=form,
        files={"file": (file_name, data, "text/csv")},
        follow_redirects=False,
    )
