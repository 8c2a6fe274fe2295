"""The product catalogue: CSV and JSON imports through the API and the CLI, upsert by GTIN,
errors that name the row and field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from edge.layout import with_check_digit
from gateway.cli import main as cli
from gateway.retail.catalogue import products
from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support.auth_support import admin_client
from tests.support.paths import REPO

GTIN_A = with_check_digit("400638133393")
GTIN_B = with_check_digit("500011200001")
GTIN_8 = with_check_digit("7610400")
EXAMPLE = REPO / "firmware_config" / "catalogue.example.csv"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path / "data")
    database.open()
    yield database
    database.close()


@pytest.fixture
def api(db: Database) -> TestClient:
    return admin_client(create_app(db))


def test_products_are_upserted_by_gtin(api: TestClient) -> None:
    first = api.post(
        "/api/catalogue",
        json={
            "products": [
                {"gtin": GTIN_A, "name": "Fineliner", "brand": "Stabilo", "pack_size": "1 pc"},
                {"gtin": GTIN_B, "name": "Cola Zero", "brand": "Coca-Cola"},
            ]
        },
    ).json()
    assert (first["created"], first["updated"], first["unchanged"], first["rejected"]) == (
        2,
        0,
        0,
        0,
    )
    second = api.post(
        "/api/catalogue",
        json={
            "products": [
                {"gtin": GTIN_A, "name": "Fineliner", "brand": "Stabilo", "pack_size": "1 pc"},
                {"gtin": GTIN_B, "name": "Cola Zero", "brand": "Coca-Cola", "category": "Drinks"},
            ]
        },
    ).json()
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 1, 1)
    cola = api.get(f"/api/catalogue/{GTIN_B}").json()
    assert (cola["name"], cola["brand"], cola["category"]) == ("Cola Zero", "Coca-Cola", "Drinks")
    assert api.get(f"/api/catalogue/{GTIN_8}").status_code == 404


def test_bad_products_are_named_and_good_ones_kept(api: TestClient, db: Database) -> None:
    body = api.post(
        "/api/catalogue",
        json={
            "products": [
                {"gtin": GTIN_A, "name": "Fineliner"},
                {"gtin": "4006381333932", "name": "Bad check digit"},
                {"gtin": GTIN_B, "name": "   "},
                {"gtin": GTIN_8, "name": "x" * 201},
            ]
        },
    ).json()
    assert (body["created"], body["rejected"]) == (1, 3)
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "gtin"),
        (2, "name"),
        (3, "name"),
    ]
    assert "valid check digit" in body["errors"][0]["message"]
    assert [p["gtin"] for p in products(db)] == [GTIN_A]


def test_csv_upload_reports_rows_and_an_empty_cell_clears_a_field(api: TestClient) -> None:
    api.post("/api/catalogue", json={"products": [{"gtin": GTIN_B, "name": "C", "brand": "X"}]})
    csv = (
        "gtin,name,brand,category,pack_size\n"
        f"{GTIN_A},Fineliner,Stabilo,Stationery,1 pc\n"
        f"{GTIN_B},Cola Zero,,Soft drinks,6 x 330 ml\n"
        "12345,Nothing,,,\n"
        f"{GTIN_8},,Lindt,,\n"
    )
    body = api.post(
        "/api/catalogue/csv",
        files={"file": ("products.csv", csv.encode(), "text/csv")},
    ).json()
    assert (body["created"], body["updated"], body["rejected"]) == (1, 1, 2)
    assert [e["error"] for e in body["errors"]] == [
        "products.csv row 4: gtin: '12345' is not a GTIN-8/12/13/14 with a valid check digit",
        "products.csv row 5: name: required",
    ]
    cola = api.get(f"/api/catalogue/{GTIN_B}").json()
    assert cola["brand"] is None and cola["pack_size"] == "6 x 330 ml"


def test_catalogue_listing_filters(api: TestClient) -> None:
    api.post(
        "/api/catalogue/csv", content=EXAMPLE.read_bytes(), headers={"content-type": "text/csv"}
    )
    everything = api.get("/api/catalogue").json()
    assert len(everything) == 4
    assert [p["gtin"] for p in everything] == sorted(p["gtin"] for p in everything)
    lindt = api.get("/api/catalogue", params={"brand": "lindt"}).json()
    assert [p["name"] for p in lindt] == ["Chocolate Bar Milk"]
    assert [p["gtin"] for p in api.get("/api/catalogue", params={"q": "ZERO"}).json()] == [GTIN_B]
    assert len(api.get("/api/catalogue", params={"q": "%"}).json()) == 0
    page = api.get("/api/catalogue", params={"limit": 2, "offset": 2}).json()
    assert [p["gtin"] for p in page] == [p["gtin"] for p in everything[2:]]


def test_cli_imports_csv_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("data_dir: data\n")
    as_json = tmp_path / "more.json"
    as_json.write_text(
        json.dumps(
            {"products": [{"gtin": GTIN_A, "name": "Fineliner Red"}, {"gtin": "1", "name": "?"}]}
        )
    )
    assert cli.main(["catalogue", "import", str(EXAMPLE), "--config", str(config)]) == 0
    assert "4 product(s): 4 created, 0 updated, 0 unchanged, 0 rejected" in capsys.readouterr().out
    assert cli.main(["catalogue", "import", str(as_json), "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert "1 updated" in out and "1 rejected" in out
    assert f"{as_json} line 1: gtin: '1' is not a GTIN" in err

    broken = tmp_path / "broken.json"
    broken.write_text('{"products": [')
    assert cli.main(["catalogue", "import", str(broken), "--config", str(config)]) == 1
    assert f"{broken}: line 1, column 15" in capsys.readouterr().err

    db = Database.in_dir(tmp_path / "data")
    db.open()
    try:
        names = {p["gtin"]: p["name"] for p in products(db)}
    finally:
        db.close()
    assert names[GTIN_A] == "Fineliner Red" and len(names) == 4
