"""The store page's purchase list in a real Chromium against a live gateway (real
Mosquitto, ingest, SQLite): the store manager makes a suggestion from the store's sales,
counts and two suppliers' price lists, edits a line's packs, accepts the order (then on
order) and gets its CSV; plain staff see the list read-only. Screenshots go to the
test's tmp dir."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.test_dashboard_pages import page_as
from tests.support.auth_support import make_user
from tests.support.dashboard_store import DashboardStore, Login, module_dashboard_store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardStore]:
    with module_dashboard_store(tmp_path_factory) as live:
        yield live


def seed_buying(store: DashboardStore) -> list[str]:
    """Two suppliers' price lists and a count of every SKU s1 sells; the SKUs."""
    with store.gateway.db.read() as conn:
        skus = [r[0] for r in conn.execute("SELECT DISTINCT sku FROM sales WHERE store = 's1'")]
    rows = [
        "supplier,gtin,pack_size,pack_price,min_order_value,free_delivery_threshold,"
        "delivery_fee,lead_time_days,order_days"
    ]
    for i, sku in enumerate(sorted(skus)):
        rows.append(f"Metro,{sku},12,{9.60 + i:.2f},0,150,12,1,")
        # Fresh (Mon/Thu, no minimum, free delivery) sells the first SKU well below Metro
        # (daily), so that line comes from the slower supplier and Metro's next-day
        # delivery bounds its safety stock; Metro alone sells the last, whose safety stock
        # covers Metro's own period.
        if i == len(skus) - 1:
            continue
        if i == 0:
            rows.append(f'Fresh,{sku},6,3.00,0,0,0,2,"Mon,Thu"')
        else:
            rows.append(f'Fresh,{sku},6,{5.00 + i / 2:.2f},0,0,0,2,"Mon,Thu"')
    admin = httpx.Client(base_url=store.base_url, headers=store.bearer("admin"))
    r = admin.post(
        "/api/suppliers/prices/csv",
        content="\n".join(rows) + "\n",
        headers={"content-type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["rejected"] == 0, r.text
    counted = (datetime.now(UTC) - timedelta(hours=6)).isoformat()
    counts = [
        {"store": "s1", "gtin": s, "quantity": 3, "time": counted, "backroom_capacity": 60}
        for s in skus
    ]
    assert admin.post("/api/stock/counts", json={"counts": counts}).json()["accepted"] == len(skus)
    return skus


def shot(page: Any, path: Path) -> Path:
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{path.name} looks blank"
    return path


def assert_safety_periods_shown(page: Any, store: DashboardStore) -> None:
    """A line whose safety stock covers less than its forecast period (a quicker supplier
    can make up a shortfall sooner) says so; a line covering its own period does not."""
    api = httpx.Client(base_url=store.base_url, headers=store.bearer("admin"))
    drafts = api.get("/api/purchases", params={"store": "s1", "status": "draft"}).json()
    lines = [(o["id"], x) for o in drafts for x in o["lines"]]
    shorter = [(o, x) for o, x in lines if x["why"]["safety_days"] < x["why"]["forecast_days"]]
    own = [(o, x) for o, x in lines if x["why"]["safety_days"] == x["why"]["forecast_days"]]
    assert shorter and own, drafts
    for (order, line), said in ((shorter[0], True), (own[0], False)):
        row = page.locator(f".purchase-order[data-order='{order}'] tr[data-gtin='{line['gtin']}']")
        text = row.locator(".why").inner_text()
        assert ("until a quicker supplier can deliver" in text) is said, text
        if said:
            assert f"for the {line['why']['safety_days']:g} day" in text, text


def test_manager_makes_edits_and_accepts_the_purchase_list_staff_read_it(
    browser: Any, store: DashboardStore, tmp_path: Path
) -> None:
    seed_buying(store)
    store.users["manager"] = Login(*make_user(store.gateway.db, "staff:s1:manager", "manager"))
    page = page_as(browser, store, "manager", "/store")
    page.wait_for_selector("#purchases[data-loaded='1']")
    assert page.locator("#purchases-suggest").is_visible()
    page.click("#purchases-suggest")
    page.wait_for_selector(".purchase-order[data-status='draft']")
    first = page.locator("input.packs").first
    gtin = first.get_attribute("data-gtin")
    before = int(first.input_value())
    assert before > 0
    assert "forecast" in page.locator(".purchase-lines .why").first.inner_text()
    assert_safety_periods_shown(page, store)
    assert "against buying each item" in page.locator("#purchases-meta").inner_text()
    shot(page, tmp_path / "purchase-list-draft.png")

    first.fill(str(before + 2))
    first.press("Tab")
    page.wait_for_function(
        "([g, n]) => document.querySelector(`input.packs[data-gtin='${g}']`)?.value === String(n)"
        " && !document.querySelector(`input.packs[data-gtin='${g}']`).disabled",
        arg=[gtin, before + 2],
    )
    order_block = page.locator(
        ".purchase-order", has=page.locator(f"input.packs[data-gtin='{gtin}']")
    )
    order_id = order_block.get_attribute("data-order")
    order_block.locator("button", has_text="Accept order").click()
    page.wait_for_selector(f".purchase-order[data-order='{order_id}'][data-status='on_order']")
    shot(page, tmp_path / "purchase-list-accepted.png")
    api = httpx.Client(base_url=store.base_url, headers=store.bearer("admin"))
    order = api.get(f"/api/purchases/{order_id}").json()
    line = next(x for x in order["lines"] if x["gtin"] == gtin)
    assert (order["status"], order["accepted_by"], line["packs"]) == (
        "on_order",
        "manager",
        before + 2,
    )
    href = page.locator(
        f".purchase-order[data-order='{order_id}'] a", has_text="CSV"
    ).get_attribute("href")
    csv_text = api.get(href).text
    assert csv_text.startswith("supplier,gtin,name,packs") and f",{before + 2}," in csv_text

    staff = page_as(browser, store, "staff", "/store")
    staff.wait_for_selector(f".purchase-order[data-order='{order_id}'][data-status='on_order']")
    assert not staff.locator("#purchases-suggest").is_visible()
    assert staff.locator("input.packs").count() == 0
    assert staff.locator("button", has_text="Accept order").count() == 0
    shot(staff, tmp_path / "purchase-list-staff.png")
