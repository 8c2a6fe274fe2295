"""What people notice in the store's first week, in a real Chromium against a live
gateway (real Mosquitto, ingest and advice): one numbering on every page (rows and slots
from 1), the store page on a phone (the to-do list first, slot names not cut), the
calibration page in the shared navigation and refused to staff by sending them home,
replacing a layout only after saying what changes, `/docs` with no internet, and the
compliance page's errors, step and CSV. Screenshots go to artifacts/."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.test_dashboard_pages import nav, page_as, screenshot
from tests.support.dashboard_store import DashboardStore, module_dashboard_store
from tests.support.report_store import LEMONADE, store_1_layout

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardStore]:
    with module_dashboard_store(tmp_path_factory) as live:
        yield live


def test_rows_and_slots_are_counted_from_one_on_every_page(
    browser: Any, store: DashboardStore
) -> None:
    page = page_as(browser, store, "staff", "/store")
    # Layout row 1, slot 0 (the Lemonade) is the second row's first slot.
    title = page.get_attribute("[data-slot='c1:1-0']", "title")
    assert "row 2 · slot 1" in title, title
    lemonade = next(a for a in store.open_advice() if a["sku"] == LEMONADE.gtin)
    card = page.locator(f"[data-advice='{lemonade['id']}']").inner_text()
    assert f"row {lemonade['row'] + 1} · slot {lemonade['slot'] + 1}" in card, card
    page.context.close()

    merch = page_as(browser, store, "merchandiser", "/merchandiser")
    merch.select_option("#level", "row")
    # The store-level chart's meta also says 'line(s)': wait for the row-level legend.
    merch.wait_for_function(
        "(document.querySelector('#chart .u-legend')?.textContent || '').includes('row')"
    )
    legend = merch.locator("#chart .u-legend").text_content() or ""
    assert "row 1" in legend and "row 0" not in legend, legend
    worst = httpx.get(
        f"{store.base_url}/api/reports/worst-slots",
        params={"limit": 15},
        headers=store.bearer("merchandiser"),
        timeout=10,
    ).json()
    if worst:
        text = merch.locator("#worst").inner_text()
        assert f"row {worst[0]['row'] + 1} · slot {worst[0]['slot'] + 1}" in text, text
    merch.context.close()

    calibrate = page_as(browser, store, "installer", "/calibrate?store=s1&camera=c1")
    calibrate.locator("[data-slot='0-0']").dispatch_event("click")
    assert calibrate.locator("#slot-title").inner_text() == "Row 1 · slot 1"
    calibrate.context.close()


def test_the_store_page_on_a_phone_starts_with_the_to_do_list(
    browser: Any, store: DashboardStore
) -> None:
    page = page_as(browser, store, "staff", "/store", phone=True)
    todo = page.locator(".advice-card").bounding_box()
    shelves = page.locator(".shelves-card").bounding_box()
    kpis = page.locator(".kpis").bounding_box()
    assert todo["y"] < shelves["y"] and todo["y"] < kpis["y"], (todo, shelves, kpis)
    assert todo["y"] < 300, f"the to-do list starts {todo['y']} px down"
    assert page.locator("[data-advice]").first.is_visible()
    # Product names wrap inside their slot instead of being cut at the side.
    cut = page.evaluate(
        "[...document.querySelectorAll('.slot .pname')]"
        ".filter((n) => n.scrollWidth > n.clientWidth + 1).map((n) => n.textContent)"
    )
    assert cut == []
    for slot in page.locator(".slot").all():
        name = slot.locator(".pname").inner_text().replace("\n", " ")
        assert name.replace("-", "") in (slot.get_attribute("title") or "").replace("-", "")
    screenshot(page, "ui-store-phone-todo-first.png")


def test_calibration_shares_the_navigation_and_refuses_staff_by_sending_them_home(
    browser: Any, store: DashboardStore
) -> None:
    page = page_as(browser, store, "installer", "/calibrate?store=s1&camera=c1")
    assert nav(page) == ["Devices", "Calibration"]
    assert page.locator(".nav a[aria-current='page']").inner_text() == "Calibration"
    page.context.close()
    staff = page_as(browser, store, "staff", "/store")
    staff.goto(f"{store.base_url}/calibrate?store=s1&camera=c1")
    staff.wait_for_url("**/store")
    assert "detail" not in staff.locator("body").inner_text()


def planogram_csv() -> str:
    """Store 1's layout with the first row's products swapped end for end."""
    layout = store_1_layout()
    lines = ["row,slot,sku,name,brand,facings,depth"]
    for row in layout.rows:
        slots = row.slots[::-1] if row.index == 0 else row.slots
        for position, spec in zip(row.slots, slots, strict=True):
            lines.append(
                f"{row.index},{position.index},{spec.sku},{spec.name},{spec.brand},"
                f"{spec.facings},{spec.depth}"
            )
    return "\n".join(lines) + "\n"


def saved_version(store: DashboardStore) -> str:
    return httpx.get(
        f"{store.base_url}/api/layouts/s1/c1", headers=store.bearer("admin"), timeout=10
    ).json()["version"]


def test_replacing_a_layout_says_what_changes_and_asks_first(
    browser: Any, store: DashboardStore, tmp_path: Path
) -> None:
    page = page_as(browser, store, "admin", "/calibrate?store=s1&camera=c1")
    before = saved_version(store)
    plan = tmp_path / "s1-c1.csv"
    plan.write_text(planogram_csv())

    page.set_input_files("#planogram", str(plan))
    page.wait_for_selector("#confirm-dialog[open]")
    assert "Import s1-c1.csv" in page.locator("#confirm-title").inner_text()
    assert "Saved now:" in page.locator("#confirm-changes").inner_text()
    page.click("#confirm-cancel")
    page.wait_for_function("document.getElementById('status').textContent.includes('not')")
    assert saved_version(store) == before, "cancel keeps the layout"

    page.set_input_files("#planogram", str(plan))
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-ok")
    # "Planogram not imported." from the cancel above is still there until the save answers.
    page.wait_for_function("document.getElementById('status').textContent.includes('saved')")
    after = saved_version(store)
    assert after != before
    status = page.locator("#status").inner_text()
    assert "row 1 · slot 1:" in status and "→" in status, status
    screenshot(page, "ui-calibrate-import-changes.png")

    page.click("#undo")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-ok")
    page.wait_for_function("document.getElementById('status').textContent.includes('back')")
    assert saved_version(store) == before, "undo puts the previous layout back"

    # Unsaved edits: switching camera asks first; cancel stays on the camera.
    page.click("#add-row")
    page.select_option("#camera", "s2/c2")
    page.wait_for_selector("#confirm-dialog[open]")
    assert "without saving" in page.locator("#confirm-title").inner_text()
    screenshot(page, "ui-calibrate-unsaved-switch.png")
    page.click("#confirm-cancel")
    # The page puts the camera back once the dialog's close event has run (a task
    # after the dialog closes), so wait for the value rather than for the dialog.
    page.wait_for_function("document.getElementById('camera').value === 's1/c1'")
    assert not page.locator("#confirm-dialog").evaluate("d => d.open")
    page.select_option("#camera", "s2/c2")
    page.wait_for_selector("#confirm-dialog[open]")
    page.click("#confirm-ok")
    page.wait_for_function("document.getElementById('version').textContent.includes('Saved')")
    assert page.locator("#camera").input_value() == "s2/c2"


def test_docs_work_with_no_internet(browser: Any, store: DashboardStore) -> None:
    context = browser.new_context()
    outside: list[str] = []

    def only_the_gateway(route: Any) -> None:
        if route.request.url.startswith(store.base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_gateway)
    page = context.new_page()
    page.goto(f"{store.base_url}/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert page.locator(".swagger-ui .opblock").count() > 20
    assert outside == []
    screenshot(page, "ui-docs-offline.png")
    context.close()


def test_compliance_page_errors_are_sentences_figures_clear_and_csv_downloads(
    browser: Any, store: DashboardStore
) -> None:
    page = page_as(browser, store, "merchandiser", "/merchandiser")
    page.wait_for_function("!document.getElementById('csv').disabled")
    assert "daily (auto" in page.locator("#chart-meta").inner_text()  # a week: days
    with page.expect_download() as download:
        page.click("#csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows and set(rows[0]) >= {"start", "store", "row", "score"}
    assert {r["store"] for r in rows} == {"s1", "s2"}

    # From after To: a sentence, and no figure of the old range stays on screen.
    page.fill("#from", "2026-03-10")
    page.fill("#to", "2026-03-01")
    page.click("#filters button[type=submit]")
    problem = page.locator("#problem")
    problem.wait_for(state="visible")
    assert "is after" in problem.inner_text() and "{" not in problem.inner_text()
    assert page.locator("#kpis .kpi").count() == 0
    assert page.locator("#chart canvas").count() == 0
    assert page.locator("#worst table, #violations table").count() == 0
    assert page.locator("#csv").is_disabled()
    screenshot(page, "ui-compliance-from-after-to.png")

    # A short range: hourly, by itself.
    page.fill("#from", page.evaluate("new Date().toISOString().slice(0, 10)"))
    page.fill("#to", page.evaluate("new Date().toISOString().slice(0, 10)"))
    page.click("#filters button[type=submit]")
    page.wait_for_function("document.getElementById('chart-meta').textContent.includes('hourly')")
    assert not problem.is_visible()
