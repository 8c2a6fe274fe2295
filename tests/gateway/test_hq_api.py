"""The head office's API on a real dataset (4 stores, 2 chains, 2 regions, 2 brands,
written with `HqStore` and analysed by the Dask job): the figures per role, and the
isolation walk: a brand's token on every GET route of the app reveals no other brand's
name, SKU, product name or figure, in JSON, CSV or Parquet; a chain- or region-scoped
merchandiser sees only its stores; unknown routes and callers without a user are refused.

`ACCESS` is this test's own statement of who may call what; a route it does not know
fails the test, so each new route must be classified (and is then walked).
"""

from __future__ import annotations

import csv
import io
import math
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.hq import analytics
from gateway.hq.store import HqStore
from gateway.hq.web import create_hq_app
from gateway.uplink.contract import HourlyRollup, Kind, SlotHour, envelope
from tests.support import hq_dataset as data
from tests.support.auth_support import bearer, make_user
from tests.support.hq_app import Hq, hq_app

pytestmark = pytest.mark.slow  # the Dask job runs once for the module (a few seconds)

PUBLIC = "public"
READERS = frozenset({"admin", "merchandiser", "brand"})
CHAIN = frozenset({"admin", "merchandiser"})
STORE_GUIDANCE = frozenset({"admin", "merchandiser", "staff"})
"""A store's nearby prices and assortment: the walk asks for store-a1, staff's own."""
ACCESS: dict[tuple[str, str], frozenset[str] | str] = {
    ("GET", "/api/health"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/logout"): PUBLIC,
    ("GET", "/api/auth/me"): frozenset({"admin", "installer", "staff", "merchandiser", "brand"}),
    ("GET", "/api/brands"): READERS,
    ("GET", "/api/brands/{brand}/stores"): READERS,
    ("GET", "/api/brands/{brand}/trend"): READERS,
    ("GET", "/api/brands/{brand}/regions"): READERS,
    ("GET", "/api/brands/{brand}/products"): READERS,
    ("GET", "/api/brands/{brand}/export.csv"): READERS,
    ("GET", "/api/brands/{brand}/export.parquet"): READERS,
    ("GET", "/api/stores"): READERS,
    ("GET", "/api/chain/trend"): CHAIN,
    ("GET", "/api/chain/worst-stores"): CHAIN,
    ("GET", "/api/chain/worst-skus"): CHAIN,
    ("GET", "/api/devices/offline"): CHAIN,
    ("GET", "/api/brands/{brand}/prices"): READERS,
    ("GET", "/api/stores/{store}/prices"): STORE_GUIDANCE,
    ("GET", "/api/stores/{store}/assortment"): STORE_GUIDANCE,
}
VARIANTS: dict[str, list[dict[str, str]]] = {
    "/api/brands/{brand}/export.csv": [{"level": "store"}, {"level": "sku"}],
    "/api/brands/{brand}/export.parquet": [{"level": "store"}, {"level": "sku"}],
    "/api/brands/{brand}/trend": [{"step": "week"}, {"step": "day"}],
    "/api/chain/trend": [{"step": "week"}, {"step": "day"}],
}
"""Query variants each GET route is walked with (the default alone when not listed)."""

ROLES = ("admin", "installer", "staff:store-a1", "merchandiser", "brand:Fizz")
CHAIN_A = {"store-a1", "store-a2"}
NORTH = {"store-a1", "store-b2"}


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hq]:
    root = data.build(tmp_path_factory.mktemp("hq"))
    with hq_app(root, tmp_path_factory.mktemp("hq-users")) as live:
        yield live


def get_paths(app: FastAPI) -> list[str]:
    return [
        path
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method == "get"
    ]


def requests_for(path: str, brand: str) -> list[str]:
    url = path.replace("{brand}", brand).replace("{store}", "store-a1")
    variants = VARIANTS.get(path, [{}])
    return [url + ("?" + "&".join(f"{k}={v}" for k, v in q.items()) if q else "") for q in variants]


# ---- what a body says ------------------------------------------------------------------


