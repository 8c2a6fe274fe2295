"""Stock, suppliers and the purchase list through the HTTP API on a real SQLite database:
each import's bad rows (row or index and field named, good rows kept), stock on hand =
count + receipts - sales, the suggestion with its evidence, and the order's life: draft,
edited and accepted by the store manager (not by other staff), on order in the next
suggestion, received by a goods receipt; CSV per supplier."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from edge.layout import with_check_digit
from gateway.retail import purchasing
from gateway.retail.pos import SaleLine, record_sales
from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support.auth_support import bearer, make_user

STORE = "store-1"
COLA = with_check_digit("400638133393")
CHIPS = with_check_digit("500011200001")
SOAP = with_check_digit("871234500001")
NOW = datetime.now(UTC)
UTC_ZONE = ZoneInfo("UTC")
COUNTED_AT = NOW - timedelta(days=2)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path / "data")
    database.open()
    rng = np.random.default_rng(1)
    lines = []
    start = (NOW - timedelta(days=29)).replace(hour=0, minute=0, second=0, microsecond=0)
    for day in range(29):
        for sku, daily in ((COLA, 12), (CHIPS, 6), (SOAP, 1)):
            for k in range(int(rng.poisson(daily))):
                ts = start + timedelta(days=day, hours=8 + int(rng.integers(0, 12)), minutes=k)
                if ts < NOW - timedelta(minutes=5):
                    lines.append(
                        SaleLine(
                            id=f"{sku}-{day}-{k}",
                            time=ts,
                            store=STORE,
                            sku=sku,
                            quantity=1,
                            unit_price="1.50",
                        )
                    )
    with database.transaction() as tx:
        record_sales(tx, lines, source="api", received_at=NOW)
    yield database
    database.close()


@pytest.fixture
def app(db: Database) -> TestClient:
    return create_app(db)


def client(app, db: Database, role: str) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, headers=bearer(make_user(db, role)[2]))


def post_csv(client: TestClient, path: str, text: str, filename: str) -> httpx.Response:
    """POST a CSV file as a text/csv body named `filename` (the name errors cite)."""
    return client.post(
        path, content=text, params={"filename": filename}, headers={"content-type": "text/csv"}
    )


PRICES_CSV = (
    "supplier,gtin,pack_size,pack_price,min_order_value,free_delivery_threshold,delivery_fee,"
    "lead_time_days,order_days\n"
    f"Metro,{COLA},12,9.60,0,150,12,1,\n"
    f"Metro,{CHIPS},6,7.20,0,150,12,1,\n"
    f"Metro,{SOAP},4,6.00,0,150,12,1,\n"
    f'Fresh,{COLA},6,5.10,20,60,5,2,"Mon,Thu"\n'
    f'Fresh,{CHIPS},6,7.50,20,60,5,2,"Mon,Thu"\n'
    f'Fresh,{SOAP},6,9.00,30,60,5,2,"Mon,Thu"\n'  # terms differ from Fresh's first row
    f'Fresh,4006381333932,6,1.00,20,60,5,2,"Mon,Thu"\n'  # bad check digit
    f"Metro,{SOAP},0,6.00,0,150,12,1,\n"  # pack size 0
)


def seed(app, db: Database) -> TestClient:  # type: ignore[no-untyped-def]
    admin = client(app, db, "admin")
    r = post_csv(admin, "/api/suppliers/prices/csv", PRICES_CSV, "p.csv")
    assert r.status_code == 200, r.text
    counts = [
        {
            "store": STORE,
            "gtin": g,
            "quantity": q,
            "time": COUNTED_AT.isoformat(),
            "backroom_capacity": 48,
        }
        for g, q in ((COLA, 30), (CHIPS, 10), (SOAP, 9))
    ]
    assert admin.post("/api/stock/counts", json={"counts": counts}).status_code == 200
    return admin


def test_price_list_import_names_bad_rows_and_keeps_good_ones(app, db) -> None:  # type: ignore[no-untyped-def]
    admin = client(app, db, "admin")
    r = post_csv(admin, "/api/suppliers/prices/csv", PRICES_CSV, "p.csv")
    body = r.json()
    assert r.status_code == 200, r.text
    assert (body["received"], body["accepted"], body["rejected"], body["suppliers"]) == (8, 5, 3, 2)
    errors = {(e["row"], e["field"]): e["error"] for e in body["errors"]}
    assert "differs from '20' on row 5" in errors[(7, "min_order_value")]
    assert "check digit" in errors[(8, "gtin")]
    assert "pack size must be 1" in errors[(9, "pack_size")]
    suppliers = {s["name"]: s for s in admin.get("/api/suppliers").json()}
    assert suppliers["Fresh"]["order_days"] == "Mon,Thu" and suppliers["Fresh"]["gtins"] == 2
    assert suppliers["Metro"]["free_delivery_threshold"] == "150"
    # A file with no usable header is refused as a whole, naming it.
    bad = post_csv(admin, "/api/suppliers/prices/csv", "gtin,price\n1,2\n", "x.csv")
    assert bad.status_code == 422 and "x.csv row 1: missing column(s) supplier" in bad.text
    # Plain staff may not import price lists; the store manager may.
    staff = client(app, db, f"staff:{STORE}")
    assert staff.post("/api/suppliers/prices", json={"prices": []}).status_code == 403
    manager = client(app, db, f"staff:{STORE}:manager")
    assert (
        manager.post("/api/suppliers/prices", json={"prices": [{"supplier": "X"}]}).json()[
            "rejected"
        ]
        == 1
    )


def test_receipt_and_count_imports_name_bad_rows_and_keep_good_ones(app, db) -> None:  # type: ignore[no-untyped-def]
    staff = client(app, db, f"staff:{STORE}")
    day = (NOW - timedelta(days=1)).date().isoformat()
    csv_text = (
        "store,gtin,quantity,time,supplier,id\n"
        f"{STORE},{COLA},24,{day},Metro,DN1-1\n"
        f"{STORE},{COLA},x,{day},Metro,DN1-2\n"
        f"{STORE},{CHIPS},6,2024-05-01T10:00:00,Metro,DN1-3\n"
        f"store-2,{CHIPS},6,{day},Metro,DN1-4\n"
        f"{STORE},{COLA},24,{day},Metro,DN1-1\n"
    )
    r = post_csv(staff, "/api/stock/receipts/csv", csv_text, "r.csv")
    body = r.json()
    assert r.status_code == 200, r.text
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (1, 1, 3)
    errors = {(e["row"], e["field"]): e["error"] for e in body["errors"]}
    assert errors[(3, "quantity")].startswith("r.csv row 3: quantity: not a whole number")
    assert "no UTC offset" in errors[(4, "time")]
    assert "store store-1 only" in errors[(5, "store")]
    counts = staff.post(
        "/api/stock/counts",
        json={
            "counts": [
                {"store": STORE, "gtin": COLA, "quantity": -1, "time": day},
                {"store": STORE, "gtin": SOAP, "quantity": 5, "time": "tomorrow"},
                {"store": STORE, "gtin": SOAP, "quantity": 5, "time": day, "backroom_capacity": 20},
            ]
        },
    ).json()
    assert counts["accepted"] == 1 and counts["rejected"] == 2
    assert {(e["index"], e["field"]) for e in counts["errors"]} == {(0, "quantity"), (1, "time")}
    assert (
        client(app, db, "brand:Acme").post("/api/stock/counts", json={"counts": []}).status_code
        == 403
    )


def test_stock_on_hand_is_count_plus_receipts_minus_sales(app, db) -> None:  # type: ignore[no-untyped-def]
    admin = seed(app, db)
    received_at = (COUNTED_AT + timedelta(hours=1)).isoformat()
    admin.post(
        "/api/stock/receipts",
        json={
            "receipts": [
                {
                    "store": STORE,
                    "gtin": COLA,
                    "quantity": 24,
                    "time": received_at,
                    "supplier": "Metro",
                }
            ]
        },
    )
    with db.read() as conn:
        sold = conn.execute(
            "SELECT sum(quantity) FROM sales WHERE sku = ? AND ts > ?",
            (COLA, COUNTED_AT.astimezone(UTC).isoformat(timespec="microseconds")),
        ).fetchone()[0]
    stock = {s["gtin"]: s for s in admin.get("/api/stock", params={"store": STORE}).json()}
    cola = stock[COLA]
    assert (cola["basis"], cola["counted"], cola["received_since"]) == ("count", 30, 24)
    assert cola["sold_since"] == sold > 0
    assert cola["on_hand"] == 30 + 24 - sold
    assert cola["backroom_capacity"] == 48 and cola["shelf"] is None
    other = client(app, db, "staff:store-2")
    assert other.get("/api/stock", params={"store": STORE}).status_code == 403


def test_purchase_list_from_suggestion_to_receipt(app, db) -> None:  # type: ignore[no-untyped-def]
    seed(app, db)
    staff = client(app, db, f"staff:{STORE}")
    manager = client(app, db, f"staff:{STORE}:manager")
    suggestion = staff.get("/api/purchases/suggestion", params={"store": STORE}).json()
    assert suggestion["skus_checked"] == 3 and suggestion["orders"], suggestion
    assert suggestion["cost"] <= suggestion["baseline_cost"] + 1e-6
    line = next(x for o in suggestion["orders"] for x in o["lines"] if x["gtin"] == COLA)
    why = line["why"]
    assert why["forecast"] > 0 and why["safety_stock"] > 0 and why["on_order"] == 0
    assert why["order_up_to"] == pytest.approx(why["forecast"] + why["safety_stock"], abs=0.11)
    assert line["units"] == line["packs"] * line["pack_size"] >= why["shortfall"] > 0
    assert why["rounded_down"] == 0  # rounded up to whole packs unless asked
    asked = staff.get("/api/purchases/suggestion", params={"store": STORE, "round_down_share": 2})
    assert asked.status_code == 422 and "round_down_share" in asked.text
    assert why["capacity"] is None  # no layout places it: shelf capacity unknown
    # Safety stock covers the correction period: Metro (daily, next day) corrects sooner
    # than Fresh's Mon/Thu cycle, so a Fresh line carries less than its own period's.
    for o in suggestion["orders"]:
        for x in o["lines"]:
            days = (x["why"]["safety_days"], x["why"]["forecast_days"])
            assert days[0] < days[1] if o["supplier"] == "Fresh" else days[0] == days[1], o
    assert any(o["supplier"] == "Fresh" for o in suggestion["orders"])
    # Staff read; only the manager saves drafts, edits and accepts.
    assert staff.post("/api/purchases/drafts", params={"store": STORE}).status_code == 403
    drafts = manager.post("/api/purchases/drafts", params={"store": STORE}).json()
    assert {o["status"] for o in drafts} == {"draft"}
    order = next(o for o in drafts if any(x["gtin"] == COLA for x in o["lines"]))
    packs = next(x["packs"] for x in order["lines"] if x["gtin"] == COLA)
    put = f"/api/purchases/{order['id']}/lines/{COLA}"
    assert staff.put(put, json={"packs": packs + 1}).status_code == 403
    edited = manager.put(put, json={"packs": packs + 1}).json()
    cola_line = next(x for x in edited["lines"] if x["gtin"] == COLA)
    assert (cola_line["packs"], cola_line["suggested_packs"]) == (packs + 1, packs)
    assert manager.put(put, json={"packs": -1}).status_code == 422
    assert staff.post(f"/api/purchases/{order['id']}/accept").status_code == 403
    accepted = manager.post(f"/api/purchases/{order['id']}/accept").json()
    assert accepted["status"] == "on_order" and accepted["accepted_by"].startswith("test-staff")
    assert manager.put(put, json={"packs": 1}).status_code == 409
    assert manager.post(f"/api/purchases/{order['id']}/accept").status_code == 409
    ordered_units = cola_line["units"]
    # The next suggestion counts it as on order.
    again = staff.get("/api/purchases/suggestion", params={"store": STORE}).json()
    whys = [x["why"] for o in again["orders"] for x in o["lines"] if x["gtin"] == COLA]
    assert not whys or whys[0]["on_order"] == ordered_units
    # CSV for the supplier.
    csv_r = staff.get(f"/api/purchases/{order['id']}/csv")
    assert csv_r.status_code == 200 and csv_r.headers["content-type"].startswith("text/csv")
    rows = csv_r.text.strip().splitlines()
    assert rows[0] == "supplier,gtin,name,packs,pack_size,units,pack_price,value"
    assert f"{order['supplier']},{COLA},,{packs + 1}," in csv_r.text
    # Receiving every line closes it.
    receipts = [
        {
            "store": STORE,
            "gtin": x["gtin"],
            "quantity": x["units"],
            "time": NOW.isoformat(),
            "supplier": order["supplier"],
        }
        for x in accepted["lines"]
    ]
    assert staff.post("/api/stock/receipts", json={"receipts": receipts}).json()["accepted"] == len(
        receipts
    )
    done = staff.get(f"/api/purchases/{order['id']}").json()
    assert done["status"] == "received"
    assert all(x["received_units"] == x["units"] for x in done["lines"])
    assert client(app, db, "staff:store-2").get(f"/api/purchases/{order['id']}").status_code == 403


def one_supplier(app, db: Database, order_days: str) -> None:  # type: ignore[no-untyped-def]
    """COLA from one supplier (packs of 12, lead time 1 day, no fees), counted at 0."""
    admin = client(app, db, "admin")
    csv = (
        "supplier,gtin,pack_size,pack_price,min_order_value,free_delivery_threshold,"
        f'delivery_fee,lead_time_days,order_days\nSolo,{COLA},12,9.60,0,0,0,1,"{order_days}"\n'
    )
    assert post_csv(admin, "/api/suppliers/prices/csv", csv, "solo.csv").json()["accepted"] == 1
    count(admin, 0)


def count(admin: TestClient, quantity: int, seconds_before: int = 60) -> None:
    """A count of COLA just before NOW (no sale after it: on hand is `quantity`)."""
    at = (NOW - timedelta(seconds=seconds_before)).isoformat()
    body = {"counts": [{"store": STORE, "gtin": COLA, "quantity": quantity, "time": at}]}
    assert admin.post("/api/stock/counts", json=body).json()["accepted"] == 1


def cola_line(db: Database, **options: float) -> dict[str, Any]:
    """COLA's line of the suggestion at NOW (a fixed time, so the forecast is too)."""
    suggestion = purchasing.suggest(db, STORE, tz=UTC_ZONE, now=NOW, **options).as_dict()
    return next(x for o in suggestion["orders"] for x in o["lines"] if x["gtin"] == COLA)


