"""The operator page in a real browser: Playwright driving Debian's Chromium
(/usr/bin/chromium, never a downloaded build) against the real server process.

Skipped, with the reason, where that Chromium is not installed; with
ORDERSYNC_TEST_REQUIRE_BROWSER=1 (CI, which installs it) a missing browser fails instead.
ORDERSYNC_UPDATE_SCREENSHOT=1 also writes the README's docs/admin-screenshot.png.
"""

from __future__ import annotations

import base64
import csv
import io
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server_process import ServerDidNotStart, served

ROOT = Path(__file__).resolve().parents[2]
DEMO_BUNDLE = ROOT / "data" / "demo-bundle.json"
SCREENSHOT = ROOT / "docs" / "admin-screenshot.png"
CHROMIUM = Path("/usr/bin/chromium")
# As the machine notes run Debian's Chromium as root, headless, on a closed network: without
# the background-networking flags it keeps trying Google's hosts.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REQUIRE_BROWSER = os.environ.get("ORDERSYNC_TEST_REQUIRE_BROWSER") == "1"
OPERATOR_KEY = "demo-key-operator"
ORDER = "260-211-8089581"  # ORD-DEMO-1 of ACC-BUILDCO, a draft of two suppliers
UNKNOWN_LO = "999-999-9999999-1"
SCRIPT = "<script>alert(1)</script>"
TIMEOUT_MS = 30_000

pytestmark = pytest.mark.e2e


def _no_browser(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (ORDERSYNC_TEST_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


def _cli(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ordersync.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`ordersync serve` on a migrated SQLite file holding the demo bundle; on SQLite the
    server runs the import jobs itself."""
    db = tmp_path_factory.mktemp("admin-e2e") / "ordersync.db"
    env = {
        "ORDERSYNC_DATABASE_URL": f"sqlite:///{db}",
        "ORDERSYNC_ADMIN_SECRET": secrets.token_hex(32),
        "ORDERSYNC_LOG_LEVEL": "WARNING",
    }
    for args in (("migrate",), ("load", str(DEMO_BUNDLE))):
        _cli(*args, env={**os.environ, **env})
    try:
        with served(env) as base:
            yield base
    except ServerDidNotStart as exc:
        pytest.fail(f"server did not start:\n{exc}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _no_browser(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("Playwright for Python is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(
        base_url=server, accept_downloads=True, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def _download(page: Any, click: Any) -> str:
    with page.expect_download() as info:
        click()
    return Path(info.value.path()).read_text(encoding="utf-8")


def _rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return list(reader.fieldnames or []), list(reader)


def _csv(header: list[str], rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _one_image(page: Any, shots: list[bytes], path: Path) -> None:
    """The screenshots stacked in one PNG, drawn by the same browser."""
    images = "".join(
        f'<img src="data:image/png;base64,{base64.b64encode(shot).decode()}">' for shot in shots
    )
    page.goto("about:blank")  # leave the admin pages: their CSP allows no data: image
    page.set_content(
        "<body style='margin:0;background:#8a93a3'>"
        "<style>img{display:block;width:1280px;margin:0 0 12px}</style>"
        f"{images}</body>"
    )
    page.screenshot(path=str(path), full_page=True)


def test_an_operator_imports_a_file_with_a_bad_row_and_finds_the_order_and_its_history(
    page: Any, server: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    dialogs: list[str] = []  # an alert() would mean the page ran data as a script
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    # Sign in: the key lands in a Secure, HttpOnly, SameSite=Strict cookie under /admin,
    # which Chromium keeps over plain http on 127.0.0.1 (a secure context).
    page.goto("/admin")
    expect(page).to_have_url(f"{server}/admin/sign-in?reason=required")
    page.fill("#api_key", OPERATOR_KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server}/admin")
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "ordersync_admin"]
    assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (
        True,
        True,
        "Strict",
        "/admin",
    )
    expect(page.locator(".who")).to_contain_text("OPS-1")

    # Export the account's orders through the page; keep the demo order's lines, change a
    # quantity and a name on one row and name an unknown order on another.
    page.fill("#account", "ACC-BUILDCO")
    exported = _download(page, page.get_by_role("button", name="Download CSV").click)
    header, rows = _rows(exported)
    lines = [r for r in rows if r["Order Reference"].startswith(f"{ORDER}-")]
    assert len(lines) == 5, exported
    changed, unknown = lines[0], lines[1]
    changed["Order Line Quantity"] = str(int(changed["Order Line Quantity"]) + 7)
    changed["Variant Name"] = SCRIPT
    unknown["Order Reference"] = UNKNOWN_LO
    bad_line_number = str(lines.index(unknown) + 2)  # the header is line 1

    page.set_input_files(
        "#file",
        files=[{"name": "demo-orders.csv", "mimeType": "text/csv", "buffer": _csv(header, lines)}],
    )
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/admin/jobs/*")
    job_url = page.url

    # The job runs in the server process; its page reloads itself until the job is done.
    expect(page.locator("main .status")).to_have_text("PARTIALLY_SUCCEEDED")
    expect(page.locator("#failed")).to_have_text("1")
    expect(page.locator("#succeeded")).to_have_text("4")
    assert page.locator("#progress").get_attribute("value") == "5"
    report_text = _download(page, page.get_by_text("Download the report").click)
    _, report = _rows(report_text)
    bad = [r for r in report if r["Result"] == "ERROR"]
    assert [(r["Line Number"], r["Error Code"]) for r in bad] == [(bad_line_number, "F-E-002")]
    assert UNKNOWN_LO in bad[0]["Error Message"]

    page.goto("/admin")
    expect(page.locator("#jobs")).to_contain_text("demo-orders.csv")
    expect(page.locator("#jobs")).to_contain_text("PARTIALLY_SUCCEEDED")
    dashboard_shot = page.screenshot(full_page=True)

    # Look the order up: its logistic orders, lines (the name shown as text, never run as
    # a script) and history.
    page.fill("#top-reference", ORDER)
    page.get_by_role("button", name="Look up").click()
    expect(page).to_have_url(f"{server}/admin/orders/{ORDER}")
    expect(page.locator("h1")).to_have_text(f"Order {ORDER}")
    expect(page.locator(".logistic-order")).to_have_count(2)
    row = page.locator("table.lines tr", has_text=changed["Order Line Id"]).first
    expect(row).to_contain_text(changed["Order Line Quantity"])
    expect(row.locator(".variant-name")).to_have_text(SCRIPT)
    assert dialogs == []
    history = page.locator("#history")
    expect(history).to_be_visible()
    entry = history.locator("tr.source-import").first
    expect(entry).to_contain_text("IMPORT")
    expect(entry).to_contain_text("OPS-1")
    expect(entry).to_contain_text("quantity")
    expect(entry.get_by_role("link", name="job")).to_have_attribute(
        "href", job_url.removeprefix(server)
    )
    order_shot = page.screenshot(full_page=True)

    target = SCREENSHOT if os.environ.get("ORDERSYNC_UPDATE_SCREENSHOT") == "1" else None
    _one_image(page, [order_shot, dashboard_shot], target or tmp_path / "admin.png")
    assert (target or tmp_path / "admin.png").stat().st_size > 10_000