def texts_and_numbers(response: Any) -> tuple[list[str], list[float]]:
    """Every text and every number a response carries, whatever its format."""
    kind = response.headers.get("content-type", "")
    if "parquet" in kind:
        frame = pd.read_parquet(io.BytesIO(response.content))
        values = [*frame.columns, *frame.to_numpy().ravel().tolist()]
    elif "csv" in kind:
        rows = list(csv.reader(io.StringIO(response.text)))
        values = [cell for row in rows for cell in row]
        values = [_as_number(v) for v in values]
    else:
        values = list(_walk(response.json()))
    texts = [v for v in values if isinstance(v, str)]
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return texts, [n for n in numbers if not math.isnan(n)]


def _as_number(text: str) -> str | float:
    try:
        return float(text)
    except ValueError:
        return text


def _walk(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)
    else:
        yield value


def numbers_of(client: TestClient, urls: list[str]) -> set[float]:
    found: set[float] = set()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.text)
        found.update(round(n, 6) for n in texts_and_numbers(response)[1])
    return found


# ---- the routes and who may call them --------------------------------------------------


def test_the_table_knows_every_route(hq: Hq) -> None:
    routes = {
        (method.upper(), path)
        for path, operations in hq.app.openapi()["paths"].items()
        for method in operations
    }
    assert routes - set(ACCESS) == set(), "classify these routes in ACCESS"
    assert set(ACCESS) - routes == set(), "ACCESS names routes that are gone"


@pytest.mark.parametrize("caller", [*ROLES, "anonymous", "bad token"])
def test_every_get_route_answers_each_caller_as_the_table_says(hq: Hq, caller: str) -> None:
    if caller == "anonymous":
        client = hq.client(None)
    elif caller == "bad token":
        client = TestClient(hq.app, headers=bearer("sst_00000000_" + "x" * 43))
    else:
        client = hq.client(caller)
    kind = caller.split(":")[0]
    wrong = []
    for path in get_paths(hq.app):
        allowed = ACCESS[("GET", path)]
        for url in requests_for(path, data.FIZZ):
            status = client.get(url).status_code
            if allowed == PUBLIC:
                ok = status == 200
            elif caller in ("anonymous", "bad token"):
                ok = status == 401
            else:
                ok = status == (200 if kind in allowed else 403)
            if not ok:
                wrong.append(f"{caller}: GET {url} -> {status}")
    assert not wrong, "\n".join(wrong)


def test_unknown_routes_are_not_found_for_anyone(hq: Hq) -> None:
    brand = hq.client("brand:Fizz")
    for url in ("/api/nope", "/api/brands/Fizz/nope", "/api/results/brand_store_days", "/nope"):
        assert brand.get(url).status_code == 404, url
    assert hq.client(None).get("/api/nope").status_code == 404


# ---- a brand's figures -------------------------------------------------------------------


def expected_osa(store: str, products: list[data.Product], low_counts: bool = True) -> float:
    """Availability (low counts as on the shelf) or, with `low_counts=False`, facing
    compliance, from the dataset's own definition of each hour."""
    shop = next(s for s in data.SHOPS if s.id == store)
    missing = sum(
        (data.empty_minutes(shop, p, day) + (0 if low_counts else data.low_minutes(shop, p, day)))
        * len(data.HOURS)
        for p in products
        for day in range(data.DAYS)
    )
    observed = 60.0 * len(data.HOURS) * data.DAYS * len(products)
    return 1 - missing / observed


