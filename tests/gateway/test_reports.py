"""The dashboards' report queries on a real SQLite file filled through real ingest
(`tests.support.report_store` tells the story the figures below come from)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest

from edge.contract import Health
from gateway.config.settings import GatewaySettings
from gateway.reports.brand_audit import audit_csv, brand_audit, shelf_level
from gateway.reports.calendar import calendar_buckets
from gateway.reports.compliance_history import compliance_history
from gateway.reports.devices import device_statuses
from gateway.reports.scope import ReportScope, ScopeError
from gateway.reports.shelf_violations import violations, worst_slots
from gateway.storage.connection import Database
from gateway.web.app import create_app
from gateway.web.backend import DatabaseBackend
from tests.support.auth_support import admin_client
from tests.support.report_store import CHIPS, COLA, DIP, END, LEMONADE, T0, WATER, fill

HOUR = timedelta(hours=1)


def approx(value: float) -> object:
    """Reports round shares to 4 decimals."""
    return pytest.approx(value, abs=1e-4)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path)
    database.open()
    fill(database)
    yield database
    database.close()


def scope(**changes: object) -> ReportScope:
    return ReportScope(**({"since": T0, "until": END} | changes))  # type: ignore[arg-type]


def series(history, label: str) -> list[float | None]:
    return next(s.scores for s in history.series if s.label == label)


def test_hourly_compliance_is_the_time_weighted_score(db: Database) -> None:
    history = compliance_history(db, scope(), "hour", now=END)
    assert history.starts == [T0, T0 + HOUR, T0 + 2 * HOUR]
    # 10 facings; 09-10: 3 facings empty for 30 min; 10-11: 2 facings wrong for 15 min
    # (the occluded Cola counts as it was last seen: stocked).
    assert series(history, "s1") == [1.0, approx(0.85), approx(0.95)]
    assert series(history, "s1/c1") == series(history, "s1")
    assert series(history, "s1/c1 row 1") == [1.0, approx(1 - 1.5 / 4), 1.0]
    assert series(history, "s2") == [1.0, 1.0, 1.0]
    levels = {s.level for s in history.series}
    assert levels == {"store", "camera", "row"}
    assert all(c == 1.0 for s in history.series for c in s.coverage)


def test_compliance_filters_by_category_and_store_and_covers_part_of_a_bucket(
    db: Database,
) -> None:
    snacks = compliance_history(db, scope(category="snacks", store="s1"), "hour", now=END)
    assert {s.store for s in snacks.series} == {"s1"}
    # Chips (2 facings) and Dip (1): chips wrong for 15 of the 60 minutes.
    assert series(snacks, "s1") == [1.0, 1.0, approx(1 - 2 * 15 / (3 * 60))]
    total = compliance_history(db, scope(since=T0 + HOUR, until=END), "total", now=END)
    assert series(total, "s1") == [approx((0.85 + 0.95) / 2)]
    # A range reaching past now: time not seen yet is left out, never counted as 0.
    half_past_ten = END - timedelta(minutes=30)
    early = compliance_history(db, scope(until=END + HOUR), "hour", now=half_past_ten)
    assert series(early, "s1")[-2:] == [approx(1 - 2 * 15 / (10 * 30)), None]
    assert next(s for s in early.series if s.label == "s1").coverage[-2:] == [0.5, 0.0]


def test_a_range_of_too_many_buckets_is_refused_naming_the_limit(db: Database) -> None:
    with pytest.raises(ScopeError, match="at most 800"):
        compliance_history(db, scope(until=T0 + 40 * 24 * HOUR), "hour", now=END)
    with pytest.raises(ScopeError, match="must be after"):
        scope(until=T0)


ANCHORAGE = ZoneInfo("America/Anchorage")
"""UTC-9 on the story's day: its local midnight (09:00 UTC) falls inside the story."""


