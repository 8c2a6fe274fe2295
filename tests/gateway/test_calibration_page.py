"""The calibration page in a real Chromium: snapshot from a real node, drag a line, pick a
product, save; the stored layout changes and the camera switches to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from models.synth.catalogue import catalogue
from tests.support.auth_support import auth_headers, make_user
from tests.support.browser import ARTIFACTS
from tests.support.gateway_store import wait_until
from tests.support.live_store import CAMERA, STORE, LiveStore, live_store
from tests.support.services import Mosquitto

pytestmark = pytest.mark.slow


@pytest.fixture
def store(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[LiveStore]:
    with live_store(mosquitto, tmp_path / "data") as live:
        products = [{"gtin": p.gtin, "name": p.name, "brand": p.brand} for p in catalogue()]
        httpx.post(
            f"{live.base_url}/api/catalogue",
            json={"products": products},
            headers=auth_headers(live.gateway.db, "admin"),
            timeout=10,
        ).raise_for_status()
        yield live


def open_signed_in(
    page, store: LiveStore, path: str, login: tuple[str, str, str] | None = None
) -> None:
    """Open a page as a browser does: sent to the login page, sign in (as the installer
    unless `login` says who), come back to the page."""
    page.goto(store.base_url + path)
    page.wait_for_url("**/login?next=**")
    name, password, _token = login or store.login
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#submit")
    page.wait_for_url(store.base_url + path)


def screenshot(page, tmp_path: Path, name: str) -> Path:
    """Save under the test's tmp dir and, for people to look at, under artifacts/."""
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(path.read_bytes())
    return path


def test_calibrate_from_a_snapshot_drag_assign_and_save(
    browser, store: LiveStore, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    open_signed_in(page, store, f"/calibrate?store={STORE}&camera={CAMERA}")
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#version").inner_text().endswith("none yet")

    # Snapshots are off until allowed for the camera; the camera says which switch is off.
    page.click("#snapshot")
    page.wait_for_function("document.getElementById('status').textContent.includes('refused')")
    assert "not enabled for this camera" in page.locator("#status").inner_text()

    page.check("#snapshots-enabled")
    page.wait_for_function("document.getElementById('status').textContent.includes('allowed')")
    wait_until(lambda: store.node.snapshots_enabled, 10, "the node to learn snapshots are on")
    page.click("#snapshot")
    page.wait_for_selector("#shot:not([hidden])", timeout=30_000)
    # With no layout yet the page starts from the camera's proposal.
    page.wait_for_selector("[data-handle='row-0-y1']", state="attached")
    rows = page.locator("[data-handle$='-y1']").count()
    assert rows >= 2

    # Drag the bottom line of the first row down by 5% of the picture, from a point
    # where that line is what the pointer meets.
    box = page.locator("#overlay").bounding_box()
    before = page.evaluate("calibration.layout.rows[0].y1")
    y = box["y"] + before * box["height"]
    x = next(
        box["x"] + f * box["width"]
        for f in (0.5, 0.45, 0.55, 0.4, 0.6, 0.35, 0.65, 0.3, 0.7)
        if page.evaluate(
            f"document.elementFromPoint({box['x'] + f * box['width']}, {y}).dataset.handle"
        )
        == "row-0-y1"
    )
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + 0.03 * box["height"], steps=4)
    page.mouse.move(x, y + 0.05 * box["height"], steps=4)
    page.mouse.up()
    moved = page.evaluate("calibration.layout.rows[0].y1")
    assert moved == pytest.approx(before + 0.05, abs=0.01)

    # Pick a product for the first slot from the catalogue.
    product = catalogue()[3]
    page.click("[data-slot='0-0']")
    page.fill("#sku-input", product.brand)
    page.wait_for_function(f"calibration.catalogue.has('{product.gtin}')", timeout=5_000)
    page.fill("#sku-input", product.gtin)
    page.dispatch_event("#sku-input", "change")
    assert product.name in page.locator("#product-line").inner_text()
    page.fill("#facings", "3")
    page.dispatch_event("#facings", "change")

    # The names staff use: the layout's aisle and bay, the first row's shelf label.
    for field, value in (("#aisle", "3"), ("#bay", "B"), ("#row-label", "top")):
        page.fill(field, value)
        page.dispatch_event(field, "change")
    assert page.locator("#slot-title").inner_text() == "Aisle 3 · bay B · shelf top · slot 1"

    screenshot(page, tmp_path, "calibration-desktop.png")
    page.click("#save")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Saved')")

    record = store.get(f"/api/layouts/{STORE}/{CAMERA}")
    first = record["layout"]["rows"][0]
    assert first["y1"] == pytest.approx(moved, abs=1e-4)
    assert first["slots"][0]["sku"] == product.gtin
    assert first["slots"][0]["facings"] == 3
    assert (record["layout"]["aisle"], record["layout"]["bay"], first["label"]) == ("3", "B", "top")
    # The camera runs the saved layout (it echoes the version in its state).
    wait_until(
        lambda: (
            (store.get(f"/api/cameras/{STORE}/{CAMERA}")["state"] or {}).get("layout_version")
            == record["version"]
        ),
        30,
        "the node to run the saved layout",
    )

    # The store page names the slot as the calibration page does.
    staff = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    open_signed_in(staff, store, "/store", make_user(store.gateway.db, f"staff:{STORE}"))
    staff.wait_for_selector("[data-slot]")
    labels = staff.eval_on_selector_all("[data-slot]", "nodes => nodes.map((n) => n.dataset.label)")
    assert f"{product.name} (aisle 3 · bay B · shelf top · slot 1)" in labels
    assert "aisle 3 · bay B" in staff.locator("article.camera h3").first.inner_text()

    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    open_signed_in(phone, store, f"/calibrate?store={STORE}&camera={CAMERA}")
    phone.wait_for_selector("body[data-ready='1']")
    phone.wait_for_selector("#shot:not([hidden])")
    phone.click("[data-slot='0-0']")
    path = screenshot(phone, tmp_path, "calibration-phone.png")
    assert path.stat().st_size > 10_000