def test_a_brand_sees_its_figures_in_every_store_ranked(hq: Hq) -> None:
    client = hq.client("brand:fizz")  # any case
    body = client.get("/api/brands/FIZZ/stores").json()
    assert body["brand"] == "Fizz" and body["currency"] == "EUR"
    assert (body["since"], body["until"]) == ("2026-11-16", "2026-11-25")  # the data's days
    stores = {s["store"]: s for s in body["stores"]}
    assert set(stores) == {s.id for s in data.SHOPS}
    fizz = [data.COLA, data.LEMON]
    for store, figures in stores.items():
        assert figures["osa"] == pytest.approx(expected_osa(store, fizz))
        assert figures["facing_compliance"] == pytest.approx(expected_osa(store, fizz, False))
        assert figures["facing_compliance"] < figures["osa"]
    a1 = stores["store-a1"]
    assert a1["store_name"] == "Fresh Corner Centraal" and a1["chain"] == "Fresh Corner"
    assert a1["price"] == pytest.approx(2.00) and stores["store-b2"]["price"] == pytest.approx(2.20)
    # lost sales: units an in-stock hour x out-of-stock hours x price
    cola_oos = sum(data.empty_minutes(data.SHOPS[0], data.COLA, d) for d in range(10)) * 3 / 60
    lemon_oos = sum(data.empty_minutes(data.SHOPS[0], data.LEMON, d) for d in range(10)) * 3 / 60
    assert a1["oos_hours"] == pytest.approx(cola_oos + lemon_oos)
    assert a1["lost_sales"] == pytest.approx((3 * cola_oos + 2 * lemon_oos) * 2.00, rel=0.01)
    assert a1["share_of_shelf"] == pytest.approx(5 / 9) and a1["shelf_level"] == 1
    assert stores["store-b2"]["share_of_shelf"] == pytest.approx(1.0)
    # ranked by availability: a1 best, b2 worst; by lost sales: the same order here
    assert [s["store"] for s in body["stores"]] == ["store-a1", "store-a2", "store-b1", "store-b2"]
    assert [s["rank"] for s in body["stores"]] == [1, 2, 3, 4]
    by_loss = client.get("/api/brands/Fizz/stores?sort=lost_sales").json()["stores"]
    assert by_loss[0]["store"] == "store-a1" and by_loss[-1]["store"] == "store-b2"
    totals = body["totals"]
    assert totals["stores"] == 4 and totals["facings"] == 20
    assert totals["units"] == pytest.approx(sum(s["units"] for s in stores.values()))
    assert totals["osa"] == pytest.approx(sum(expected_osa(s, fizz) for s in stores) / 4)


def test_a_brand_sees_its_trend_by_week_and_day_and_by_region(hq: Hq) -> None:
    client = hq.client("brand:Fizz")
    weeks = client.get("/api/brands/Fizz/trend").json()
    assert weeks["step"] == "week"
    assert [p["period"] for p in weeks["points"]] == ["2026-11-16", "2026-11-23"]
    days = client.get("/api/brands/Fizz/trend?step=day").json()["points"]
    assert len(days) == data.DAYS
    total = client.get("/api/brands/Fizz/stores").json()["totals"]
    for points in (weeks["points"], days):
        assert sum(p["units"] for p in points) == pytest.approx(total["units"])
        assert sum(p["lost_sales"] for p in points) == pytest.approx(total["lost_sales"])
    regions = client.get("/api/brands/Fizz/regions").json()["regions"]
    assert [(r["region"], r["stores"]) for r in regions] == [("north", 2), ("south", 2)]
    north = next(r for r in regions if r["region"] == "north")
    north_stores = client.get("/api/brands/Fizz/stores").json()["stores"]
    assert north["revenue"] == pytest.approx(
        sum(s["revenue"] for s in north_stores if s["store"] in NORTH)
    )
    narrow = client.get("/api/brands/Fizz/stores?since=2026-11-23&until=2026-11-25").json()
    assert narrow["since"] == "2026-11-23"
    assert narrow["totals"]["units"] == pytest.approx(weeks["points"][1]["units"])


def test_a_brand_sees_each_product_in_each_store(hq: Hq) -> None:
    products = hq.client("brand:Fizz").get("/api/brands/Fizz/products").json()["products"]
    assert {(p["sku"], p["store"]) for p in products} == {
        (p.sku, s.id) for p in (data.COLA, data.LEMON) for s in data.SHOPS
    }
    cola_a1 = next(p for p in products if p["sku"] == data.COLA.sku and p["store"] == "store-a1")
    assert cola_a1["name"] == "Fizz Cola 1.5L" and cola_a1["facings"] == 3
    assert cola_a1["osa"] == pytest.approx(expected_osa("store-a1", [data.COLA]))