def test_days_and_hours_are_the_store_clock(db: Database) -> None:
    history = compliance_history(db, scope(), "day", now=END, zone=ANCHORAGE)
    # The story starts at 23:00 on 1 March in Anchorage and ends at 02:00 on 2 March.
    assert history.starts == [datetime(2026, 3, d, tzinfo=ANCHORAGE) for d in (1, 2)]
    assert history.starts[0].isoformat() == "2026-03-01T00:00:00-09:00"
    assert series(history, "s1") == [1.0, approx((0.85 + 0.95) / 2)]
    audit = brand_audit(db, scope(brand="acme"), now=END, zone=ANCHORAGE)
    assert audit.days == history.starts
    s1 = next(d for d in audit.daily if d.store == "s1")
    assert s1.units == [3, 0]  # Cola sold at 08:30 UTC: 23:30 on 1 March in the store
    assert s1.availability == [1.0, approx((120 + 90) / 240)]  # Lemonade empty 00:00-00:30
    # Where the offset has half hours, so do the hour buckets (13:00 IST = 07:30 UTC).
    kolkata = compliance_history(db, scope(), "hour", now=END, zone=ZoneInfo("Asia/Kolkata"))
    assert [t.astimezone(UTC).strftime("%H:%M") for t in kolkata.starts] == [
        "07:30",
        "08:30",
        "09:30",
        "10:30",
    ]
    s1_hours = next(s for s in kolkata.series if s.label == "s1")
    assert s1_hours.scores[0] == 1.0 and s1_hours.coverage[0] == 0.5

    class Backend(DatabaseBackend):
        settings = GatewaySettings(pos={"timezone": "America/Anchorage"})

    api = admin_client(create_app(Backend(db)))
    window = {"since": T0.isoformat(), "until": END.isoformat()}
    daily = api.get("/api/reports/compliance", params=window | {"granularity": "day"}).json()
    assert daily["starts"] == ["2026-03-01T00:00:00-09:00", "2026-03-02T00:00:00-09:00"]
    brand = api.get("/api/reports/brand", params=window | {"brand": "Acme"}).json()
    assert brand["days"] == daily["starts"]


def test_a_daylight_saving_day_has_its_real_length() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    autumn = datetime(2026, 10, 25, tzinfo=berlin)
    days = calendar_buckets(autumn, autumn + timedelta(days=2), "day", berlin, 10)
    assert [(end - start) for start, end in days][:2] == [timedelta(hours=25), timedelta(hours=24)]
    hours = calendar_buckets(autumn, days[0][1], "hour", berlin, 100)
    assert len(hours) == 25  # 02:00 comes twice: summer time, then winter time
    assert [h.astimezone(berlin).strftime("%H%z") for h, _ in hours[2:4]] == ["02+0200", "02+0100"]
    spring = datetime(2026, 3, 29, 12, tzinfo=berlin)  # a range from noon holds its day
    first, _ = calendar_buckets(spring, spring + timedelta(days=1), "day", berlin, 10)
    assert first == (datetime(2026, 3, 29, tzinfo=berlin), datetime(2026, 3, 30, tzinfo=berlin))
    assert first[1] - first[0] == timedelta(hours=23)


def test_worst_slots_and_violations_with_their_evidence(db: Database) -> None:
    worst = worst_slots(db, scope(), now=END)
    assert [(w.name, w.failing_minutes) for w in worst] == [
        (LEMONADE.name, 30.0),
        (CHIPS.name, 15.0),
    ]
    assert worst[0].failing_share == approx(30 / 180)
    assert worst[0].minutes_by_status == {"stocked": 150.0, "empty": 30.0}
    found = violations(db, scope(), now=END)
    first, second = found
    assert (first.sku, first.status.value, first.minutes) == (LEMONADE.gtin, "empty", 30.0)
    assert (first.start, first.end) == (T0 + HOUR, T0 + 1.5 * HOUR)
    assert [e["type"] for e in first.events] == ["gap_opened", "restocked"]
    assert (second.sku, second.status.value, second.event_count) == (CHIPS.gtin, "wrong_product", 2)
    assert violations(db, scope(), min_minutes=20, now=END) == [first]
    # A violation still going on at the end of the range has no end.
    cut = violations(db, scope(until=T0 + 70 * timedelta(minutes=1)), now=END)
    assert cut[0].end is None and cut[0].minutes == 10.0


