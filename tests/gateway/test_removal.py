"""An admin can delete a camera, a layout and a store, and nothing of them stays behind.

The database holds two stores with two brands (tests/support/two_brand_store): state,
slot log, events, health, layouts, advice and sales. Each delete is checked through the
API (pickers, Devices, reports, advice, velocity) and in the tables themselves.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.storage.connection import Database
from gateway.storage.removal import CAMERA_TABLES, KEPT_TABLES, STORE_TABLES
from gateway.web.app import create_app
from tests.support import two_brand_store as shop
from tests.support.auth_support import admin_client

STORE1_CAMERA = shop.STORES["store-1"]
STORE2_CAMERA = shop.STORES["store-2"]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path)
    database.open()
    shop.fill(database)
    yield database
    database.close()


@pytest.fixture
def api(db: Database) -> TestClient:
    return admin_client(create_app(db))


def rows_of(db: Database, store: str, camera: str | None = None) -> dict[str, int]:
    """Rows per table that name the store (and camera), counted in the file itself."""
    found = {}
    with sqlite3.connect(db.path) as conn:
        for table in tables_with_store(conn):
            columns = columns_of(conn, table)
            sql, params = f"SELECT count(*) FROM {table} WHERE store = ?", [store]
            if camera is not None:
                if "camera" not in columns:
                    continue
                sql += " AND camera = ?"
                params.append(camera)
            found[table] = conn.execute(sql, params).fetchone()[0]
    return {t: n for t, n in found.items() if n}


def tables_with_store(conn: sqlite3.Connection) -> list[str]:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return [t for t in tables if "store" in columns_of(conn, t)]


def columns_of(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def test_every_table_with_a_store_column_is_classified(db: Database) -> None:
    """A new table keyed by store must say whether a delete takes its rows."""
    with sqlite3.connect(db.path) as conn:
        tables = set(tables_with_store(conn))
        for table in CAMERA_TABLES:
            assert "camera" in columns_of(conn, table), table
    assert tables == set(CAMERA_TABLES) | set(STORE_TABLES) | set(KEPT_TABLES)


def test_deleting_a_camera_removes_every_row_of_it(db: Database, api: TestClient) -> None:
    before = rows_of(db, "store-1", STORE1_CAMERA)
    assert {"cameras", "camera_state", "slot_states", "events", "layouts", "advice"} <= set(before)
    sales_before = rows_of(db, "store-1")["sales"]
    assert STORE1_CAMERA in api.get("/api/reports/devices").text

    response = api.delete(f"/api/cameras/store-1/{STORE1_CAMERA}")
    assert response.status_code == 200, response.text
    assert response.json()["removed"] == before

    assert rows_of(db, "store-1", STORE1_CAMERA) == {}
    assert rows_of(db, "store-1")["sales"] == sales_before  # the store's sales stay
    assert rows_of(db, "store-2", STORE2_CAMERA) != {}  # the other store is untouched
    stores = {(c["store"], c["camera"]) for c in api.get("/api/cameras").json()}
    assert stores == {("store-2", STORE2_CAMERA)}
    devices = api.get("/api/reports/devices").text
    assert STORE1_CAMERA not in devices
    assert all(a["camera"] != STORE1_CAMERA for a in api.get("/api/advice").json())
    assert api.get(f"/api/cameras/store-1/{STORE1_CAMERA}").status_code == 404
    again = api.delete(f"/api/cameras/store-1/{STORE1_CAMERA}")
    assert again.status_code == 404 and STORE1_CAMERA in again.json()["detail"]


def test_deleting_a_layout_keeps_the_camera_and_dismisses_its_advice(
    db: Database, api: TestClient
) -> None:
    open_before = [
        a
        for a in api.get("/api/advice", params={"store": "store-1"}).json()
        if a["status"] == "open"
    ]
    assert open_before
    response = api.delete(f"/api/layouts/store-1/{STORE1_CAMERA}")
    assert response.status_code == 200, response.text
    assert api.get(f"/api/layouts/store-1/{STORE1_CAMERA}").status_code == 404
    camera = api.get(f"/api/cameras/store-1/{STORE1_CAMERA}").json()
    assert camera["configured_layout_version"] is None
    assert camera["state"] is not None  # its history stays
    for item in open_before:
        record = api.get(f"/api/advice/{item['id']}").json()
        assert record["status"] == "dismissed"
        assert record["dismiss_reason"] == "layout deleted"
    assert api.delete(f"/api/layouts/store-1/{STORE1_CAMERA}").status_code == 404


def test_deleting_a_store_leaves_nothing_of_it(db: Database, api: TestClient) -> None:
    line = {"store": "store-2", "gtin": "4006381333931", "time": "2026-11-30", "quantity": 4}
    assert api.post("/api/stock/counts", json={"counts": [line]}).status_code == 200
    assert api.post("/api/stock/receipts", json={"receipts": [line]}).status_code == 200
    assert rows_of(db, "store-2")["stock_counts"] == rows_of(db, "store-2")["goods_receipts"] == 1
    assert "store-2" in api.get("/api/reports/brand", params={"brand": shop.ACME}).text
    response = api.delete("/api/stores/store-2")
    assert response.status_code == 200, response.text
    assert set(response.json()["removed"]) >= {"cameras", "layouts", "sales", "advice"}
    assert rows_of(db, "store-2") == {}
    assert {c["store"] for c in api.get("/api/cameras").json()} == {"store-1"}
    assert api.get("/api/pos/sales", params={"store": "store-2"}).json() == []
    brand = api.get("/api/reports/brand", params={"brand": shop.ACME}).text
    assert "store-2" not in brand
    assert rows_of(db, "store-1")  # the other store is untouched
    assert api.delete("/api/stores/store-2").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        f"/api/cameras/store-1/{STORE1_CAMERA}",
        f"/api/layouts/store-1/{STORE1_CAMERA}",
        "/api/stores/store-1",
    ],
)
@pytest.mark.parametrize("role", ["installer", "staff:store-1", "merchandiser", "brand:Acme"])
def test_only_an_admin_deletes(db: Database, path: str, role: str) -> None:
    client = admin_client(create_app(db), role=role)
    assert client.delete(path).status_code == 403
    assert rows_of(db, "store-1", STORE1_CAMERA)
