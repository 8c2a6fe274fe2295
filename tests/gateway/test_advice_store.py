"""Advice over a real SQLite database: facts from the slot log and the sales, one advice
per slot and kind (refreshed, not re-created), the lifecycle and its episodes, the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.contract.advice import AdviceKind, AdviceList, advice_topic
from edge.contract.messages import SlotStatus
from edge.contract.schemas import SCHEMA_DIR
from gateway.advice import store as advice_store
from gateway.advice.worker import AdviceService
from gateway.config.settings import AdviceSettings, PosSettings
from gateway.retail import pos
from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support.auth_support import admin_client
from tests.support.gateway_store import CAMERA, STORE, sample_layout, shelf_state

LAYOUT = sample_layout()
SKU = LAYOUT.rows[0].slots[1].sku
assert SKU is not None
NOW = (datetime.now(UTC) - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
"""Noon yesterday: every time the tests use stays within one day, and in the past
whenever they run (a sale dated after the gateway's clock is refused as from the future)."""
STOCKED, EMPTY, OCCLUDED = SlotStatus.STOCKED, SlotStatus.EMPTY, SlotStatus.OCCLUDED


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path)
    database.open()
    with database.transaction() as tx:
        tx.save_layout(STORE, CAMERA, LAYOUT, at(-24 * 60))
        tx.record_availability(STORE, CAMERA, True, at(-90))
    # Eight complete days at 6 units an hour: the velocity the advice relies on.
    midnight = NOW.replace(hour=0, minute=0)
    lines = [
        pos.SaleLine(
            id=f"H-{h}",
            time=midnight - timedelta(hours=h, minutes=30),
            store=STORE,
            sku=SKU,
            quantity=6,
            unit_price=1,
        )
        for h in range(8 * 24)
    ]
    pos.store_lines(database, list(enumerate(lines)), [], source="api")
    yield database
    database.close()


def see(db: Database, minutes: float, slot1: SlotStatus, seq: list[int] = [0]) -> None:  # noqa: B006
    seq[0] += 1
    state = shelf_state(seq[0], (STOCKED, slot1), ts=at(minutes))
    with db.transaction() as tx:
        tx.record_state(state, at(minutes))


def service(db: Database, **changes: object) -> AdviceService:
    return AdviceService(
        db, AdviceSettings.model_validate(changes), PosSettings(), prefix="shelfsense"
    )


def of_kind(db: Database, kind: AdviceKind, *status: str) -> list[dict]:
    return advice_store.list_advice(
        db, store=STORE, kind=kind.value, status=status or advice_store.STATUSES
    )


def test_restock_is_refreshed_acknowledged_and_verified(db: Database) -> None:
    engine = service(db)
    see(db, -60, STOCKED)
    see(db, -30, EMPTY)
    report = engine.evaluate(STORE, at(0))
    [advice] = of_kind(db, AdviceKind.RESTOCK)
    assert report.created == [advice["id"]] and advice["status"] == "open"
    assert advice["evidence"]["minutes_empty"] == 30
    assert advice["evidence"]["units_per_hour"] == pytest.approx(6, rel=0.05)
    assert advice["evidence"]["lost_sales"] == pytest.approx(3, rel=0.05)
    assert advice["level"] == "high" and advice["sku"] == SKU and advice["slot"] == 1

    report = engine.evaluate(STORE, at(10))
    [again] = of_kind(db, AdviceKind.RESTOCK)
    assert report.created == [] and report.refreshed == [advice["id"]]
    assert again["id"] == advice["id"] and again["evidence"]["minutes_empty"] == 40
    assert again["urgency"] > advice["urgency"] and again["updated_at"] > advice["updated_at"]

    acked = advice_store.acknowledge(db, advice["id"], at(11))
    assert acked["status"] == "acknowledged" and acked["acknowledged_at"]
    engine.evaluate(STORE, at(12))
    assert of_kind(db, AdviceKind.RESTOCK)[0]["status"] == "acknowledged"

    see(db, 14, STOCKED)
    report = engine.evaluate(STORE, at(15))
    assert report.resolved == [advice["id"]]
    done = advice_store.get_advice(db, advice["id"])
    assert done is not None and done["status"] == "resolved" and done["verified"] is True
    assert done["resolve_minutes"] == pytest.approx(15)
    # The restock the camera saw now feeds a prediction: 2 units left at 6/h.
    [predicted] = of_kind(db, AdviceKind.PREDICTED_STOCKOUT, "open")
    assert predicted["evidence"]["last_restock"].startswith(at(14).isoformat()[:16])
    assert predicted["evidence"]["minutes_to_empty"] == pytest.approx(20, abs=1)

    with pytest.raises(advice_store.AdviceStateError, match="is resolved"):
        advice_store.acknowledge(db, advice["id"])


