"""Layouts and planograms cannot invent a store or camera, nor re-brand a known product.

A typo in a store or camera id used to make a phantom store that showed up in every
picker, in Devices and in a brand's audit; a planogram line with another brand moved a
product's sales into that brand's audit. Both are refused now, naming what is wrong;
creating a new camera is an explicit `?create=true`, and changing a product's brand is
an admin's catalogue edit, logged with who, when, the old and the new value.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from edge.layout import Layout, RowSpec, SlotSpec
from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support.auth_support import admin_client
from tests.support.gateway_store import CAMERA, STORE, sample_layout

OATS = "4006381333931"
COLA = "5000112000016"


def layout_with(sku: str, name: str | None, brand: str | None) -> Layout:
    return Layout(
        rows=[
            RowSpec(
                index=0,
                y0=0.0,
                y1=1.0,
                slots=[
                    SlotSpec(index=0, x0=0.0, x1=0.5, sku=COLA, name="Cola 330ml", brand="Bolt"),
                    SlotSpec(index=1, x0=0.5, x1=1.0, sku=sku, name=name, brand=brand),
                ],
            )
        ]
    )


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path)
    database.open()
    with database.transaction() as tx:
        tx.touch_camera(STORE, CAMERA, datetime.now(UTC))
        tx.touch_camera(STORE, "cam-2", datetime.now(UTC))
    yield database
    database.close()


@pytest.fixture
def api(db: Database) -> TestClient:
    client = admin_client(create_app(db))
    products = [
        {"gtin": OATS, "name": "Acme Oats 500g", "brand": "Acme"},
        {"gtin": COLA, "name": "Cola 330ml", "brand": "Bolt"},
    ]
    assert client.post("/api/catalogue", json={"products": products}).status_code == 200
    return client


def stores_in_pickers(api: TestClient) -> set[str]:
    return {c["store"] for c in api.get("/api/cameras").json()}


def test_a_layout_for_an_unknown_store_is_refused_naming_it(api: TestClient) -> None:
    body = sample_layout().model_dump(mode="json")
    response = api.put("/api/layouts/stor-1/cam-1", json=body)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert "stor-1" in detail and "store-1" in detail and "create=true" in detail
    assert stores_in_pickers(api) == {STORE}
    assert api.get("/api/layouts/stor-1/cam-1").status_code == 404


def test_a_layout_for_an_unknown_camera_of_a_known_store_is_refused(api: TestClient) -> None:
    response = api.put(f"/api/layouts/{STORE}/cam-9", json=sample_layout().model_dump(mode="json"))
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "cam-9" in detail and CAMERA in detail and "cam-2" in detail
    assert {c["camera"] for c in api.get("/api/cameras").json()} == {CAMERA, "cam-2"}


def test_a_planogram_for_an_unknown_camera_is_refused(api: TestClient) -> None:
    csv = f"row,slot,sku,name,brand\n0,0,{OATS},Acme Oats 500g,Acme\n"
    response = api.post(
        "/api/layouts/store-9/cam-1/planogram",
        content=csv,
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 400
    assert "store-9" in response.json()["detail"]
    assert stores_in_pickers(api) == {STORE}


def test_create_true_adds_the_camera_explicitly(api: TestClient) -> None:
    body = sample_layout().model_dump(mode="json")
    response = api.put("/api/layouts/store-2/cam-1", json=body, params={"create": "true"})
    assert response.status_code == 200, response.text
    assert stores_in_pickers(api) == {STORE, "store-2"}
    csv = f"row,slot,sku,name,brand\n0,0,{OATS},Acme Oats 500g,Acme\n"
    planogram = api.post(
        "/api/layouts/store-3/cam-1/planogram",
        content=csv,
        headers={"Content-Type": "text/csv"},
        params={"create": "true"},
    )
    assert planogram.status_code == 200, planogram.text
    assert stores_in_pickers(api) == {STORE, "store-2", "store-3"}


def test_a_layout_cannot_re_brand_a_known_gtin(api: TestClient) -> None:
    body = layout_with(OATS, "Acme Oats 500g", "Bolt").model_dump(mode="json")
    response = api.put(f"/api/layouts/{STORE}/{CAMERA}", json=body)
    assert response.status_code == 409, response.text
    detail = response.json()["detail"]
    assert "row 0, slot 1" in detail and OATS in detail
    assert "'Acme'" in detail and "'Bolt'" in detail
    assert api.get(f"/api/layouts/{STORE}/{CAMERA}").status_code == 404
    assert api.get(f"/api/catalogue/{OATS}").json()["brand"] == "Acme"


def test_a_planogram_cannot_rename_a_known_gtin(api: TestClient) -> None:
    csv = f"row,slot,sku,name,brand\n0,0,{OATS},Bolt Oats,Acme\n"
    response = api.post(
        f"/api/layouts/{STORE}/{CAMERA}/planogram",
        content=csv,
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "'Acme Oats 500g'" in detail and "'Bolt Oats'" in detail and "row 0, slot 0" in detail


def test_the_same_product_in_other_words_is_no_conflict(api: TestClient) -> None:
    """Case and spacing are not a different brand; a slot that names no brand agrees."""
    for name, brand in (("acme  oats 500G", "ACME"), (None, None), ("Acme Oats 500g", None)):
        body = layout_with(OATS, name, brand).model_dump(mode="json")
        assert api.put(f"/api/layouts/{STORE}/{CAMERA}", json=body).status_code == 200


def test_one_layout_cannot_give_one_gtin_two_brands(api: TestClient) -> None:
    new = "4006381333948"
    layout = Layout(
        rows=[
            RowSpec(
                index=0,
                y0=0.0,
                y1=1.0,
                slots=[
                    SlotSpec(index=0, x0=0.0, x1=0.5, sku=new, name="Pen", brand="Acme"),
                    SlotSpec(index=1, x0=0.5, x1=1.0, sku=new, name="Pen", brand="Bolt"),
                ],
            )
        ]
    )
    response = api.put(f"/api/layouts/{STORE}/{CAMERA}", json=layout.model_dump(mode="json"))
    assert response.status_code == 409
    assert "row 0, slot 0" in response.json()["detail"]
    assert "row 0, slot 1" in response.json()["detail"]


def test_changing_a_brand_is_a_logged_admin_edit(db: Database, api: TestClient) -> None:
    response = api.patch(f"/api/catalogue/{OATS}", json={"brand": "Bolt"})
    assert response.status_code == 200, response.text
    assert response.json()["brand"] == "Bolt"
    changes = api.get(f"/api/catalogue/{OATS}/changes").json()
    assert len(changes) == 1
    change = changes[0]
    assert (change["field"], change["old"], change["new"]) == ("brand", "Acme", "Bolt")
    assert change["changed_by"].startswith("test-admin") and change["changed_at"]
    assert change["source"] == "api"
    # an import that changes the name is logged too, one row per changed field
    api.post("/api/catalogue", json={"products": [{"gtin": OATS, "name": "Oats", "brand": "Bolt"}]})
    fields = [c["field"] for c in api.get(f"/api/catalogue/{OATS}/changes").json()]
    assert fields == ["name", "brand"]  # newest first
    # now the layout may say Bolt
    body = layout_with(OATS, "Oats", "Bolt").model_dump(mode="json")
    assert api.put(f"/api/layouts/{STORE}/{CAMERA}", json=body).status_code == 200

    staff = admin_client(create_app(db), role=f"staff:{STORE}")
    assert staff.patch(f"/api/catalogue/{OATS}", json={"brand": "Acme"}).status_code == 403
    assert api.patch("/api/catalogue/4006381333948", json={"brand": "X"}).status_code == 404
    assert api.patch(f"/api/catalogue/{OATS}", json={"colour": "red"}).status_code == 422
