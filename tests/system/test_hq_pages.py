"""The head office's pages in a real Chromium against the real HQ app (uvicorn) over a
real dataset (`tests.support.hq_dataset`, analysed by the Dask job): a brand signs in
and sees its figures, charts and tables and none of another brand; a chain-scoped
merchandiser sees its chain's stores, compliance charts, worst stores and products and
the devices that went quiet. Screenshots at desktop and phone widths go to artifacts/
for people to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.support import hq_dataset as data
from tests.support.auth_support import make_user
from tests.support.browser import ARTIFACTS, DESKTOP, PHONE
from tests.support.hq_server import HqServer, served_hq

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HqServer]:
    with served_hq(tmp_path_factory) as server:
        yield server


def signed_in(browser: Any, hq: HqServer, role: str, path: str, phone: bool = False) -> Any:
    """A fresh browser context that opens `path`, is sent to the sign-in page, signs in
    as a new user of `role` and lands back on `path`, ready."""
    name, password, _ = make_user(hq.db, role)
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP, device_scale_factor=2 if phone else 1
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{hq.url}{path}")
    page.wait_for_url(re.compile(r"/login\?next="))
    assert page.url.endswith("next=" + quote(path, safe="/"))
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#submit")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    assert page.url.split("?")[0].endswith(path.split("?")[0])
    assert page.locator("#user-name").inner_text() == name
    page.errors = errors
    return page


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name} looks blank"
    return path


def nav(page: Any) -> list[str]:
    return page.locator(".nav a").all_inner_texts()


def test_a_brand_sees_its_figures_charts_and_stores_and_nothing_of_another(
    browser: Any, hq: HqServer
) -> None:
    page = signed_in(browser, hq, "brand:Fizz", "/brand")
    assert nav(page) == ["Brands"]
    assert page.locator("#brand-pick").is_hidden()
    assert page.locator("#title").inner_text() == "Fizz across stores"
    page.wait_for_selector("#chart-availability canvas")
    page.wait_for_selector("#chart-sales canvas")
    kpis = page.locator("#kpis").inner_text()
    assert "AVAILABILITY" in kpis.upper() and "%" in kpis and "€" in kpis
    stores = page.locator("#stores-table tbody tr")
    assert stores.count() == len(data.SHOPS)
    assert "Fresh Corner Centraal" in stores.nth(0).inner_text()  # rank 1: best availability
    assert page.locator("#products-table tbody tr").count() == 2 * len(data.SHOPS)
    assert page.locator("#regions-table tbody tr").count() == 2
    html = page.content()
    for word in data.foreign_words(data.FIZZ):
        assert word not in html, word
    with page.expect_download() as download:
        page.click("#csv")
    exported = Path(download.value.path()).read_text()
    assert data.COLA.sku not in exported  # store level: one row per store and day
    assert "Fizz" in exported and "Crunch" not in exported
    assert not page.errors, page.errors
    screenshot(page, "ui-hq-brand-desktop.png")

    page.select_option("#step", "day")
    page.select_option("#sort", "lost_sales")
    page.click("#filters button[type=submit]")
    page.wait_for_function("document.getElementById('trend-meta').textContent.startsWith('by day')")
    assert "lost sales" in page.locator("#stores-meta").inner_text()

    phone = signed_in(browser, hq, "brand:Fizz", "/brand", phone=True)
    phone.wait_for_selector("#chart-availability canvas")
    screenshot(phone, "ui-hq-brand-phone.png")
    chain = phone.goto(f"{hq.url}/chain")
    assert chain is not None and phone.url.endswith("/brand")  # not a brand's page


def test_a_chain_merchandiser_sees_its_stores_compliance_and_quiet_devices(
    browser: Any, hq: HqServer
) -> None:
    page = signed_in(browser, hq, "merchandiser:chain:Fresh Corner", "/chain")
    assert nav(page) == ["Stores & compliance", "Brands"]
    page.wait_for_selector("#chart-compliance canvas")
    page.wait_for_selector("#chart-osa canvas")
    assert "Fresh Corner" in page.locator("#sub").inner_text()
    worst = page.locator("#worst-stores-table tbody tr")
    assert worst.count() == 2
    assert "Salty Waves 150g" in page.locator("#worst-skus-table").inner_text()
    devices = page.locator("#devices-table").inner_text()
    assert "Fresh Corner Centraal" in devices and "uplink quiet" in devices
    text = page.locator("body").inner_text()
    assert "Daily Market" not in text and "store-b1" not in text
    assert page.locator("#chain").is_disabled()  # one chain: nothing to pick
    assert not page.errors, page.errors
    screenshot(page, "ui-hq-chain-desktop.png")

    page.select_option("#step", "week")
    page.click("#filters button[type=submit]")
    page.wait_for_function(
        "document.getElementById('compliance-meta').textContent.includes('weekly')"
    )

    page.click(".nav a >> text=Brands")
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector("#stores-table")
    assert page.locator("#brand-pick").is_visible()
    assert page.locator("#stores-table tbody tr").count() == 2
    screenshot(page, "ui-hq-brand-merchandiser-desktop.png")

    phone = signed_in(browser, hq, "merchandiser:chain:Fresh Corner", "/chain", phone=True)
    phone.wait_for_selector("#chart-compliance canvas")
    screenshot(phone, "ui-hq-chain-phone.png")


def test_an_admin_sees_every_store_and_can_pick_any_brand(browser: Any, hq: HqServer) -> None:
    page = signed_in(browser, hq, "admin", "/chain")
    page.wait_for_selector("#worst-stores-table")
    assert page.locator("#worst-stores-table tbody tr").count() == len(data.SHOPS)
    page.goto(f"{hq.url}/brand?brand=Crunch")
    page.wait_for_selector("#stores-table")
    assert page.locator("#title").inner_text() == "Crunch across stores"
    assert page.locator("#stores-table tbody tr").count() == 3