def test_brand_audit_of_acme(db: Database) -> None:
    audit = brand_audit(db, scope(brand="acme"), now=END)
    s1, s2 = audit.stores
    assert (s1.store, s1.facings, s1.shelf_facings, s1.share_of_shelf) == ("s1", 5, 10, 0.5)
    assert s1.placement == {"eye level": 3, "top": 2}
    # Cola always there (occluded counts as last seen), Lemonade empty 30 of 180 min.
    assert s1.availability == approx((180 + 150) / 360)
    assert s1.facings_compliance == approx((2 * 180 + 3 * 150) / (5 * 180))
    assert (s1.units, s1.revenue, s1.currency) == (3, 4.5, "EUR")
    assert (s2.store, s2.share_of_shelf, s2.units, s2.revenue) == ("s2", 1.0, 1, 1.6)
    assert s2.placement == {"single shelf": 2}
    rows = {(p.store, p.sku): p for p in audit.products}
    assert set(rows) == {("s1", COLA.gtin), ("s1", LEMONADE.gtin), ("s2", COLA.gtin)}
    assert rows[("s1", LEMONADE.gtin)].placement == "eye level"
    assert rows[("s1", LEMONADE.gtin)].availability == approx(150 / 180)
    assert audit.days == [T0.replace(hour=0)]
    assert audit.daily[0].units == [3] and audit.daily[0].availability == [s1.availability]


def test_a_brand_audit_names_nothing_of_another_brand(db: Database) -> None:
    audit = brand_audit(db, scope(brand="Acme"), now=END)
    text = json.dumps([audit.stores, audit.products], default=lambda o: o.__dict__)
    text += audit_csv(audit)
    for other in (CHIPS, DIP, WATER):
        assert other.gtin not in text and other.name not in text
    assert "Zest" not in text
    table = list(csv.DictReader(io.StringIO(audit_csv(audit))))
    assert [r["sku"] for r in table] == [COLA.gtin, LEMONADE.gtin, COLA.gtin]
    assert table[0]["units"] == "3" and table[0]["placement"] == "top"


def test_shelf_levels_are_named_from_the_top() -> None:
    assert [shelf_level(i, 5) for i in range(5)] == [
        "top",
        "eye level",
        "middle",
        "middle",
        "bottom",
    ]
    assert [shelf_level(i, 2) for i in range(2)] == ["top", "bottom"]


def test_devices_alert_for_a_node_offline_too_long_or_silent(db: Database) -> None:
    now = END
    with db.transaction() as tx:
        tx.record_availability("s1", "c1", True, now - 20 * timedelta(minutes=1))
        tx.record_health(
            Health(
                store="s1",
                camera="c1",
                ts=now - timedelta(minutes=1),
                uptime_s=60,
                frames_processed=10,
                inference_ms=38.0,
                cpu_temp_c=61.5,
                fps=1.0,
                outbox_pending=4,
            ),
            now - timedelta(minutes=1),
        )
        tx.record_availability("s2", "c2", False, now - 10 * timedelta(minutes=1))
    statuses = {d.camera: d for d in device_statuses(db, now=now)}
    c1, c2 = statuses["c1"], statuses["c2"]
    assert c1.alert is None and c1.online and c1.inference_ms == 38.0 and c1.outbox_pending == 4
    assert c1.layout_configured is not None
    assert (c2.alert, c2.alert_reason) == ("offline", "offline for 10 min")
    assert device_statuses(db, now=now)[0].camera == "c2"  # alerts first
    later = {d.camera: d for d in device_statuses(db, now=now + timedelta(minutes=5))}
    assert later["c1"].alert == "silent"
    brief = {d.camera: d for d in device_statuses(db, now=now, offline_alert_s=3600)}
    assert brief["c2"].alert is None and not brief["c2"].online
    assert [d.camera for d in device_statuses(db, "s1", now=now)] == ["c1"]


