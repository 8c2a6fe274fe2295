"""The My alerts page in a real Chromium against a real HTTP server and the real alert
thread (#24 item 3): a store's staff member sets quiet hours, adds a webhook pointing at
a real local `http.server` receiver (its secret shown once), sends a test alert that
arrives signed with that secret, adds an Apprise URL and deletes a channel. Screenshots
go to the test's tmp dir."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from gateway.alerts.service import AlertService
from gateway.alerts.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from gateway.config.alerts import AlertSettings
from gateway.storage.connection import Database
from gateway.web.app import create_app
from gateway.web.backend import DatabaseBackend
from tests.gateway.test_push_alerts import Receiver
from tests.support.auth_support import bearer, make_user
from tests.support.browser import DESKTOP, PHONE
from tests.support.gateway_store import wait_until
from tests.support.services import free_port


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Database]]:
    """The API and pages on a free port, with the alert thread running (default settings:
    a test alert goes out because the route wakes the thread, not because it polls fast)."""
    db = Database.in_dir(tmp_path)
    db.open()
    backend = DatabaseBackend(db)
    backend.alerts = AlertService(db, AlertSettings())
    backend.alerts.start()
    port = free_port()
    uv = uvicorn.Server(
        uvicorn.Config(create_app(backend), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    wait_until(lambda: uv.started, 10, "the API server to start")
    yield f"http://127.0.0.1:{port}", db
    uv.should_exit = True
    thread.join(10)
    backend.alerts.stop()
    db.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def signed_in(browser: Any, base: str, db: Database, role: str, phone: bool = False) -> Any:
    """A fresh browser context signed in as a new user of `role`, on /alerts."""
    name, password, _token = make_user(db, role)
    context = browser.new_context(viewport=PHONE if phone else DESKTOP)
    page = context.new_page()
    page.goto(f"{base}/alerts")
    page.wait_for_url("**/login?next=**")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#submit")
    page.wait_for_url(f"{base}/alerts")
    page.wait_for_selector("body[data-ready='1']")
    return page


def shot(page: Any, path: Path) -> Path:
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{path.name} looks blank"
    return path


def test_staff_set_quiet_hours_add_a_webhook_and_a_test_alert_arrives(
    browser: Any, site: tuple[str, Database], receiver: Receiver, tmp_path: Path
) -> None:
    base, db = site
    page = signed_in(browser, base, db, "staff:s1")
    menu = page.locator(".who a#to-alerts")
    assert menu.inner_text() == "My alerts" and menu.get_attribute("aria-current") == "page"
    assert "My alerts" not in page.locator(".nav").inner_text()
    assert page.locator("#quiet-state").get_attribute("data-quiet") == "off"

    page.fill("#quiet-start", "22:00")
    page.fill("#quiet-end", "07:00")
    page.fill("#quiet-zone", "Mars/Olympus")
    page.click("#quiet-save")
    page.wait_for_selector("#notes .banner[data-note='error']")
    assert "IANA time zone" in page.locator("#notes").inner_text()
    page.fill("#quiet-zone", "Europe/Berlin")
    page.click("#quiet-save")
    page.wait_for_selector("#quiet-state[data-quiet='on']")
    assert "22:00" in page.locator("#quiet-now").inner_text()

    page.fill("#channel-name", "shop phone")
    page.fill("#channel-url", receiver.url)
    page.click("#channel-add")
    page.wait_for_selector("#secret-value")
    secret = page.locator("#secret-value").inner_text()
    # The secret shows as soon as the channel is added; the list reloads after it.
    page.wait_for_selector("tr[data-channel]")
    row = page.locator("tr[data-channel]")
    assert row.count() == 1
    address = row.locator(".masked-url").inner_text()
    assert address == receiver.url.removesuffix("/hook") + "/…"

    row.locator("button[data-action='test']").click()
    page.wait_for_selector("#deliveries tr[data-status='sent']", timeout=20_000)
    wait_until(lambda: len(receiver.received) == 1, 10, "the test alert at the receiver")
    headers, body = receiver.received[0]
    assert receiver.bodies()[0]["kind"] == "test"
    assert verify(
        secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER], now=time.time()
    )
    shot(page, tmp_path / "alerts-desktop.png")

    token = make_user(db, "admin")[2]
    admin = httpx.Client(base_url=base, headers=bearer(token))
    (listed,) = admin.get("/api/alerts/channels").json()
    assert (listed["name"], listed["url"]) == ("shop phone", receiver.url)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#secret").is_hidden()  # the secret was shown once
    assert page.locator("#quiet-start").input_value() == "22:00"
    assert page.locator("#quiet-zone").input_value() == "Europe/Berlin"

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr[data-channel] button[data-action='delete']").click()
    page.wait_for_selector("#channels .empty-note")
    assert admin.get("/api/alerts/channels").json() == []
    # The delivery log keeps the test alert (its channel shown as deleted).
    assert page.locator("#deliveries tr[data-status='sent']").count() == 1
    page.context.close()


def test_an_apprise_url_is_added_masked_and_brands_have_no_alerts_page(
    browser: Any, site: tuple[str, Database], receiver: Receiver, tmp_path: Path
) -> None:
    pytest.importorskip("apprise")
    base, db = site
    page = signed_in(browser, base, db, "merchandiser", phone=True)
    page.select_option("#channel-kind", "apprise")
    page.fill("#channel-name", "ntfy")
    page.fill("#channel-url", "ntfys://ntfy.sh/shelf-secret-topic")
    page.click("#channel-add")
    page.wait_for_selector("tr[data-channel][data-kind='apprise']")
    assert page.locator("#secret").is_hidden()  # Apprise channels have no secret
    assert page.locator(".masked-url").inner_text() == "ntfys://ntf…"
    assert "secret-topic" not in page.locator("body").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, tmp_path / "alerts-phone.png")

    page.fill("#channel-name", "bad")
    page.fill("#channel-url", "nosuchscheme://x")
    page.click("#channel-add")
    page.wait_for_selector("#notes .banner[data-note='error']")
    assert "Apprise does not know" in page.locator("#notes").inner_text()
    page.context.close()

    name, password, _token = make_user(db, "brand:Acme")
    brand = browser.new_page()
    brand.goto(f"{base}/login?next=/alerts")
    brand.fill("#name", name)
    brand.fill("#password", password)
    brand.click("#submit")
    brand.wait_for_url("**/brand")
    brand.close()
