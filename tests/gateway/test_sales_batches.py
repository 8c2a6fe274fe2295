"""Sales imports are batches that can be undone, and odd lines never reach velocity
unnoticed: through the API and the CLI on a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from edge.layout import with_check_digit
from gateway.cli import main as cli
from gateway.retail.sales_screen import BACKFILL_DAYS
from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support.auth_support import admin_client
from tests.support.gateway_store import shelf_state

SKU = with_check_digit("400638133393")
OTHER = with_check_digit("500011200001")
NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)


def sale(
    line_id: str, at: datetime, quantity: int = 2, sku: str = SKU, store: str = "store-1"
) -> dict[str, Any]:
    return {
        "id": line_id,
        "time": at.isoformat(),
        "store": store,
        "sku": sku,
        "quantity": quantity,
        "unit_price": "1.50",
    }


def history(prefix: str, days: int = 5, quantity: int = 2) -> list[dict[str, Any]]:
    """One line a day at noon for the last `days` complete days."""
    noon = NOW.replace(hour=12, minute=0, second=0)
    return [sale(f"{prefix}-{d}", noon - d * DAY, quantity) for d in range(1, days + 1)]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path / "data")
    database.open()
    yield database
    database.close()


@pytest.fixture
def api(db: Database) -> TestClient:
    return admin_client(create_app(db))


def velocity_units(api: TestClient, sku: str = SKU) -> int:
    response = api.get("/api/velocity", params={"store": "store-1", "sku": sku})
    assert response.status_code == 200, response.text
    return response.json()["units"]


def test_every_import_has_a_batch_and_deleting_it_undoes_exactly_it(api: TestClient) -> None:
    first = api.post("/api/pos/sales", json={"sales": history("a")}).json()
    assert first["accepted"] == 5 and first["batch"].startswith("imp-")
    csv = "id,time,store,sku,quantity,unit_price\n" + "".join(
        f"{s['id']},{s['time']},store-1,{SKU},3,1.50\n" for s in history("b", days=3)
    )
    # the CSV also repeats a line of the first batch: it stays with that one
    csv += f"a-1,{history('a')[0]['time']},store-1,{SKU},2,1.50\n"
    second = api.post(
        "/api/pos/sales/csv", content=csv, headers={"Content-Type": "text/csv"}
    ).json()
    assert (second["accepted"], second["duplicates"]) == (3, 1)
    assert second["batch"] != first["batch"]
    assert velocity_units(api) == 5 * 2 + 3 * 3

    batches = api.get("/api/pos/batches")
    assert batches.headers["x-total-count"] == "2"
    listed = {b["id"]: b for b in batches.json()}
    assert listed[second["batch"]]["lines"] == 3
    assert listed[second["batch"]]["stores"] == {"store-1": 3}
    assert listed[second["batch"]]["source"] == "csv"
    assert listed[first["batch"]]["created_by"].startswith("test-admin")

    deleted = api.delete(f"/api/pos/batches/{second['batch']}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"batch": second["batch"], "lines": 3, "stores": ["store-1"]}
    assert velocity_units(api) == 5 * 2  # recomputed from what is left
    ids = {s["id"] for s in api.get("/api/pos/sales", params={"limit": 100}).json()}
    assert ids == {f"a-{d}" for d in range(1, 6)}
    record = api.get(f"/api/pos/batches/{second['batch']}").json()
    assert record["deleted_at"] and record["deleted_lines"] == 3 and record["lines"] == 0
    assert api.delete("/api/pos/batches/imp-20990101-000000-abcdef").status_code == 404


def test_staff_see_their_store_s_batches_and_cannot_delete(db: Database, api: TestClient) -> None:
    mine = api.post("/api/pos/sales", json={"sales": history("m")}).json()["batch"]
    other = [sale("o-1", NOW - DAY, store="store-2")]
    theirs = api.post("/api/pos/sales", json={"sales": other}).json()["batch"]
    staff = admin_client(create_app(db), role="staff:store-1")
    assert [b["id"] for b in staff.get("/api/pos/batches").json()] == [mine]
    assert staff.get(f"/api/pos/batches/{theirs}").status_code == 404
    assert staff.delete(f"/api/pos/batches/{mine}").status_code == 403
    own = staff.post("/api/pos/sales", json={"sales": [sale("s-1", NOW - DAY)]}).json()
    assert own["batch"] and own["accepted"] == 1


def test_future_lines_are_refused_naming_the_row(api: TestClient) -> None:
    csv = (
        "id,time,store,sku,quantity,unit_price\n"
        f"f-1,{(NOW - timedelta(hours=2)).isoformat()},store-1,{SKU},1,1.00\n"
        f"f-2,{(NOW + timedelta(hours=2)).isoformat()},store-1,{SKU},1,1.00\n"
    )
    body = api.post("/api/pos/sales/csv", content=csv, headers={"Content-Type": "text/csv"}).json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    error = body["errors"][0]
    assert (error["row"], error["field"]) == (3, "time")
    assert "future" in error["message"] and "clock" in error["message"]


def test_lines_before_the_store_existed_are_noted_or_refused(db: Database, api: TestClient) -> None:
    first_data = NOW - 10 * DAY
    with db.transaction() as tx:
        tx.record_state(shelf_state(ts=first_data), first_data)
    lines = [
        sale("old-1", first_data - 20 * DAY),  # backfill: kept, noted
        sale("old-2", first_data - (BACKFILL_DAYS + 5) * DAY),  # a wrong year: refused
        sale("new-1", NOW - DAY),
    ]
    body = api.post("/api/pos/sales", json={"sales": lines}).json()
    assert (body["accepted"], body["rejected"], body["noted"], body["flagged"]) == (2, 1, 1, 0)
    assert body["errors"][0]["index"] == 1 and "first data" in body["errors"][0]["message"]
    assert body["notes"][0]["index"] == 0
    assert "before the store's first data" in body["notes"][0]["message"]


def test_a_quantity_far_beyond_the_sku_history_is_kept_but_left_out_of_velocity(
    api: TestClient,
) -> None:
    api.post("/api/pos/sales", json={"sales": history("h", days=6, quantity=2)})
    assert velocity_units(api) == 12
    noon = NOW.replace(hour=12, minute=0, second=0) - DAY
    body = api.post("/api/pos/sales", json={"sales": [sale("typo-1", noon, 2000)]}).json()
    assert (body["accepted"], body["noted"], body["flagged"]) == (1, 1, 1)
    note = body["notes"][0]
    assert note["field"] == "quantity" and "2000 units" in note["message"]
    assert velocity_units(api) == 12  # kept (revenue), not demand
    assert any(s["id"] == "typo-1" for s in api.get("/api/pos/sales").json())
    # a line within the SKU's usual range counts
    ok = api.post("/api/pos/sales", json={"sales": [sale("ok-1", noon, 5)]}).json()
    assert ok["flagged"] == 0 and velocity_units(api) == 17
    # an SKU without history is not judged
    new = api.post("/api/pos/sales", json={"sales": [sale("n-1", noon, 400, sku=OTHER)]}).json()
    assert new["flagged"] == 0


def test_mqtt_style_storage_applies_the_same_rules(db: Database) -> None:
    from gateway.retail.pos import store_pos_message

    payload = json.dumps({"sales": [sale("m-1", NOW + 3 * timedelta(hours=1))]}).encode()
    with db.transaction() as tx:
        result = store_pos_message(tx, "t/store-1/pos_sales", "store-1", payload, NOW, 10**6)
    assert result.accepted == [] and result.problem and "future" in result.problem


def test_cli_import_prints_its_batch_lists_and_deletes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gateway.yaml"
    config.write_text("data_dir: data\n")
    sales_csv = tmp_path / "till.csv"
    sales_csv.write_text(
        "id,time,store,sku,quantity,unit_price\n"
        + "".join(f"{s['id']},{s['time']},store-1,{SKU},2,1.50\n" for s in history("c"))
    )
    assert cli.main(["pos", "import", str(sales_csv), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    batch = out.rsplit("batch ", 1)[1].strip()
    assert batch.startswith("imp-") and "5 accepted" in out

    assert cli.main(["pos", "batches", "--json", "--config", str(config)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["total"] == 1 and listed["batches"][0]["id"] == batch
    assert listed["batches"][0]["source"] == "cli" and listed["batches"][0]["name"] == str(
        sales_csv
    )

    assert cli.main(["pos", "delete", batch, "--config", str(config)]) == 0
    assert "5 sale line(s) of store-1" in capsys.readouterr().out
    assert cli.main(["pos", "delete", "imp-nope", "--config", str(config)]) == 1
    assert "no sales import batch" in capsys.readouterr().err