def test_dismissed_advice_stays_away_for_its_episode_only(db: Database) -> None:
    engine = service(db)
    see(db, -60, STOCKED)
    see(db, -30, EMPTY)
    engine.evaluate(STORE, at(0))
    [first] = of_kind(db, AdviceKind.RESTOCK)
    with pytest.raises(advice_store.AdviceStateError, match="reason"):
        advice_store.dismiss(db, first["id"], "  ")
    gone = advice_store.dismiss(db, first["id"], "delivery due tomorrow", at(1))
    assert gone["status"] == "dismissed" and gone["dismiss_reason"] == "delivery due tomorrow"

    see(db, 2, OCCLUDED)  # a shopper in front does not end the empty period
    see(db, 3, EMPTY)
    engine.evaluate(STORE, at(5))
    assert [a["id"] for a in of_kind(db, AdviceKind.RESTOCK)] == [first["id"]]

    see(db, 6, STOCKED)
    see(db, 8, EMPTY)  # a new empty period: a new episode
    engine.evaluate(STORE, at(20))
    restocks = of_kind(db, AdviceKind.RESTOCK)
    assert len(restocks) == 2
    new = next(a for a in restocks if a["id"] != first["id"])
    assert new["status"] == "open" and new["episode_start"] > first["episode_start"]


def test_a_low_slot_that_looks_messy_for_a_while_keeps_its_one_restock_advice(
    db: Database,
) -> None:
    """The node reports messy before low: a messy spell says nothing about how full the
    slot is, so it neither verifies the restock nor starts a second advice."""
    engine = service(db)
    see(db, -60, STOCKED)
    see(db, -30, SlotStatus.LOW)
    engine.evaluate(STORE, at(0))
    [advice] = of_kind(db, AdviceKind.RESTOCK)
    see(db, 1, SlotStatus.MESSY)
    engine.evaluate(STORE, at(2))
    see(db, 3, SlotStatus.LOW)
    report = engine.evaluate(STORE, at(4))
    assert report.resolved == [] and report.created == []
    assert [(a["id"], a["status"]) for a in of_kind(db, AdviceKind.RESTOCK)] == [
        (advice["id"], "open")
    ]
    see(db, 5, STOCKED)  # only a slot seen stocked ends the episode
    assert engine.evaluate(STORE, at(6)).resolved == [advice["id"]]


def test_offline_camera_neither_raises_nor_resolves(db: Database) -> None:
    engine = service(db)
    see(db, -60, STOCKED)
    see(db, -30, EMPTY)
    engine.evaluate(STORE, at(0))
    with db.transaction() as tx:
        tx.record_availability(STORE, CAMERA, False, at(1))
    see(db, 2, STOCKED)  # a state from before it went away, stored late
    engine.evaluate(STORE, at(3))
    assert of_kind(db, AdviceKind.RESTOCK)[0]["status"] == "open"


def test_the_api_lists_filters_and_changes_advice(db: Database) -> None:
    engine = service(db)
    see(db, -60, STOCKED)
    see(db, -30, EMPTY)
    engine.evaluate(STORE, at(0))
    api = admin_client(create_app(db))
    listed = api.get("/api/advice", params={"store": STORE, "status": "open"}).json()
    assert [a["kind"] for a in listed] == ["restock"]
    advice_id = listed[0]["id"]
    assert api.get("/api/advice", params={"store": STORE, "kind": "tidy"}).json() == []
    assert api.get("/api/advice", params={"store": "store-9"}).json() == []
    one = api.get(f"/api/advice/{advice_id}").json()
    assert one["evidence"]["minutes_empty"] == 30 and one["action"].startswith("Restock")
    assert api.get("/api/advice/999").status_code == 404

    assert api.post(f"/api/advice/{advice_id}/acknowledge").json()["status"] == "acknowledged"
    missing = api.post(f"/api/advice/{advice_id}/dismiss", json={})
    assert missing.status_code == 422 and "reason" in missing.text
    done = api.post(f"/api/advice/{advice_id}/dismiss", json={"reason": "no stock in back"})
    assert done.json()["status"] == "dismissed"
    again = api.post(f"/api/advice/{advice_id}/acknowledge")
    assert again.status_code == 409 and "dismissed" in again.json()["detail"]
    assert api.post("/api/advice/999/acknowledge").status_code == 404
    closed = api.get("/api/advice", params={"status": ["dismissed", "resolved"]}).json()
    assert [a["id"] for a in closed] == [advice_id]
    schema = api.get("/openapi.json").json()["components"]["schemas"]
    assert {"AdviceOut", "Evidence", "DismissIn"} <= set(schema)