def test_rounding_down_leaves_under_half_a_pack_to_the_safety_stock(app, db) -> None:  # type: ignore[no-untyped-def]
    one_supplier(app, db, "")
    up = cola_line(db)
    short = up["why"]["shortfall"]
    assert up["why"]["rounded_down"] == 0 and up["units"] >= short > 12
    assert up["why"]["safety_stock"] >= 2
    # Count enough that the shortfall is one unit above whole packs: a pack down is
    # nearer, and half the safety stock covers the unit.
    count(client(app, db, "admin"), (short - 1) % 12, seconds_before=30)
    up = cola_line(db)
    assert up["why"]["shortfall"] % 12 == 1 and up["units"] == up["why"]["shortfall"] + 11
    down = cola_line(db, round_down_share=0.5)
    assert (down["why"]["shortfall"], down["why"]["rounded_down"]) == (up["why"]["shortfall"], 1)
    assert down["units"] == up["units"] - 12 == down["why"]["shortfall"] - 1
    # No slack, no rounding down.
    assert cola_line(db, round_down_share=0)["units"] == up["units"]


def test_a_sole_supplier_on_a_day_it_takes_no_orders_keeps_its_own_safety_period(app, db) -> None:  # type: ignore[no-untyped-def]
    tomorrow = (NOW.astimezone(UTC_ZONE) + timedelta(days=1)).strftime("%a")
    one_supplier(app, db, tomorrow)
    why = cola_line(db)["why"]
    assert why["safety_days"] == why["forecast_days"] > 7


def test_store_manager_role_is_staff_who_may_order() -> None:
    from gateway.auth.roles import RoleError, parse_role

    role = parse_role(" staff:store-1:manager ")
    assert (role.kind, role.store, role.manager, role.text) == (
        "staff",
        "store-1",
        True,
        "staff:store-1:manager",
    )
    assert parse_role("staff:store-1").manager is False
    with pytest.raises(RoleError, match="only ':manager'"):
        parse_role("staff:store-1:boss")
