"""The sign-in page in a real Chromium, on a phone and a desktop: a page sends the
browser to /login, a wrong password says so, the right one comes back to the page, and
the session cookie is out of the page's reach. Screenshots go to artifacts/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support.auth_support import make_user
from tests.support.browser import ARTIFACTS
from tests.support.gateway_store import wait_until
from tests.support.services import free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Database]]:
    db = Database.in_dir(tmp_path)
    db.open()
    port = free_port()
    app = create_app(db)
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    wait_until(lambda: uv.started, 10, "the API server to start")
    yield f"http://127.0.0.1:{port}", db
    uv.should_exit = True
    thread.join(10)
    db.close()


def save(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.mark.parametrize(
    ("device", "viewport"),
    [("phone", {"width": 390, "height": 844}), ("desktop", {"width": 1280, "height": 800})],
)
def test_sign_in_from_a_page_and_come_back(browser, server, device: str, viewport: dict) -> None:
    base, db = server
    name, password, _token = make_user(db, "installer")
    page = browser.new_page(viewport=viewport)
    page.goto(f"{base}/calibrate?store=store-1&camera=cam-1")
    page.wait_for_url("**/login?next=**")
    assert page.title() == "Sign in · shelfsense"

    page.fill("#name", name)
    page.fill("#password", "not the password")
    page.click("#submit")
    page.wait_for_selector("#message:not([hidden])")
    assert "wrong user name or password" in page.locator("#message").inner_text()
    assert save(page, f"login-{device}.png").stat().st_size > 5_000
    # The form fits the screen: nothing to scroll sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    page.fill("#password", password)
    page.click("#submit")
    page.wait_for_url(f"{base}/calibrate?store=store-1&camera=cam-1")
    assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read it
    me = page.evaluate("fetch('/api/auth/me').then(r => r.json())")
    assert me["name"] == name and me["kind"] == "installer"


def test_next_never_leaves_the_site(browser, server) -> None:
    base, db = server
    name, password, _token = make_user(db, "merchandiser")
    page = browser.new_page()
    page.goto(f"{base}/login?next=//evil.example/steal")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#submit")
    page.wait_for_url(f"{base}/merchandiser")  # "/", which sends a merchandiser home
