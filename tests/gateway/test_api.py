"""The HTTP API over a database: shapes, filters, bounds, errors and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import Depends, Header, HTTPException
from fastapi.testclient import TestClient

from edge.contract import EventType
from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support.auth_support import admin_client
from tests.support.gateway_store import (
    CAMERA,
    STORE,
    health,
    sample_layout,
    shelf_event,
    shelf_state,
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path)
    database.open()
    now = datetime.now(UTC)
    with database.transaction() as tx:
        for store, camera in ((STORE, CAMERA), (STORE, "cam-2")):
            tx.touch_camera(store, camera, now)
            tx.record_availability(store, camera, camera == CAMERA, now)
        tx.record_state(shelf_state(seq=3), now)
        tx.record_health(health(), now)
        for i, kind in enumerate([EventType.GAP_OPENED, EventType.RESTOCKED, EventType.GAP_OPENED]):
            tx.record_event(shelf_event(f"evt-api-{i:04d}", type=kind, ago_s=60 - 25 * i), now)
    yield database
    database.close()


@pytest.fixture
def api(db: Database) -> TestClient:
    return admin_client(create_app(db))


def test_cameras_list_both_cameras_with_what_is_known(api: TestClient) -> None:
    cameras = {c["camera"]: c for c in api.get("/api/cameras").json()}
    assert set(cameras) == {CAMERA, "cam-2"}
    assert cameras[CAMERA]["online"] is True and cameras["cam-2"]["online"] is False
    assert cameras[CAMERA]["state"]["seq"] == 3
    assert cameras["cam-2"]["state"] is None and cameras["cam-2"]["health"] is None
    assert cameras[CAMERA]["health"]["fps"] == 2.0


def test_unknown_camera_and_layout_are_404(api: TestClient) -> None:
    response = api.get(f"/api/cameras/{STORE}/nope")
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]
    assert api.get(f"/api/layouts/{STORE}/{CAMERA}").status_code == 404


def test_events_filters_order_and_bounds(api: TestClient) -> None:
    ids = [e["id"] for e in api.get("/api/events").json()]
    assert ids == ["evt-api-0002", "evt-api-0001", "evt-api-0000"]
    assert [e["id"] for e in api.get("/api/events", params={"type": "restocked"}).json()] == [
        "evt-api-0001"
    ]
    since = (datetime.now(UTC) - timedelta(seconds=45)).isoformat()
    assert [e["id"] for e in api.get("/api/events", params={"since": since}).json()] == [
        "evt-api-0002",
        "evt-api-0001",
    ]
    assert len(api.get("/api/events", params={"limit": 1}).json()) == 1
    assert api.get("/api/events", params={"camera": "cam-2"}).json() == []
    for bad in ({"limit": 0}, {"limit": 100_000}, {"type": "exploded"}, {"since": "yesterday"}):
        assert api.get("/api/events", params=bad).status_code == 422, bad


def test_put_layout_validates_and_stores(api: TestClient) -> None:
    layout = sample_layout()
    body = layout.model_dump(mode="json")
    response = api.put(f"/api/layouts/{STORE}/cam-3", json=body, params={"create": "true"})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == layout.version
    assert api.get(f"/api/layouts/{STORE}/cam-3").json()["layout"] == body
    assert api.get(f"/api/cameras/{STORE}/cam-3").json()["configured_layout_version"] == (
        layout.version
    )

    body["rows"][0]["slots"][0]["sku"] = "4006381333932"  # wrong check digit
    response = api.put(f"/api/layouts/{STORE}/cam-3", json=body)
    assert response.status_code == 422
    locs = [e["loc"] for e in response.json()["detail"]]
    assert ["body", "rows", 0, "slots", 0, "sku"] in locs
    body["rows"][0]["extra"] = 1
    response = api.put(f"/api/layouts/{STORE}/cam-3", json=body)
    assert ["body", "rows", 0, "extra"] in [e["loc"] for e in response.json()["detail"]]
    assert (
        api.put(f"/api/layouts/{STORE}/bad%20id", json=sample_layout().model_dump()).status_code
        == 422
    )
    # the rejected layouts changed nothing
    assert api.get(f"/api/layouts/{STORE}/cam-3").json()["version"] == layout.version


def test_health_without_a_broker_is_degraded(api: TestClient) -> None:
    body = api.get("/api/health").json()
    assert body["status"] == "degraded"
    assert body["db_ok"] is True and body["broker_connected"] is False
    assert body["version"]


def test_openapi_document_describes_the_responses(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {
        "CameraOut",
        "StateOut",
        "SlotOut",
        "EventOut",
        "DeadLetterOut",
        "HealthResponse",
    } <= set(schemas)
    assert {"row", "slot", "sku", "status", "confidence"} <= set(schemas["SlotOut"]["properties"])
    camera_get = spec["paths"]["/api/cameras/{store}/{camera}"]["get"]
    assert "404" in camera_get["responses"]
    assert api.get("/docs").status_code == 200


def test_an_extra_dependency_guards_every_route_in_front_of_access(db: Database) -> None:
    def require_token(x_token: str | None = Header(default=None)) -> None:
        if x_token != "let-me-in":
            raise HTTPException(401, "token required")

    guarded = admin_client(create_app(db, dependencies=[Depends(require_token)]))
    for path in ("/api/health", "/api/cameras", "/api/events", "/api/dead-letters"):
        assert guarded.get(path).status_code == 401, path
        assert guarded.get(path, headers={"X-Token": "let-me-in"}).status_code == 200, path


def test_availability_and_stale_data_do_not_mix(db: Database) -> None:
    """An offline camera keeps its last state, so staff still see what it last saw."""
    with db.transaction() as tx:
        tx.record_availability(STORE, CAMERA, False, datetime.now(UTC))
    camera = admin_client(create_app(db)).get(f"/api/cameras/{STORE}/{CAMERA}").json()
    assert camera["online"] is False
    assert camera["state"]["seq"] == 3


def test_a_wrong_method_answers_405_naming_every_method_of_the_path(api: TestClient) -> None:
    response = api.patch("/api/layouts/s1/c1")
    assert response.status_code == 405
    # every route on the path, not the first
    assert response.headers["allow"] == "DELETE, GET, PUT"
    nested = api.options("/api/catalogue")  # a route of a router included in /api
    assert nested.status_code == 405 and nested.headers["allow"] == "GET, POST"


def test_cameras_filter_by_store_and_camera_and_page_with_a_total(db: Database) -> None:
    now = datetime.now(UTC)
    with db.transaction() as tx:
        for n in range(5):
            tx.touch_camera("store-2", f"cam-{n}", now)
    api = admin_client(create_app(db))
    everything = api.get("/api/cameras")
    assert everything.headers["x-total-count"] == "7" and len(everything.json()) == 7
    store_2 = api.get("/api/cameras", params={"store": "store-2", "limit": 2, "offset": 1})
    assert store_2.headers["x-total-count"] == "5"
    assert [(c["store"], c["camera"]) for c in store_2.json()] == [
        ("store-2", "cam-1"),
        ("store-2", "cam-2"),
    ]
    one = api.get("/api/cameras", params={"store": STORE, "camera": CAMERA}).json()
    assert [c["camera"] for c in one] == [CAMERA]
    by_camera = api.get("/api/cameras", params={"camera": "cam-2"})
    assert {c["store"] for c in by_camera.json()} == {STORE, "store-2"}
    assert by_camera.headers["x-total-count"] == "2"
    assert api.get("/api/cameras", params={"store": "nope"}).json() == []
    for bad in ({"limit": 0}, {"offset": -1}, {"store": "bad id"}):
        assert api.get("/api/cameras", params=bad).status_code == 422, bad
    staff = admin_client(create_app(db), role=f"staff:{STORE}")
    mine = staff.get("/api/cameras", params={"store": "store-2"})
    assert mine.json() == [] or {c["store"] for c in mine.json()} == {STORE}
    assert staff.get("/api/cameras").headers["x-total-count"] == "2"


def test_an_occluded_slot_shows_what_it_holds_and_since_when(db: Database) -> None:
    from edge.contract import SlotStatus

    t0 = datetime.now(UTC) - timedelta(minutes=30)
    t1 = t0 + timedelta(minutes=20)
    with db.transaction() as tx:
        tx.record_state(
            shelf_state(seq=10, ts=t0, camera="cam-2"), t0
        )  # slot 0 stocked, slot 1 empty
        occluded = shelf_state(
            seq=11, ts=t1, statuses=(SlotStatus.OCCLUDED, SlotStatus.EMPTY), camera="cam-2"
        )
        occluded.slots[0].held_status = SlotStatus.STOCKED
        tx.record_state(occluded, t1)
    api = admin_client(create_app(db))
    slots = api.get(f"/api/cameras/{STORE}/cam-2").json()["state"]["slots"]
    assert slots[0]["status"] == "occluded"
    assert slots[0]["held_status"] == "stocked"
    assert datetime.fromisoformat(slots[0]["held_since"]) == t0
    assert slots[1]["held_status"] is None and slots[1]["held_since"] is None
    # a node that does not say what it holds: the slot log does
    with db.transaction() as tx:
        t2 = t1 + timedelta(minutes=1)
        tx.record_state(
            shelf_state(
                seq=12,
                ts=t2,
                statuses=(SlotStatus.OCCLUDED, SlotStatus.OCCLUDED),
                camera="cam-2",
            ),
            t2,
        )
    slots = api.get("/api/cameras", params={"camera": "cam-2"}).json()[0]["state"]["slots"]
    assert [s["held_status"] for s in slots] == ["stocked", "empty"]
    assert datetime.fromisoformat(slots[1]["held_since"]) == t0
