"""Row scoping, route by route: staff of store-1 see store-1's rows and are refused
store-2's; brand Acme sees its own products' rows, and what names Bolt is cut or hidden.
The data: `tests.support.two_brand_store`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support import two_brand_store as shop
from tests.support.auth_support import admin_client

NORTH, SOUTH = shop.STORES["store-1"], shop.STORES["store-2"]
ACME_SKUS = {p.gtin for p in shop.of_brand(shop.ACME)}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path)
    database.open()
    shop.fill(database)
    yield database
    database.close()


@pytest.fixture
def as_role(db: Database):
    app = create_app(db)

    def client(role: str) -> TestClient:
        return admin_client(app, role)

    return client


def test_staff_see_their_own_store_only(as_role) -> None:
    staff = as_role("staff:store-1")
    assert {c["store"] for c in staff.get("/api/cameras").json()} == {"store-1"}
    events = staff.get("/api/events").json()
    assert events and {e["store"] for e in events} == {"store-1"}
    advice = staff.get("/api/advice").json()
    assert len(advice) == 4 and {a["store"] for a in advice} == {"store-1"}
    sales = staff.get("/api/pos/sales", params={"limit": 1000}).json()
    assert len(sales) == 12 and {s["store"] for s in sales} == {"store-1"}
    assert staff.get(f"/api/layouts/store-1/{NORTH}").status_code == 200
    assert staff.get(f"/api/cameras/store-1/{NORTH}/compliance").json()["score"] is not None


@pytest.mark.parametrize(
    "path",
    [
        f"/api/cameras/store-2/{SOUTH}",
        f"/api/cameras/store-2/{SOUTH}/compliance",
        f"/api/layouts/store-2/{SOUTH}",
        "/api/events?store=store-2",
        "/api/advice?store=store-2",
        "/api/pos/sales?store=store-2",
        f"/api/velocity?store=store-2&sku={shop.ACME_OATS.gtin}",
    ],
)
def test_staff_asking_for_another_store_are_refused(as_role, path: str) -> None:
    response = as_role("staff:store-1").get(path)
    assert response.status_code == 403
    assert "store-1 only" in response.json()["detail"]


def test_staff_cannot_see_or_act_on_another_stores_advice(as_role, db: Database) -> None:
    other = shop.advice_ids(db)[("store-2", "restock", shop.ACME)]
    staff = as_role("staff:store-1")
    assert staff.get(f"/api/advice/{other}").status_code == 404
    assert staff.post(f"/api/advice/{other}/acknowledge").status_code == 404
    assert staff.post(f"/api/advice/{other}/dismiss", json={"reason": "x"}).status_code == 404
    own = shop.advice_ids(db)[("store-1", "restock", shop.ACME)]
    assert staff.post(f"/api/advice/{own}/acknowledge").json()["status"] == "acknowledged"


def test_staff_send_their_own_stores_sales_only(as_role) -> None:
    def line(n: int, store: str) -> dict:
        return {
            "id": f"till-{n}",
            "time": "2026-03-02T10:00:00+00:00",
            "store": store,
            "sku": shop.ACME_OATS.gtin,
            "quantity": 1,
            "unit_price": "1.00",
        }

    report = as_role("staff:store-1").post(
        "/api/pos/sales", json={"sales": [line(1, "store-1"), line(2, "store-2")]}
    )
    body = report.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert body["errors"][0]["index"] == 1 and body["errors"][0]["field"] == "store"
    assert "store-1 only, not store-2" in body["errors"][0]["message"]


def test_a_brand_sees_its_own_products_in_every_store(as_role) -> None:
    acme = as_role("brand:Acme")
    catalogue = acme.get("/api/catalogue").json()
    assert {p["gtin"] for p in catalogue} == ACME_SKUS
    assert acme.get("/api/catalogue", params={"brand": "bolt"}).json() == []
    assert acme.get("/api/catalogue", params={"brand": "ACME"}).json() == catalogue
    assert acme.get(f"/api/catalogue/{shop.BOLT_COLA.gtin}").status_code == 404

    sales = acme.get("/api/pos/sales", params={"limit": 1000}).json()
    assert len(sales) == 12 and {s["sku"] for s in sales} == ACME_SKUS
    assert {s["store"] for s in sales} == {"store-1", "store-2"}

    events = acme.get("/api/events").json()
    assert {e["sku"] for e in events} == ACME_SKUS
    wrong = [e for e in events if e["type"] == "wrong_product"]
    assert wrong and all("looks_like_sku" not in e["detail"] for e in wrong)
    assert all(e["detail"].get("appearance") == 0.4 for e in wrong)


def test_a_brand_sees_its_own_slots_score_and_share_of_shelf(as_role) -> None:
    acme = as_role("brand:Acme")
    layout = acme.get(f"/api/layouts/store-1/{NORTH}").json()["layout"]
    assert [len(r["slots"]) for r in layout["rows"]] == [1, 1]
    assert {s["sku"] for r in layout["rows"] for s in r["slots"]} == ACME_SKUS

    camera = acme.get(f"/api/cameras/store-2/{SOUTH}").json()
    assert {s["sku"] for s in camera["state"]["slots"]} == ACME_SKUS
    assert camera["score"] is None and camera["state"]["score"] is None

    compliance = acme.get(f"/api/cameras/store-1/{NORTH}/compliance").json()
    full = as_role("merchandiser").get(f"/api/cameras/store-1/{NORTH}/compliance").json()
    assert [b["brand"] for b in full["brands"]] == ["Acme", "Bolt"]
    assert compliance["brands"] == [full["brands"][0]]
    # Acme's slots: oats stocked (1 of 1), rice wrong product (0 of 1).
    assert (compliance["expected_facings"], compliance["score"]) == (2, 0.5)
    assert compliance["brands"][0]["facings_share"] == pytest.approx(2 / 5)


def test_advice_naming_another_brand_is_hidden_from_a_brand(as_role, db: Database) -> None:
    ids = shop.advice_ids(db)
    acme = as_role("brand:Acme")
    advice = acme.get("/api/advice").json()
    # Restock of Acme Oats in both stores; the facings move (from Bolt Crisps) and the
    # wrong product (Bolt Cola's GTIN) name Bolt and are hidden.
    assert sorted((a["store"], a["kind"]) for a in advice) == [
        ("store-1", "restock"),
        ("store-2", "restock"),
    ]
    assert acme.get(f"/api/advice/{ids[('store-1', 'facings', shop.ACME)]}").status_code == 404
    assert acme.get(f"/api/advice/{ids[('store-1', 'restock', shop.BOLT)]}").status_code == 404
    assert (
        acme.post(f"/api/advice/{ids[('store-1', 'restock', shop.ACME)]}/acknowledge").status_code
        == 403
    )
    # Everyone else sees all of it.
    assert len(as_role("merchandiser").get("/api/advice").json()) == 8


def test_a_brand_gets_velocity_of_its_own_products_only(as_role) -> None:
    acme = as_role("brand:Acme")
    own = acme.get("/api/velocity", params={"store": "store-2", "sku": shop.ACME_RICE.gtin})
    assert own.status_code == 200 and own.json()["units"] >= 0
    other = acme.get("/api/velocity", params={"store": "store-2", "sku": shop.BOLT_COLA.gtin})
    assert other.status_code == 403


def test_a_brand_is_matched_case_insensitively(as_role) -> None:
    acme = as_role("brand:ACME")
    assert {p["gtin"] for p in acme.get("/api/catalogue").json()} == ACME_SKUS
    assert acme.get("/api/auth/me").json()["brand"] == "ACME"


def test_a_brand_that_sells_nothing_here_sees_nothing(as_role) -> None:
    ghost = as_role("brand:Ghost")
    for path in ("/api/catalogue", "/api/events", "/api/advice", "/api/pos/sales"):
        assert ghost.get(path).json() == [], path
    camera = ghost.get(f"/api/cameras/store-1/{NORTH}").json()
    assert camera["state"]["slots"] == []