def test_report_routes_answer_with_their_models(db: Database) -> None:
    api = admin_client(create_app(db))
    window = {"since": T0.isoformat(), "until": END.isoformat()}
    history = api.get("/api/reports/compliance", params=window).json()
    assert history["series"][0]["label"] == "s1" and len(history["starts"]) == 3
    assert api.get("/api/reports/worst-slots", params=window).json()[0]["sku"] == LEMONADE.gtin
    found = api.get("/api/reports/violations", params=window | {"min_minutes": 20}).json()
    assert len(found) == 1 and found[0]["events"][0]["type"] == "gap_opened"
    audit = api.get("/api/reports/brand", params=window | {"brand": "Acme"}).json()
    assert [s["store"] for s in audit["stores"]] == ["s1", "s2"]
    exported = api.get("/api/reports/brand.csv", params=window | {"brand": "Acme"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert "shelfsense-acme.csv" in exported.headers["content-disposition"]
    assert exported.text.splitlines()[0].startswith("store,sku,name,placement")
    # Headers are Latin-1: a brand named in Thai downloads under its own name, not a 500.
    thai = api.get("/api/reports/brand.csv", params=window | {"brand": "ช้าง"})
    assert thai.status_code == 200, thai.text
    disposition = thai.headers["content-disposition"]
    assert 'filename="shelfsense-----.csv"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "shelfsense-ช้าง.csv"
    assert api.get("/api/reports/brand", params=window).status_code == 422
    bad = api.get(
        "/api/reports/compliance", params={"since": END.isoformat(), "until": T0.isoformat()}
    )
    assert bad.status_code == 422 and "must be after" in bad.json()["detail"][0]["msg"]
    assert bad.json()["detail"][0]["loc"] == ["query", "until"]
    assert api.get("/api/reports/categories").json() == ["Drinks", "Snacks"]
    assert {d["camera"] for d in api.get("/api/reports/devices").json()} == {"c1", "c2"}


def test_report_routes_keep_staff_to_their_store_and_a_brand_to_itself(db: Database) -> None:
    app = create_app(db)
    window = {"since": T0.isoformat(), "until": END.isoformat()}
    staff = admin_client(app, "staff:s2")
    own = staff.get("/api/reports/compliance", params=window).json()
    assert {s["store"] for s in own["series"]} == {"s2"}
    assert staff.get("/api/reports/violations", params=window | {"store": "s1"}).status_code == 403
    assert staff.get("/api/reports/worst-slots", params=window).json() == []
    assert staff.get("/api/reports/brand", params=window | {"brand": "Acme"}).status_code == 403
    brand = admin_client(app, "brand:acme")
    audit = brand.get("/api/reports/brand", params=window).json()
    assert audit["brand"] == "Acme" and {p["sku"] for p in audit["products"]} == {
        COLA.gtin,
        LEMONADE.gtin,
    }
    assert brand.get("/api/reports/brand", params=window | {"brand": "Zest"}).status_code == 403
    assert brand.get("/api/reports/brand.csv", params=window | {"brand": "ACME"}).status_code == 200
    assert brand.get("/api/reports/compliance", params=window).status_code == 403
    assert brand.get("/api/reports/devices").status_code == 403
    assert brand.get("/api/reports/categories").json() == ["Drinks"]
    installer = admin_client(app, "installer")
    assert installer.get("/api/reports/devices").status_code == 200
    assert installer.get("/api/reports/brand", params={"brand": "Acme"}).status_code == 403
