"""`shelf-hq demo` as users run it: 5 simulated stores send through their real uplink
outboxes to the in-process ingest, the Dask job and the HQ web app. Through the API the
demo's brand user sees its own products in exactly the stores that carry them and
nothing of another brand; the chain merchandiser sees its chain's stores only; the
scheduled refresh brings new hours onto the pages; /brand and /chain show the data in
real Chromium (screenshots in artifacts/); Ctrl-C stops it cleanly."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.devtools.hq_fleet import BRANDS, SimStore, catalogue, make_fleet
from tests.support.browser import ARTIFACTS, DESKTOP
from tests.support.services import free_port

pytestmark = pytest.mark.slow

STORES, HOURS, SEED = 5, 2, 1


@dataclass
class Demo:
    url: str
    logins: dict[str, dict[str, str]]  # role kind ("brand", "chain", ...) -> login
    fleet: list[SimStore]
    log: Path

    def get(self, kind: str, path: str, **params: Any) -> httpx.Response:
        token = self.logins[kind]["token"]
        return httpx.get(
            f"{self.url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    def ok(self, kind: str, path: str, **params: Any) -> Any:
        response = self.get(kind, path, **params)
        assert response.status_code == 200, (path, response.text)
        return response.json()


def _wait(check: Callable[[], Any], timeout: float, what: str, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (httpx.HTTPError, OSError, ValueError):
            result = None
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; log:\n{log.read_text()[-3000:]}")


def _kind(role: str) -> str:
    return {"merchandiser:chain": "chain", "merchandiser:region": "region"}.get(
        role.rsplit(":", 1)[0], role.split(":")[0]
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("hq-demo")
    port, users_file, log = free_port(), folder / "users.json", folder / "demo.log"
    command = [
        *(sys.executable, "-m", "gateway.cli.hq", "demo"),
        *("--stores", str(STORES), "--hours", str(HOURS), "--seed", str(SEED)),
        *("--port", str(port), "--data-dir", str(folder / "data")),
        *("--users-file", str(users_file)),
        *("--refresh-every", "3", "--speedup", "1800"),  # an hour every 2 s after the history
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(
            lambda: httpx.get(f"{url}/api/health", timeout=5).json()["results_at"],
            240,
            "the HQ",
            log,
        )
        logins = {_kind(u["role"]): u for u in json.loads(users_file.read_text())}
        yield Demo(url, logins, make_fleet(STORES, SEED), log)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    output = log.read_text()
    assert process.returncode == 0, output[-3000:]
    assert "Traceback" not in output, output
    assert f"sign in        {url}/login" in output  # the banner


def test_the_banner_gives_one_login_per_head_office_role(demo: Demo) -> None:
    roles = {login["role"] for login in demo.logins.values()}
    assert set(demo.logins) == {"admin", "brand", "chain", "region"}, roles
    output = demo.log.read_text()
    for login in demo.logins.values():
        assert re.search(
            rf"{login['name']}\s+{login['password']}\s+{re.escape(login['role'])}", output
        )


def test_a_brand_sees_its_own_products_in_the_stores_that_carry_them_and_nothing_else(
    demo: Demo,
) -> None:
    brand = demo.logins["brand"]["role"].split(":", 1)[1]
    carrying = {s.id for s in demo.fleet if any(sl.product.brand == brand for sl in s.slots)}
    placed = {
        (s.id, sl.product.sku) for s in demo.fleet for sl in s.slots if sl.product.brand == brand
    }
    assert 0 < len(carrying) <= STORES
    assert demo.ok("brand", "/api/brands") == {"brands": [brand]}

    stores = demo.ok("brand", f"/api/brands/{brand}/stores")
    assert {s["store"] for s in stores["stores"]} == carrying
    assert stores["totals"]["units"] > 0 and stores["totals"]["osa"] is not None
    products = demo.ok("brand", f"/api/brands/{brand}/products")["products"]
    assert {(p["store"], p["sku"]) for p in products} == placed

    foreign = [p for p in catalogue() if p.brand != brand]
    for other in BRANDS:
        if other != brand:
            assert demo.get("brand", f"/api/brands/{other}/stores").status_code == 403
    for path in ("stores", "products", "trend", "regions", "export.csv"):
        text = demo.get("brand", f"/api/brands/{brand}/{path}").text
        for product in foreign:
            assert product.brand not in text and product.sku not in text, (path, product)


def test_a_chain_merchandiser_sees_its_chain_only(demo: Demo) -> None:
    chain = demo.logins["chain"]["role"].split(":", 2)[2]
    mine = {s.id for s in demo.fleet if s.profile.chain == chain}
    listed = demo.ok("chain", "/api/stores")["stores"]
    assert {s["store"] for s in listed} == mine
    worst = demo.ok("chain", "/api/chain/worst-stores", limit=100)
    assert {s["store"] for s in worst["stores"]} == mine


def test_the_schedule_brings_new_hours_onto_the_pages(demo: Demo) -> None:
    brand = demo.logins["brand"]["role"].split(":", 1)[1]

    def units() -> float:
        return demo.ok("brand", f"/api/brands/{brand}/stores")["totals"]["units"]

    before_at = demo.ok("brand", "/api/health")["results_at"]
    before = units()
    _wait(lambda: units() > before, 90, "a refresh with the live hours", demo.log)
    assert demo.ok("brand", "/api/health")["results_at"] > before_at


def _signed_in(browser: Any, demo: Demo, kind: str, path: str) -> Any:
    login = demo.logins[kind]
    page = browser.new_context(viewport=DESKTOP).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{demo.url}{path}")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("#name", login["name"])
    page.fill("#password", login["password"])
    page.click("#submit")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    page.errors = errors
    return page


def _screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name} looks blank"


def test_the_brand_and_chain_pages_show_the_demo_data(browser: Any, demo: Demo) -> None:
    brand = demo.logins["brand"]["role"].split(":", 1)[1]
    carrying = [s for s in demo.fleet if any(sl.product.brand == brand for sl in s.slots)]
    page = _signed_in(browser, demo, "brand", "/brand")
    assert page.locator("#title").inner_text() == f"{brand} across stores"
    page.wait_for_selector("#chart-availability canvas")
    assert page.locator("#stores-table tbody tr").count() == len(carrying)
    assert carrying[0].profile.name in page.locator("#stores-table").inner_text()
    html = page.content()
    for other in BRANDS:
        assert other == brand or other not in html, other
    assert not page.errors, page.errors
    _screenshot(page, "ui-hq-demo-brand.png")

    chain = demo.logins["chain"]["role"].split(":", 2)[2]
    mine = [s for s in demo.fleet if s.profile.chain == chain]
    page = _signed_in(browser, demo, "chain", "/chain")
    page.wait_for_selector("#chart-compliance canvas")
    assert chain in page.locator("#sub").inner_text()
    assert page.locator("#worst-stores-table tbody tr").count() == len(mine)
    assert not page.errors, page.errors
    _screenshot(page, "ui-hq-demo-chain.png")
