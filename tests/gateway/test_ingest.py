"""Camera messages through a real Mosquitto into the gateway, read back through the API."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.app import Gateway
from gateway.mqtt.ingest import Ingest
from gateway.storage.cameras import known_cameras
from gateway.storage.connection import Database
from gateway.storage.dead_letters import list_dead_letters
from gateway.storage.events import list_events
from tests.support.auth_support import admin_client
from tests.support.gateway_store import (
    CAMERA,
    STORE,
    TOPICS,
    MqttClient,
    availability,
    health,
    running_gateway,
    settings_for,
    settle,
    shelf_event,
    shelf_state,
    wait_until,
)
from tests.support.services import Mosquitto


@pytest.fixture
def gateway(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Gateway]:
    settings = settings_for(mosquitto.url, tmp_path / "data", max_payload_bytes=2048)
    with running_gateway(settings) as gw:
        yield gw


@pytest.fixture
def node(mosquitto: Mosquitto) -> Iterator[MqttClient]:
    client = MqttClient(mosquitto.url, "test-node")
    yield client
    client.close()


def test_a_camera_shows_up_online_with_its_state(gateway: Gateway, node: MqttClient) -> None:
    node.publish(TOPICS.availability, availability("online"), retain=True)
    node.publish(TOPICS.state, shelf_state(seq=7), retain=True)
    node.publish(TOPICS.health, health())
    node.publish(TOPICS.events, shelf_event("evt-00000001"))
    settle(gateway, 4)

    api = admin_client(gateway.app)
    cameras = api.get("/api/cameras").json()
    assert [(c["store"], c["camera"], c["online"]) for c in cameras] == [(STORE, CAMERA, True)]
    camera = api.get(f"/api/cameras/{STORE}/{CAMERA}").json()
    assert camera == cameras[0]
    state = camera["state"]
    assert state["seq"] == 7
    assert [(s["row"], s["slot"], s["status"]) for s in state["slots"]] == [
        (0, 0, "stocked"),
        (0, 1, "empty"),
    ]
    assert all(s["sku"] and 0 <= s["confidence"] <= 1 for s in state["slots"])
    updated_at = datetime.fromisoformat(state["updated_at"])
    assert updated_at.utcoffset() is not None and updated_at.utcoffset().total_seconds() == 0
    assert camera["layout_version"] == state["layout_version"]
    assert camera["score"] == 0.5
    assert camera["last_seen"] is not None
    assert camera["health"]["inference_ms"] == 41.5
    assert camera["health"]["cpu_temp_c"] == 55.2
    assert camera["health"]["frames_processed"] == 340
    assert camera["health"]["camera_ok"] is True

    events = api.get("/api/events", params={"store": STORE, "camera": CAMERA}).json()
    assert [(e["id"], e["type"], e["slot"]) for e in events] == [("evt-00000001", "gap_opened", 1)]

    status = api.get("/api/health").json()
    assert status["status"] == "ok"
    assert status["broker_connected"] is True and status["db_ok"] is True
    assert status["counters"]["stored"] == 4
    assert status["counters"]["dead_letters"] == 0


def test_the_last_will_takes_a_camera_offline(gateway: Gateway, mosquitto: Mosquitto) -> None:
    node = MqttClient(
        mosquitto.url, "dying-node", will=(TOPICS.availability, availability("offline").to_json())
    )
    node.publish(TOPICS.availability, availability("online"), retain=True)
    api = admin_client(gateway.app)
    wait_until(
        lambda: api.get(f"/api/cameras/{STORE}/{CAMERA}").json().get("online") is True,
        what="camera online",
    )
    node.kill()
    wait_until(
        lambda: api.get(f"/api/cameras/{STORE}/{CAMERA}").json()["online"] is False,
        timeout=15,
        what="Last Will taking the camera offline",
    )


def test_the_same_event_id_is_stored_once(gateway: Gateway, node: MqttClient) -> None:
    event = shelf_event("evt-dup-0001")
    node.publish(TOPICS.events, event)
    node.publish(TOPICS.events, event)
    node.publish(TOPICS.events, shelf_event("evt-dup-0002"))
    settle(gateway, 3)
    api = admin_client(gateway.app)
    ids = [e["id"] for e in api.get("/api/events").json()]
    assert sorted(ids) == ["evt-dup-0001", "evt-dup-0002"]
    counters = api.get("/api/health").json()["counters"]
    assert counters["duplicates"] == 1
    assert counters["stored"] == 2


def test_bad_messages_become_dead_letters_and_ingest_goes_on(
    gateway: Gateway, node: MqttClient
) -> None:
    wrong_version = json.loads(shelf_state().to_json()) | {"schema_version": 2}
    other_store = shelf_state(store="store-2")
    no_id = json.loads(shelf_event().to_json())
    del no_id["id"]
    bad = [
        (TOPICS.state, b'{"store": "store-1",\n "camera": ', "line 2"),
        (TOPICS.state, json.dumps(wrong_version).encode(), "schema_version"),
        (TOPICS.state, other_store.to_json(), "store: 'store-2' does not match"),
        (TOPICS.events, b'{"type": "gap_opened"}', "store: Field required"),
        (TOPICS.events, json.dumps(no_id).encode(), "id: required"),
        (TOPICS.health, b"x" * 5000, "exceeds max_payload_bytes"),
        (f"shelfsense/{STORE}/{CAMERA}/video", b"{}", "unknown kind 'video'"),
    ]
    for topic, payload, _ in bad:
        node.publish(topic, payload)
    node.publish(TOPICS.events, shelf_event("evt-after-bad"))
    settle(gateway, len(bad) + 1)

    api = admin_client(gateway.app)
    letters = api.get("/api/dead-letters").json()
    assert len(letters) == len(bad)
    for letter, (topic, payload, fragment) in zip(reversed(letters), bad, strict=True):
        assert letter["topic"] == topic
        assert letter["reason"].startswith(topic), letter["reason"]
        assert fragment in letter["reason"], letter["reason"]
        assert letter["size"] == len(payload)
    assert len(letters[1]["payload"]) < 5000  # the oversized payload is cut
    assert [e["id"] for e in api.get("/api/events").json()] == ["evt-after-bad"]
    assert api.get("/api/health").json()["counters"]["dead_letters"] == len(bad)
    assert len(api.get("/api/dead-letters", params={"limit": 2}).json()) == 2


def test_an_older_retained_state_does_not_replace_a_newer_one(
    gateway: Gateway, node: MqttClient
) -> None:
    newer = shelf_state(seq=10)
    older = shelf_state(seq=9, ts=newer.ts.replace(year=newer.ts.year - 1))
    node.publish(TOPICS.state, newer)
    node.publish(TOPICS.state, older)
    settle(gateway, 2)
    api = admin_client(gateway.app)
    assert api.get(f"/api/cameras/{STORE}/{CAMERA}").json()["state"]["seq"] == 10
    assert api.get("/api/health").json()["counters"]["stale"] == 1


def test_a_database_error_loses_only_the_message_that_caused_it(tmp_path: Path) -> None:
    """The batch is rolled back and retried one message per transaction."""
    db = Database.in_dir(tmp_path)
    db.open()
    with sqlite3.connect(db.path) as conn:  # a real SQLite failure for one event id
        conn.execute(
            "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.id = 'evt-poisoned'"
            " BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
        )
    ingest = Ingest(db)
    for event_id in ("evt-good-0001", "evt-poisoned", "evt-good-0002"):
        ingest.submit(TOPICS.events, shelf_event(event_id).to_json())
    ingest.start()  # all three are queued, so they form one batch
    try:
        assert ingest.wait_idle(10)
    finally:
        ingest.stop()
    assert sorted(e["id"] for e in list_events(db)) == ["evt-good-0001", "evt-good-0002"]
    [letter] = list_dead_letters(db)
    assert letter["reason"] == f"{TOPICS.events}: database error: poisoned row"
    assert (ingest.counters.stored, ingest.counters.dead_letters) == (2, 1)
    db.close()


def test_a_deleted_cameras_earlier_messages_do_not_bring_it_back(tmp_path: Path) -> None:
    """What a camera sent before it was deleted is dropped, whether still queued when the
    API deleted it or still on its way (stamped before, received after); what it sends
    afterwards makes it a new camera."""
    db = Database.in_dir(tmp_path)
    db.open()
    ingest = Ingest(db)
    deleted = datetime.now(UTC)

    def offline_then(at: timedelta, received: timedelta) -> None:
        message = availability("offline").model_copy(update={"ts": deleted + at})
        ingest.submit(TOPICS.availability, message.to_json(), received_at=deleted + received)

    offline_then(timedelta(seconds=-2), timedelta(seconds=-1))  # queued at the deletion
    ingest.forget_camera(STORE, CAMERA, deleted)
    ingest.start()
    try:
        offline_then(timedelta(seconds=-1), timedelta(seconds=1))  # on its way
        assert ingest.wait_idle(10)
        assert known_cameras(db) == set() and ingest.counters.ignored == 2
        offline_then(timedelta(seconds=2), timedelta(seconds=2))  # sent afterwards
        assert ingest.wait_idle(10)
    finally:
        ingest.stop()
    assert known_cameras(db) == {(STORE, CAMERA)}
    db.close()