def test_the_published_list_holds_active_advice_most_urgent_first(db: Database) -> None:
    import json

    engine = service(db)
    see(db, -60, STOCKED)
    see(db, -30, EMPTY)
    engine.evaluate(STORE, at(0))
    sent: list[tuple[str, bytes]] = []
    engine.attach(lambda topic, payload: sent.append((topic, payload)) or True, lambda: 1)
    engine.publish_pending(at(0))
    [(topic, payload)] = sent
    message = json.loads(payload)
    assert topic == f"shelfsense/{STORE}/advice" and message["store"] == STORE
    assert [a["kind"] for a in message["advice"]] == ["restock"]
    assert message["advice"][0]["evidence"]["minutes_empty"] == 30


def test_the_published_list_matches_its_contract_and_json_schema(db: Database) -> None:
    import json

    import jsonschema_rs

    engine = service(db)
    see(db, -60, STOCKED)
    see(db, -30, EMPTY)
    engine.evaluate(STORE, at(0))
    [restock] = of_kind(db, AdviceKind.RESTOCK)
    advice_store.acknowledge(db, restock["id"], at(1))
    sent: list[tuple[str, bytes]] = []
    engine.attach(lambda topic, payload: sent.append((topic, payload)) or True, lambda: 1)
    engine.publish_pending(at(2))
    [(topic, payload)] = sent
    assert topic == advice_topic(STORE, "shelfsense")

    schema = json.loads((SCHEMA_DIR / "advice.json").read_text(encoding="utf-8"))
    message = json.loads(payload)
    jsonschema_rs.validator_for(schema).validate(message)
    item_schema = schema["$defs"]["PublishedAdvice"]
    assert set(message) == set(schema["properties"])
    assert set(message["advice"][0]) == set(item_schema["properties"])
    # The phrases came later (#24 item 5): optional, so older messages stay valid.
    optional = {"action_phrase", "reason_phrase"}
    assert set(item_schema["required"]) == set(item_schema["properties"]) - optional
    # The pydantic model reads it back and writes the same bytes.
    assert AdviceList.model_validate_json(payload).to_json() == payload

    # The wire form: every item field as the API record has it, nulls kept, stored times.
    record = advice_store.get_advice(db, restock["id"])
    assert record is not None and record["name"] is None
    assert message["advice"] == [{k: record[k] for k in item_schema["properties"]}]
    assert message["advice"][0]["status"] == "acknowledged"
    assert (message["schema_version"], message["store"], message["count"]) == (1, STORE, 1)
    assert message["ts"] == at(2).isoformat(timespec="microseconds")


def test_advice_counts_per_kind_are_exported_when_they_change(db: Database) -> None:
    exported: list = []
    engine = AdviceService(
        db, AdviceSettings(), PosSettings(), prefix="shelfsense", export=exported.extend
    )
    engine.attach(lambda topic, payload: True, lambda: 1)
    see(db, -60, STOCKED)
    see(db, -30, EMPTY)
    engine.evaluate(STORE, at(0))
    engine.publish_pending(at(0))
    points = {p.tags["kind"]: p for p in exported}
    assert set(points) == {k.value for k in AdviceKind}
    assert points["restock"].measurement == "advice" and points["restock"].tags["store"] == STORE
    assert dict(points["restock"].fields) == {"open": 1, "acknowledged": 0}
    assert dict(points["tidy"].fields) == {"open": 0, "acknowledged": 0}
    exported.clear()
    engine.evaluate(STORE, at(1))  # refreshed, counts unchanged: nothing new to write
    engine.publish_pending(at(1))
    assert exported == []


