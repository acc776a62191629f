"""Signing in and out of the operator page, and the CSRF tokens of its forms."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ordersync.api.admin.session import SESSION_COOKIE, encode_key
from ordersync.api.app import create_app
from ordersync.settings import Settings
from tests.bundle import KEY_1, KEY_OPS, KEY_SUPPLIER
from tests.integration.admin.pages import sign_in, signed_in, token_in, upload


def _cookie(answer: object, name: str) -> dict[str, str]:
    """The attributes of the Set-Cookie `name` in an answer, lower-cased names."""
    for header in answer.headers.get_list("set-cookie"):  # type: ignore[attr-defined]
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            morsel = jar[name]
            attributes = {k: str(v) for k, v in morsel.items() if v}
            return {"value": morsel.value, **attributes}
    raise AssertionError(f"no Set-Cookie {name} in {answer.headers}")  # type: ignore[attr-defined]


def test_a_visitor_without_a_session_is_sent_to_sign_in(page: TestClient) -> None:
    for path in ("/admin", "/admin/jobs/x", "/admin/orders/260-211-8089581", "/admin/export.csv"):
        answer = page.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/admin/sign-in?reason=required"
    form = page.get("/admin/sign-in?reason=required")
    assert "Sign in with an OPERATOR API key" in form.text


def test_signing_in_keeps_the_key_in_a_secure_httponly_strict_cookie_under_admin(
    page: TestClient,
) -> None:
    answer = sign_in(page)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin"
    cookie = _cookie(answer, SESSION_COOKIE)
    assert cookie["value"] == encode_key(KEY_OPS)
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/admin"
    dashboard = page.get("/admin")
    assert dashboard.status_code == 200
    assert "Signed in as <strong>U-OPS</strong>" in dashboard.text
    assert dashboard.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in dashboard.headers["content-security-policy"]


@pytest.mark.parametrize("key", [KEY_1, KEY_SUPPLIER, "no-such-key"])
def test_a_key_that_is_not_an_operator_key_is_sent_back_to_sign_in(
    page: TestClient, key: str
) -> None:
    answer = sign_in(page, key)

    assert answer.status_code == 401
    assert "This key is not an OPERATOR API key" in answer.text
    assert f"{SESSION_COOKIE}=" not in answer.headers.get("set-cookie", "")
    assert page.get("/admin", follow_redirects=False).status_code == 303


def test_a_session_whose_key_is_no_longer_accepted_ends_with_a_message(
    page: TestClient,
) -> None:
    page.cookies.set(SESSION_COOKIE, encode_key("revoked-key"), path="/admin")

    answer = page.get("/admin", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/sign-in?reason=refused"
    assert _cookie(answer, SESSION_COOKIE)["max-age"] == "0"
    assert "no longer accepted" in page.get(answer.headers["location"]).text


def test_signing_out_clears_the_cookie(page: TestClient) -> None:
    token = signed_in(page)

    answer = page.post("/admin/sign-out", data={"csrf_token": token}, follow_redirects=False)

    assert answer.status_code == 303
    assert _cookie(answer, SESSION_COOKIE)["max-age"] == "0"
    assert page.get("/admin", follow_redirects=False).status_code == 303


def test_a_post_without_its_token_is_refused_with_a_403_page(page: TestClient) -> None:
    token = signed_in(page)
    jobs_before = page.get("/admin").text.count("/admin/jobs/")

    for sent in (None, "0" * 64, token[:-1] + ("0" if token[-1] != "0" else "1")):
        data = {} if sent is None else {"csrf_token": sent}
        refused = page.post(
            "/admin/imports", data=data, files={"file": ("a.csv", b"Order Reference\r\n")}
        )
        assert refused.status_code == 403
        assert "text/html" in refused.headers["content-type"]
        assert "Form expired or forged" in refused.text
        assert page.post("/admin/sign-out", data=data).status_code == 403

    assert page.get("/admin").text.count("/admin/jobs/") == jobs_before
    assert page.get("/admin", follow_redirects=False).status_code == 200  # still signed in


def test_the_sign_in_form_needs_the_token_bound_to_its_own_cookie(page: TestClient) -> None:
    token = token_in(page.get("/admin/sign-in").text)
    page.cookies.clear()  # another browser, which never loaded the form

    answer = page.post(
        "/admin/sign-in", data={"csrf_token": token, "api_key": KEY_OPS}, follow_redirects=False
    )

    assert answer.status_code == 403
    assert f"{SESSION_COOKIE}=" not in answer.headers.get("set-cookie", "")


@pytest.fixture
def two_processes(database_url: str) -> Iterator[tuple[FastAPI, FastAPI, FastAPI]]:
    """Two server processes of one deployment (one secret) and one of another."""
    apps = (
        create_app(Settings(database_url=database_url, admin_secret="deployment-a")),
        create_app(Settings(database_url=database_url, admin_secret="deployment-a")),
        create_app(Settings(database_url=database_url, admin_secret="deployment-b")),
    )
    yield apps
    for app in apps:
        app.state.engine.dispose()


def test_a_form_from_one_process_is_accepted_by_another_of_the_same_deployment(
    two_processes: tuple[FastAPI, FastAPI, FastAPI],
) -> None:
    first, second, other = (
        TestClient(app, base_url="https://testserver") for app in two_processes
    )
    token = signed_in(first)
    for client in (second, other):
        client.cookies.set(SESSION_COOKIE, encode_key(KEY_OPS), path="/admin")

    # An empty file is refused whole (422) once the token has been accepted.
    assert upload(second, token, b"").status_code == 422
    assert upload(other, token, b"").status_code == 403
