"""POS sale lines through the API, CSV (upload and CLI) and the database: validation that
names row and field, idempotence by line id, and good lines kept beside bad ones."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from edge.layout import with_check_digit
from gateway.cli import main as cli
from gateway.retail.pos import SaleLine, parse_sales_csv, sales
from gateway.storage.connection import Database
from gateway.storage.migrate import MIGRATIONS, SCHEMA_VERSION
from gateway.web.app import create_app
from tests.support.auth_support import admin_client
from tests.support.paths import REPO

SKU_A = with_check_digit("400638133393")
SKU_B = with_check_digit("500011200001")
NOW = datetime.now(UTC).replace(microsecond=0)
EXAMPLE_CSV = REPO / "firmware_config" / "pos-sales.example.csv"


def line(line_id: str = "R1-1", **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": line_id,
        "time": (NOW - timedelta(hours=1)).isoformat(),
        "store": "store-1",
        "sku": SKU_A,
        "quantity": 2,
        "unit_price": "1.49",
        "currency": "EUR",
    }
    data.update(changes)
    return data


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path / "data")
    database.open()
    yield database
    database.close()


@pytest.fixture
def api(db: Database) -> TestClient:
    return admin_client(create_app(db))


# ---- the model -----------------------------------------------------------------------


def test_a_sale_line_is_normalised() -> None:
    sale = SaleLine.model_validate(
        line(time="2024-05-03T09:41:07+02:00", unit_price=1.5, currency="eur", quantity="-1")
    )
    assert sale.time == datetime(2024, 5, 3, 7, 41, 7, tzinfo=UTC)
    assert sale.unit_price == Decimal("1.5") and sale.currency == "EUR"
    assert sale.quantity == -1 and sale.revenue == Decimal("-1.5")


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"id": "  "}, "id", "must not be empty"),
        ({"time": "2024-05-03T09:41:07"}, "time", "no UTC offset"),
        ({"time": "yesterday"}, "time", "not an ISO 8601 time ('yesterday')"),
        ({"time": (NOW + timedelta(days=3)).isoformat()}, "time", "in the future"),
        ({"store": "store 1"}, "store", "not a store id ('store 1')"),
        ({"sku": "4006381333932"}, "sku", "not a GTIN-8/12/13/14 with a valid check digit"),
        ({"quantity": "x"}, "quantity", "not an integer ('x')"),
        ({"quantity": 1.5}, "quantity", "not an integer (1.5)"),
        ({"quantity": 0}, "quantity", "must not be 0"),
        ({"quantity": True}, "quantity", "not an integer (True)"),
        ({"unit_price": "-1"}, "unit_price", "must be 0 or more"),
        ({"unit_price": "1,5"}, "unit_price", "not a number ('1,5')"),
        ({"currency": "euro"}, "currency", "not an ISO 4217 code"),
    ],
)
def test_a_bad_field_is_named(
    api: TestClient, changes: dict[str, object], field: str, fragment: str
) -> None:
    body = api.post("/api/pos/sales", json={"sales": [line(**changes)]}).json()
    assert (body["accepted"], body["rejected"]) == (0, 1)
    [error] = body["errors"]
    assert (error["index"], error["field"]) == (0, field)
    assert fragment in error["message"], error["message"]
    assert error["error"] == f"line 0: {field}: {error['message']}"


def test_a_missing_field_is_required(api: TestClient) -> None:
    incomplete = line()
    del incomplete["sku"]
    [error] = api.post("/api/pos/sales", json={"sales": [incomplete]}).json()["errors"]
    assert (error["field"], error["message"]) == ("sku", "required")


# ---- REST batch ----------------------------------------------------------------------


def test_a_batch_keeps_good_lines_and_reports_each_bad_one(api: TestClient, db: Database) -> None:
    batch = [line("R1-1"), line("R1-2", quantity="x"), line("R1-3", sku=SKU_B), "nonsense"]
    body = api.post("/api/pos/sales", json={"sales": batch}).json()
    assert (body["received"], body["accepted"], body["duplicates"], body["rejected"]) == (
        4,
        2,
        0,
        2,
    )
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "quantity"), (3, None)]
    assert "expected an object" in body["errors"][1]["message"]
    assert sorted(s["id"] for s in sales(db)) == ["R1-1", "R1-3"]


def test_the_same_line_twice_is_stored_once(api: TestClient, db: Database) -> None:
    first = api.post("/api/pos/sales", json={"sales": [line("R2-1"), line("R2-2")]}).json()
    again = api.post("/api/pos/sales", json={"sales": [line("R2-1"), line("R2-1")]}).json()
    assert (first["accepted"], first["duplicates"]) == (2, 0)
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 2, 0)
    # The same content written differently is the same line.
    same = line("R2-2", unit_price=1.490, time=(NOW - timedelta(hours=1)).astimezone().isoformat())
    assert api.post("/api/pos/sales", json={"sales": [same]}).json()["duplicates"] == 1
    assert sum(s["quantity"] for s in sales(db)) == 4


def test_a_different_line_under_a_stored_id_is_refused_and_the_stored_one_kept(
    api: TestClient, db: Database
) -> None:
    api.post("/api/pos/sales", json={"sales": [line("R3-1", quantity=2)]})
    body = api.post("/api/pos/sales", json={"sales": [line("R3-1", quantity=3)]}).json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (0, 0, 1)
    [error] = body["errors"]
    assert error["field"] == "id" and error["index"] == 0
    assert "quantity 3 here, 2 stored" in error["message"]
    assert [s["quantity"] for s in sales(db)] == [2]


def test_line_ids_are_unique_per_store(api: TestClient, db: Database) -> None:
    body = api.post(
        "/api/pos/sales", json={"sales": [line("R4-1"), line("R4-1", store="store-2")]}
    ).json()
    assert body["accepted"] == 2
    assert sorted(s["store"] for s in sales(db)) == ["store-1", "store-2"]


def test_sales_are_listed_newest_first_with_filters(api: TestClient) -> None:
    api.post(
        "/api/pos/sales",
        json={
            "sales": [
                line(f"R5-{i}", time=(NOW - timedelta(hours=i)).isoformat(), sku=sku)
                for i, sku in enumerate([SKU_A, SKU_B, SKU_A, SKU_A], start=1)
            ]
        },
    )
    listed = api.get("/api/pos/sales").json()
    assert [s["id"] for s in listed] == ["R5-1", "R5-2", "R5-3", "R5-4"]
    assert listed[0]["revenue"] == "2.98" and listed[0]["unit_price"] == "1.49"
    assert listed[0]["source"] == "api"
    only_a = api.get("/api/pos/sales", params={"sku": SKU_A, "limit": 2}).json()
    assert [s["id"] for s in only_a] == ["R5-1", "R5-3"]
    window = api.get(
        "/api/pos/sales",
        params={
            "since": (NOW - timedelta(hours=3)).isoformat(),
            "until": (NOW - timedelta(hours=1)).isoformat(),
        },
    ).json()
    assert [s["id"] for s in window] == ["R5-2", "R5-3"]
    assert api.get("/api/pos/sales", params={"store": "store-2"}).json() == []
    assert api.get("/api/pos/sales", params={"store": "no such/store"}).status_code == 422


def test_a_batch_that_is_not_a_batch_is_a_422(api: TestClient) -> None:
    assert api.post("/api/pos/sales", json=[line()]).status_code == 422
    assert api.post("/api/pos/sales", json={"sales": "R1"}).status_code == 422


# ---- CSV -----------------------------------------------------------------------------

CSV_WITH_ERRORS = (
    "id,time,store,sku,quantity,unit_price\n"  # row 1
    f"C1,{NOW.isoformat()},store-1,{SKU_A},1,0.99\n"  # row 2
    f"C2,{NOW.isoformat()},store-1,{SKU_A},x,0.99\n"  # row 3: quantity
    "\n"  # row 4: blank, still a row in a spreadsheet
    f"C3,{NOW.isoformat()},store-1,{SKU_B},2,1.99\n"  # row 5
    f"C4,{NOW.isoformat()},store-1,123,2,abc\n"  # row 6: sku and unit_price
    f"C5,{NOW.isoformat()},store-1\n"  # row 7: too few cells
    f'"C6","{NOW.isoformat()}","store-1","{SKU_B}","3","2.50"\n'  # row 8: quoted
)


def test_csv_errors_name_the_spreadsheet_row_and_field_and_good_rows_are_kept(
    api: TestClient, db: Database
) -> None:
    response = api.post(
        "/api/pos/sales/csv",
        params={"filename": "sales.csv"},
        content=CSV_WITH_ERRORS.encode(),
        headers={"content-type": "text/csv"},
    )
    body = response.json()
    assert response.status_code == 200, body
    assert (body["received"], body["accepted"], body["rejected"]) == (6, 3, 3)
    assert [e["error"] for e in body["errors"]] == [
        "sales.csv row 3: quantity: not an integer ('x')",
        "sales.csv row 6: sku: '123' is not a GTIN-8/12/13/14 with a valid check digit",
        "sales.csv row 6: unit_price: not a number ('abc')",
        "sales.csv row 7: expected 6 cells (as in the header), got 3",
    ]
    assert [e["row"] for e in body["errors"]] == [3, 6, 6, 7]
    stored = {s["id"]: s for s in sales(db)}
    assert sorted(stored) == ["C1", "C3", "C6"]
    assert stored["C6"]["quantity"] == 3 and stored["C6"]["source"] == "csv"


def test_a_multipart_upload_is_named_after_its_file(api: TestClient) -> None:
    response = api.post(
        "/api/pos/sales/csv",
        files={"file": ("till-3.csv", CSV_WITH_ERRORS.encode(), "text/csv")},
    )
    body = response.json()
    assert body["accepted"] == 3
    assert body["errors"][0]["error"].startswith("till-3.csv row 3: quantity:")


def test_spreadsheet_exports_are_read_as_they_come() -> None:
    """A byte order mark, ';' separators, CRLF, header case and extra columns."""
    data = (
        "\ufeffID;Time;Store;SKU;Quantity;Unit_Price;Cashier\r\n"
        f"S1;{NOW.isoformat()};store-1;{SKU_A};4;0.5;Anna\r\n"
    ).encode()
    good, errors = parse_sales_csv(data, "export.csv")
    assert errors == []
    [(row, sale)] = good
    assert row == 2 and sale.quantity == 4 and sale.currency is None


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "upload.csv: empty file; expected a header row with id, time"),
        (b"id,time,store,sku,qty,unit_price\n", "upload.csv row 1: missing column(s) quantity"),
        (b"id,id,time,store,sku,quantity,unit_price\n", "column 'id' appears twice"),
        ("id,time\n\xe9".encode("latin-1"), "upload.csv line 2: not UTF-8 text (byte 8)"),
    ],
)
def test_a_csv_that_cannot_be_read_is_a_422_naming_why(
    api: TestClient, data: bytes, fragment: str
) -> None:
    response = api.post("/api/pos/sales/csv", content=data, headers={"content-type": "text/csv"})
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_the_csv_endpoint_refuses_other_content(api: TestClient) -> None:
    response = api.post("/api/pos/sales/csv", json={"sales": []})
    assert response.status_code == 415


def test_the_documented_example_file_imports_cleanly(api: TestClient) -> None:
    response = api.post(
        "/api/pos/sales/csv",
        files={"file": ("pos-sales.example.csv", EXAMPLE_CSV.read_bytes(), "text/csv")},
    )
    body = response.json()
    assert body["rejected"] == 0 and body["accepted"] >= 3, body


# ---- the CLI -------------------------------------------------------------------------


def test_cli_import_reports_rows_keeps_good_ones_and_is_idempotent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("data_dir: data\n")
    sales_csv = tmp_path / "sales.csv"
    sales_csv.write_text(CSV_WITH_ERRORS)

    assert cli.main(["pos", "import", str(sales_csv), "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert f"{sales_csv} row 3: quantity: not an integer ('x')" in err.splitlines()
    assert f"{sales_csv}: 6 line(s): 3 accepted, 0 duplicate(s), 3 rejected" in out

    good = tmp_path / "good.csv"
    good.write_text("\n".join(CSV_WITH_ERRORS.splitlines()[:2]) + "\n")
    assert cli.main(["pos", "import", str(good), "--config", str(config)]) == 0
    assert "1 line(s): 0 accepted, 1 duplicate(s), 0 rejected" in capsys.readouterr().out

    db = Database.in_dir(tmp_path / "data")
    db.open()
    try:
        assert sorted(s["id"] for s in sales(db)) == ["C1", "C3", "C6"]
    finally:
        db.close()


def test_cli_import_of_a_missing_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("data_dir: data\n")
    assert cli.main(["pos", "import", str(tmp_path / "nope.csv"), "-c", str(config)]) == 1
    assert "nope.csv: cannot read" in capsys.readouterr().err


# ---- the schema ----------------------------------------------------------------------


def test_a_version_1_database_gains_the_sales_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(MIGRATIONS[0].sql)
        conn.execute("PRAGMA user_version = 1")
    db = Database(path)
    db.open()
    try:
        assert db.schema_version() == SCHEMA_VERSION >= 2
        assert sales(db) == []
    finally:
        db.close()