def test_hidden_stockout_from_silence_ends_with_the_next_sale(db: Database) -> None:
    sku0 = LAYOUT.rows[0].slots[0].sku
    assert sku0 is not None
    # Slot 0's product sold 6 an hour for eight days, and not at all since yesterday.
    yesterday = NOW.replace(hour=0, minute=0) - timedelta(days=1)
    lines = [
        pos.SaleLine(
            id=f"S0-{h}",
            time=yesterday - timedelta(hours=h, minutes=30),
            store=STORE,
            sku=sku0,
            quantity=6,
            unit_price=1,
        )
        for h in range(8 * 24)
    ]
    pos.store_lines(db, list(enumerate(lines)), [], source="api")
    engine = service(db)
    see(db, -300, EMPTY)  # slot 0 seen full for five hours (slot 1 is empty)
    engine.evaluate(STORE, at(0))
    [hidden] = of_kind(db, AdviceKind.HIDDEN_STOCKOUT)
    assert (hidden["slot"], hidden["sku"], hidden["cause"]) == (0, sku0, "no_sales")
    assert hidden["evidence"]["p_no_sale"] < 1e-6
    assert hidden["evidence"]["minutes_without_sale"] == pytest.approx(300)
    sale = pos.SaleLine(id="S-1", time=at(1), store=STORE, sku=sku0, quantity=1, unit_price=1)
    pos.store_lines(db, [(0, sale)], [], source="api")
    report = engine.evaluate(STORE, at(2))
    assert report.resolved == [hidden["id"]]
    done = advice_store.get_advice(db, hidden["id"])
    assert done is not None and done["verified"] and done["resolution"] == "the product sells again"
    assert of_kind(db, AdviceKind.HIDDEN_STOCKOUT, "open") == []


def test_facts_share_a_sku_by_facings_and_find_old_restocks_in_events(
    tmp_path: Path,
) -> None:
    from edge.contract.messages import EventType, ShelfEvent
    from edge.layout import Layout, RowSpec, SlotSpec
    from gateway.advice.facts import build_bays

    layout = Layout(
        rows=[
            RowSpec(
                index=0,
                y0=0.0,
                y1=1.0,
                slots=[
                    SlotSpec(index=0, x0=0.0, x1=0.5, sku=SKU, facings=2, depth=3),
                    SlotSpec(index=1, x0=0.5, x1=1.0, sku=SKU, facings=1, depth=3),
                ],
            )
        ]
    )
    database = Database.in_dir(tmp_path / "facts")
    database.open()
    try:
        old = at(-5 * 24 * 60)  # before the 72 h of slot log read
        with database.transaction() as tx:
            tx.save_layout(STORE, CAMERA, layout, old)
            tx.record_availability(STORE, CAMERA, True, old)
            tx.record_event(
                ShelfEvent(
                    store=STORE,
                    camera=CAMERA,
                    id="evt-restock-old",
                    ts=old,
                    type=EventType.RESTOCKED,
                    row=0,
                    slot=0,
                    sku=SKU,
                ),
                old,
            )
            # Seen stocked since then: nothing in the slot log's last 72 h.
            tx.record_state(shelf_state(1, (STOCKED, STOCKED), ts=old), old)
        line = pos.SaleLine(
            id="Y-1", time=at(-24 * 60), store=STORE, sku=SKU, quantity=9, unit_price=1
        )
        pos.store_lines(database, [(0, line)], [], source="api")
        [bay] = build_bays(
            database, STORE, at(0), AdviceSettings(), tz=ZoneInfo("UTC"), window_days=28
        )
        first, second = bay.slots
        assert first.demand is not None and second.demand is not None
        assert (first.demand.share, second.demand.share) == pytest.approx((2 / 3, 1 / 3))
        assert first.last_restock == old and second.last_restock is None
        assert first.status == SlotStatus.STOCKED and first.status_since == old
        assert first.not_empty_since == old and first.empty_since is None
        assert first.units_sold_since_restock == pytest.approx(6)  # its 2/3 of 9
        assert first.capacity == 6 and bay.online
    finally:
        database.close()
