"""The dashboard pages in a real Chromium against a live gateway (real Mosquitto, real
ingest, real advice engine): each role sees its data, an acknowledged advice changes
and reaches a second page live, a brand sees nothing of another brand, and every page
is photographed at desktop and phone widths into artifacts/ for people to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from edge.contract import Availability, CameraTopics, ShelfState, SlotReading, SlotStatus
from tests.support.browser import ARTIFACTS, DESKTOP, PHONE
from tests.support.dashboard_store import DashboardStore, dashboard_store
from tests.support.report_store import CHIPS, COLA, DIP, LEMONADE, WATER, store_1_layout
from tests.support.services import Mosquitto

pytestmark = pytest.mark.slow


@pytest.fixture
def store(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[DashboardStore]:
    with dashboard_store(mosquitto, tmp_path / "data") as live:
        yield live


def page_as(browser: Any, store: DashboardStore, user: str, path: str, phone: bool = False) -> Any:
    """A fresh browser (own cookies) that opens `path`, is sent to the sign-in page,
    signs in as `user` and lands back on `path`."""
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP, device_scale_factor=2 if phone else 1
    )
    page = context.new_page()
    page.goto(f"{store.base_url}{path}")
    page.wait_for_url(re.compile(r"/login\?next="))
    assert path == "/" or page.url.endswith("next=" + quote(path, safe="/"))
    login = store.users[user]
    page.fill("#name", login.name)
    page.fill("#password", login.password)
    page.click("#submit")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    assert path == "/" or page.url.endswith(path)
    assert page.locator("#user-name").inner_text() == login.name
    return page


def nav(page: Any) -> list[str]:
    return page.locator(".nav a").all_inner_texts()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name} looks blank"
    return path


def slot_status(page: Any, camera: str, row: int, slot: int) -> str:
    return page.get_attribute(f"[data-slot='{camera}:{row}-{slot}']", "data-status")


def test_store_page_shows_shelves_advice_and_acknowledge_reaches_another_page_live(
    browser: Any, store: DashboardStore
) -> None:
    page = page_as(browser, store, "staff", "/store")
    assert nav(page) == ["Store"]
    assert page.locator("#user-role").get_attribute("title") == "staff:s1"
    assert "s1" in page.locator("#user-role").inner_text()
    assert page.locator("#title").inner_text() == "Store s1"
    assert page.locator(".slot").count() == 5
    assert slot_status(page, "c1", 1, 0) == "empty"  # Acme Lemonade
    assert slot_status(page, "c1", 0, 0) == "stocked"
    advice = page.locator("[data-advice]")
    assert advice.count() >= 2
    assert "%" in page.locator("#today-score").inner_text()
    screenshot(page, "ui-store-desktop.png")

    watcher = page_as(browser, store, "staff", "/store")
    page.wait_for_function("document.getElementById('live').dataset.state === 'on'")
    watcher.wait_for_function("document.getElementById('live').dataset.state === 'on'")
    chips = next(a for a in store.open_advice() if a["sku"] == CHIPS.gtin)
    page.click(f"[data-ack='{chips['id']}']")
    page.wait_for_selector(f"[data-advice='{chips['id']}'] [data-status='acknowledged']")
    # The second page learns it from the stream, without a reload.
    watcher.wait_for_selector(
        f"[data-advice='{chips['id']}'] [data-status='acknowledged']", timeout=10_000
    )
    assert not watcher.locator(f"[data-ack='{chips['id']}']").count()

    # A camera state arrives (the Lemonade restocked): its slot changes on the open page.
    layout = store_1_layout()
    readings = [
        SlotReading(
            row=r.index,
            slot=s.index,
            sku=s.sku,
            status=SlotStatus.EMPTY if s.sku == CHIPS.gtin else SlotStatus.STOCKED,
        )
        for r, s, _ in layout.slot_boxes()
    ]
    store.node.publish(
        CameraTopics("s1", "c1").state,
        ShelfState(
            store="s1",
            camera="c1",
            ts=datetime.now(UTC),
            seq=500,
            slots=readings,
            layout_version=layout.version,
        ),
    )
    watcher.wait_for_function(
        "document.querySelector(\"[data-slot='c1:1-0']\").dataset.status === 'stocked'",
        timeout=15_000,
    )

    # Dismiss asks for a reason (the Chips stay empty: that advice stays until dismissed).
    page.click(f"[data-dismiss='{chips['id']}']")
    page.wait_for_selector("#dismiss-dialog[open]")
    assert page.locator("#dismiss-what").inner_text() == chips["action"]
    page.click("#dismiss-choices button >> nth=0")
    page.click("#dismiss-ok")
    page.wait_for_selector(f"[data-advice='{chips['id']}']", state="detached")
    watcher.wait_for_selector(f"[data-advice='{chips['id']}']", state="detached")
    dismissed = next(a for a in store.all_advice() if a["id"] == chips["id"])
    assert dismissed["status"] == "dismissed" and dismissed["dismiss_reason"] == "Already done"

    phone = page_as(browser, store, "staff", "/store", phone=True)
    screenshot(phone, "ui-store-phone.png")


def test_merchandiser_page_charts_worst_slots_and_violations(
    browser: Any, store: DashboardStore
) -> None:
    page = page_as(browser, store, "merchandiser", "/merchandiser")
    assert nav(page) == ["Store", "Compliance", "Brand"]
    page.wait_for_selector("#chart canvas")
    text = page.locator("main").inner_text()
    assert LEMONADE.name in text and "Violations" in text
    assert page.locator("#worst tbody tr").count() >= 2
    page.select_option("#category", "Snacks")
    page.click("#filters button[type=submit]")
    page.wait_for_function(
        f"!document.getElementById('worst').innerText.includes({LEMONADE.name!r})"
    )
    assert CHIPS.name in page.locator("#worst").inner_text()
    page.select_option("#category", "")
    page.select_option("#level", "camera")
    page.wait_for_selector("#chart canvas")
    screenshot(page, "ui-merchandiser-desktop.png")
    screenshot(
        page_as(browser, store, "merchandiser", "/merchandiser", phone=True),
        "ui-merchandiser-phone.png",
    )


def test_brand_page_shows_its_own_products_only(browser: Any, store: DashboardStore) -> None:
    page = page_as(browser, store, "brand-acme", "/brand")
    assert nav(page) == ["Brand"]
    page.wait_for_selector("#products-table")
    assert page.locator("#brand-pick").is_hidden()
    text = page.locator("body").inner_text()
    assert COLA.name in text and LEMONADE.name in text
    for other in (CHIPS, DIP, WATER):
        assert other.name not in text and other.gtin not in text
    assert "Zest" not in page.content()
    with page.expect_download() as download:
        page.click("#csv")
    exported = Path(download.value.path()).read_text()
    assert COLA.gtin in exported and CHIPS.gtin not in exported
    screenshot(page, "ui-brand-desktop.png")
    screenshot(
        page_as(browser, store, "brand-acme", "/brand?brand=Acme", phone=True), "ui-brand-phone.png"
    )


def test_devices_page_lists_nodes_and_alerts_for_an_offline_one(
    browser: Any, store: DashboardStore
) -> None:
    store.node.publish(
        CameraTopics("s2", "c2").availability,
        Availability(store="s2", camera="c2", state="offline"),
        retain=True,
    )
    page = page_as(browser, store, "installer", "/devices?offline_alert_s=0.5")
    assert nav(page) == ["Devices", "Calibration"]
    page.wait_for_selector("[data-alert='s2/c2']", timeout=15_000)
    assert "offline" in page.locator("[data-alert='s2/c2']").inner_text()
    assert page.locator("#nodes-table tbody tr").count() == 2
    screenshot(page, "ui-devices-desktop.png")
    screenshot(
        page_as(browser, store, "admin", "/devices?offline_alert_s=0.5", phone=True),
        "ui-devices-phone.png",
    )


def test_home_sends_each_role_to_its_page_and_pages_refuse_other_roles(
    browser: Any, store: DashboardStore
) -> None:
    homes = {
        "admin": "/store",
        "staff": "/store",
        "merchandiser": "/merchandiser",
        "brand-zest": "/brand",
        "installer": "/devices",
    }
    for user, home in homes.items():
        page = page_as(browser, store, user, "/")
        page.wait_for_url(f"**{home}")
        page.wait_for_selector("body[data-ready='1']")
        if user == "admin":
            assert nav(page) == ["Store", "Compliance", "Brand", "Devices", "Models", "Calibration"]
        if user == "brand-zest":
            text = page.locator("body").inner_text()
            assert WATER.name in text and COLA.name not in text and "Acme" not in text
        page.context.close()
    # A brand user typing the store page's address is sent to its own page.
    page = page_as(browser, store, "brand-zest", "/brand")
    page.goto(f"{store.base_url}/store")
    page.wait_for_url("**/brand")
    page.click("#logout")
    page.wait_for_url("**/login")
    page.goto(f"{store.base_url}/brand")
    page.wait_for_url(re.compile(r"/login\?next="))