def test_exports_hold_the_rows_the_pages_show(hq: Hq) -> None:
    client = hq.client("brand:Fizz")
    stores = client.get("/api/brands/Fizz/export.csv").text
    rows = list(csv.DictReader(io.StringIO(stores)))
    assert len(rows) == len(data.SHOPS) * data.DAYS
    assert {r["brand"] for r in rows} == {"Fizz"}
    units = sum(float(r["units"]) for r in rows)
    total = client.get("/api/brands/Fizz/stores").json()["totals"]
    assert units == pytest.approx(total["units"])
    parquet = client.get("/api/brands/Fizz/export.parquet?level=sku")
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    assert "shelfsense-Fizz-sku.parquet" in parquet.headers["content-disposition"]
    frame = pd.read_parquet(io.BytesIO(parquet.content))
    assert len(frame) == 2 * len(data.SHOPS) * data.DAYS
    assert set(frame["sku"]) == {data.COLA.sku, data.LEMON.sku}
    assert frame["revenue"].sum() == pytest.approx(total["revenue"])
    assert {"msg_id", "shard"}.isdisjoint(frame.columns)


# ---- the isolation walk --------------------------------------------------------------------


def test_a_brand_token_on_every_get_route_reveals_nothing_of_another_brand(hq: Hq) -> None:
    admin = hq.client("admin")
    brand_urls = [url for path in get_paths(hq.app) for url in requests_for(path, data.CRUNCH)]
    crunch_urls = [u for u in brand_urls if "/brands/Crunch/" in u]
    chain_urls = [
        u for p in get_paths(hq.app) if p.startswith("/api/chain") for u in requests_for(p, "")
    ]
    own_urls = [u.replace("/Crunch/", "/Fizz/") for u in crunch_urls]
    own = numbers_of(admin, own_urls)
    foreign = (numbers_of(admin, crunch_urls) | numbers_of(admin, chain_urls)) - own
    assert {round(data.CRUNCH_PRICE, 6)} <= foreign  # the walk has something to find
    words = data.foreign_words(data.FIZZ)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)

    brand = hq.client("brand:Fizz")
    leaks, walked = [], 0
    for path in get_paths(hq.app):
        for url in requests_for(path, data.FIZZ):
            response = brand.get(url)
            assert response.status_code in (200, 403), (url, response.status_code)
            walked += 1
            texts, numbers = texts_and_numbers(response)
            named = {m.group(0) for t in texts for m in pattern.finditer(t)}
            figures = {round(n, 6) for n in numbers} & foreign
            if named or figures:
                leaks.append(f"GET {url}: names {sorted(named)}, figures {sorted(figures)}")
    assert walked >= len(get_paths(hq.app))
    assert not leaks, "\n".join(leaks)


def test_a_brand_cannot_ask_for_another_brand(hq: Hq) -> None:
    brand = hq.client("brand:Fizz")
    for path in get_paths(hq.app):
        if "{brand}" not in path:
            continue
        for url in requests_for(path, data.CRUNCH) + requests_for(path, "crunch"):
            response = brand.get(url)
            assert response.status_code == 403, url
            assert "runch" not in response.text.replace(url, "")
    assert brand.get("/api/brands").json() == {"brands": ["Fizz"]}


# ---- merchandisers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "stores"),
    [
        ("merchandiser:chain:Fresh Corner", CHAIN_A),
        ("merchandiser:chain:fresh corner", CHAIN_A),
        ("merchandiser:region:north", NORTH),
        ("merchandiser", {s.id for s in data.SHOPS}),
    ],
)
def test_a_scoped_merchandiser_sees_only_its_stores(hq: Hq, role: str, stores: set[str]) -> None:
    client = hq.client(role)
    others = {s.id for s in data.SHOPS} - stores
    assert {s["store"] for s in client.get("/api/stores").json()["stores"]} == stores
    trend = client.get("/api/chain/trend?step=week").json()
    assert {s["store"] for s in trend["stores"]} == stores
    worst = client.get("/api/chain/worst-stores").json()["stores"]
    assert {s["store"] for s in worst} == stores
    fizz = client.get("/api/brands/Fizz/stores").json()
    assert {s["store"] for s in fizz["stores"]} == stores
    export = client.get("/api/brands/Fizz/export.csv").text
    assert {r["store"] for r in csv.DictReader(io.StringIO(export))} == stores
    offline = client.get("/api/devices/offline").json()["stores"]
    assert {s["store"] for s in offline} <= stores
    for path in get_paths(hq.app):
        for url in requests_for(path, data.FIZZ):
            text = client.get(url).text
            assert not [o for o in others if o in text], f"{role}: GET {url} names {others}"


def test_a_scoped_merchandiser_asking_outside_its_scope_is_refused(hq: Hq) -> None:
    client = hq.client("merchandiser:chain:Fresh Corner")
    outside = client.get("/api/chain/trend?chain=Daily Market")
    assert outside.status_code == 403 and "chain Fresh Corner only" in outside.json()["detail"]
    assert client.get("/api/chain/worst-stores?store=store-b1").status_code == 403
    assert client.get("/api/brands/Fizz/stores?store=store-b1").status_code == 403
    inside = client.get("/api/chain/worst-stores?region=north").json()["stores"]
    assert [s["store"] for s in inside] == ["store-a1"]  # Fresh Corner and north


def test_chain_figures_worst_stores_and_skus(hq: Hq) -> None:
    client = hq.client("merchandiser")
    worst = client.get("/api/chain/worst-stores").json()["stores"]
    assert worst[0]["store"] == "store-b2" and worst[0]["days"] == data.DAYS
    compliances = [s["compliance"] for s in worst]
    assert compliances == sorted(compliances)
    skus = client.get("/api/chain/worst-skus?limit=2").json()["skus"]
    assert len(skus) == 2
    assert skus[0]["lost_sales"] >= skus[1]["lost_sales"]
    assert {s["sku"] for s in skus} <= {data.COLA.sku, data.LEMON.sku, data.WAVES.sku}
    waves = client.get("/api/chain/worst-skus").json()["skus"]
    waves_row = next(s for s in waves if s["sku"] == data.WAVES.sku)
    assert waves_row["name"] == "Salty Waves 150g" and waves_row["stores"] == 3
    days = client.get("/api/chain/trend?step=day&store=store-a1").json()
    assert days["periods"][0] == "2026-11-16" and len(days["periods"]) == data.DAYS
    assert [s["store"] for s in days["stores"]] == ["store-a1"]
    assert days["totals"]["osa"] == pytest.approx(
        expected_osa("store-a1", [data.COLA, data.LEMON, data.WAVES])
    )


def test_devices_offline_names_quiet_cameras_and_uplinks(hq: Hq) -> None:
    body = hq.client("admin").get("/api/devices/offline?minutes=30").json()
    problems = {
        s["store"]: {c["camera"]: c["reasons"] for c in s["cameras"]} for s in body["stores"]
    }
    assert problems == {
        "store-a1": {"cam-2": ["not seen"]},
        "store-a2": {"cam-1": ["not seen", "uplink"]},
        "store-b1": {"cam-1": ["offline", "not seen"]},
    }
    uplinks = {s["store"]: s["uplink_quiet"] for s in body["stores"]}
    assert uplinks == {"store-a1": False, "store-a2": True, "store-b1": False}
    relaxed = hq.client("admin").get("/api/devices/offline?minutes=600").json()["stores"]
    assert {s["store"]: [c["reasons"] for c in s["cameras"]] for s in relaxed} == {
        "store-b1": [["offline"]]
    }


# ---- sign-in, pages, refresh ---------------------------------------------------------------


def test_sign_in_is_the_store_gateways_with_its_cookie_and_origin_check(hq: Hq) -> None:
    name, password, _ = make_user(hq.db, "brand:Fizz")
    browser = TestClient(hq.app, base_url="http://hq.test")
    assert browser.get("/brand", follow_redirects=False).headers["location"] == (
        "/login?next=/brand"
    )
    assert "Sign in" in browser.get("/login").text
    signed = browser.post("/api/auth/login", json={"name": name, "password": password})
    assert signed.status_code == 200 and signed.json()["brand"] == "Fizz"
    assert browser.get("/brand").status_code == 200
    assert browser.get("/chain", follow_redirects=False).headers["location"] == "/brand"
    assert browser.get("/api/brands/Fizz/stores").status_code == 200
    other_site = browser.post("/api/auth/logout", headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 403
    assert browser.post("/api/auth/logout", headers={"Origin": "http://hq.test"}).status_code == 204
    assert browser.get("/api/brands/Fizz/stores").status_code == 401


@pytest.mark.parametrize(
    ("role", "status", "home"),
    [
        ("admin", 303, "/chain"),
        ("merchandiser:region:north", 303, "/chain"),
        ("brand:Fizz", 303, "/brand"),
        ("staff:store-a1", 403, None),
        ("installer", 403, None),
    ],
)
def test_each_role_lands_on_its_page(hq: Hq, role: str, status: int, home: str | None) -> None:
    response = hq.client(role).get("/", follow_redirects=False)
    assert response.status_code == status
    assert response.headers.get("location") == home
    if status == 403:
        assert "No head-office pages" in response.text


def test_the_app_reads_a_new_refresh_without_a_restart(hq: Hq, tmp_path: Path) -> None:
    root = tmp_path / "hq"
    shutil.copytree(hq.root, root)
    app = create_hq_app(root, hq.db)
    admin = TestClient(app, headers=bearer(make_user(hq.db, "admin")[2]))
    assert admin.get("/api/brands").json()["brands"] == ["Crunch", "Fizz"]
    at = datetime(2026, 11, 26, 9, tzinfo=UTC)
    slot = SlotHour(row=3, slot=1, sku="70000000000017", brand="Bubbly", minutes={"stocked": 60})
    body = HourlyRollup(camera="cam-1", hour=at, compliance=1.0, slots=[slot])
    store = HqStore(root)
    store.write([envelope("store-b2", Kind.ROLLUP, f"cam-1:{at.isoformat()}", body, at=at)])
    store.close()
    analytics.refresh(root, analytics.EngineSettings(workers=1))
    assert admin.get("/api/brands").json()["brands"] == ["Bubbly", "Crunch", "Fizz"]
    assert admin.get("/api/brands/Bubbly/stores").json()["until"] == at.date().isoformat()


def test_before_the_first_refresh_every_route_answers_empty(hq: Hq, tmp_path: Path) -> None:
    app = create_hq_app(tmp_path / "empty", hq.db)
    assert TestClient(app).get("/api/health").json()["results_at"] is None
    for role in ("admin", "brand:Fizz", "merchandiser:chain:Fresh Corner"):
        client = TestClient(app, headers=bearer(make_user(hq.db, role)[2]))
        for path in get_paths(app):
            for url in requests_for(path, data.FIZZ):
                response = client.get(url)
                assert response.status_code in (200, 403), (role, url, response.text)
                if response.status_code == 200 and "json" in response.headers["content-type"]:
                    body = response.json()
                    lists = [v for v in body.values() if isinstance(v, list)]
                    assert all(v == [] for v in lists), (role, url, response.text)
                    assert body.get("totals") is None, (role, url, response.text)
                elif response.status_code == 200:
                    _, numbers = texts_and_numbers(response)
                    assert numbers == [], (role, url)


def test_the_chain_trend_draws_the_lowest_stores_one_by_one(hq: Hq) -> None:
    trend = hq.client("admin").get("/api/chain/trend?lines=1").json()
    worst = hq.client("admin").get("/api/chain/worst-stores?limit=1").json()["stores"]
    assert trend["stores_total"] == len(data.SHOPS)
    assert [s["store"] for s in trend["stores"]] == [worst[0]["store"]] == ["store-b2"]
    assert len(trend["overall"]) == len(trend["periods"]) == data.DAYS
