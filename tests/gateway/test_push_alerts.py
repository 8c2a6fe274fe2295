"""Push alerts against a real local HTTP receiver: the signed webhook, quiet hours, one
alert per problem (and a second when it reopens), camera outages, and retries when the
receiver is away, all through the API, the advice table and the alert thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from edge.contract.advice import AdviceKind, Evidence, Level
from gateway.advice import store as advice_store
from gateway.advice.model import Candidate, advice_key
from gateway.alerts import records
from gateway.alerts.service import AlertService
from gateway.alerts.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from gateway.config.alerts import AlertSettings
from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support.auth_support import bearer, make_user
from tests.support.edge_nodes import wait_for
from tests.support.services import free_port

EPISODE = datetime.now(UTC) - timedelta(minutes=12)
FAST = AlertSettings(sweep_s=0.05, retry_min_s=0.05, retry_max_s=0.2, timeout_s=2)


class Receiver:
    """A real HTTP server on a loopback port that keeps what it is sent."""

    def __init__(self, port: int = 0, status: int = 200) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path)
    database.open()
    yield database
    database.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def staff_with_webhook(
    db: Database, url: str, role: str = "staff:store-1"
) -> tuple[TestClient, dict[str, Any]]:
    """A user with one webhook channel, added through the API."""
    client = TestClient(create_app(db), headers=bearer(make_user(db, role)[2]))
    response = client.post("/api/alerts/me/channels", json={"name": "phone", "url": url})
    assert response.status_code == 201, response.text
    return client, response.json()


def high_advice(
    db: Database, store: str = "store-1", slot: int = 0, episode: datetime = EPISODE
) -> dict[str, Any]:
    """A real high restock advice in the advice table (as the engine writes it)."""
    now = datetime.now(UTC)
    candidate = Candidate(
        key=advice_key(AdviceKind.RESTOCK, store, "cam-1", 0, slot),
        kind=AdviceKind.RESTOCK,
        store=store,
        camera="cam-1",
        row=0,
        slot=slot,
        sku="4006381333931",
        name="Oats 500g",
        brand="Acme",
        cause="empty",
        action="Restock Oats 500g at row 1 slot 1",
        reason="empty for 12 minutes, sells 6 an hour",
        urgency=5.0,
        level=Level.HIGH,
        evidence=Evidence(),
        episode_start=episode,
    )
    advice_store.apply(db, store, [candidate], [], now)
    [record] = advice_store.list_advice(db, store=store, status=("open",))
    return record


def test_a_high_advice_reaches_the_receiver_signed(db: Database, receiver: Receiver) -> None:
    _, channel = staff_with_webhook(db, receiver.url)
    service = AlertService(db, FAST)
    service.start()
    try:
        service.advice_changed([high_advice(db)])
        wait_for(lambda: receiver.received, timeout=10)
    finally:
        service.stop()
    headers, body = receiver.received[0]
    assert verify(
        channel["secret"], headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER], time.time()
    )
    assert not verify(
        "another secret", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER], time.time()
    )
    assert not verify(
        channel["secret"],
        headers[TIMESTAMP_HEADER],
        body + b" ",
        headers[SIGNATURE_HEADER],
        time.time(),
    )
    alert = json.loads(body)
    assert alert["kind"] == "advice" and alert["level"] == "high" and alert["store"] == "store-1"
    assert "Restock Oats 500g" in alert["title"]
    log = records.deliveries(db)
    assert [d["status"] for d in log] == ["sent"]


def test_staff_of_another_store_get_nothing(db: Database, receiver: Receiver) -> None:
    staff_with_webhook(db, receiver.url, role="staff:store-2")
    service = AlertService(db, FAST)
    service.take_advice([high_advice(db, "store-1")], datetime.now(UTC))
    service.sweep(datetime.now(UTC))
    assert service.deliver_due() == 0
    assert receiver.received == []


def test_one_alert_per_advice_and_another_when_it_reopens(db: Database, receiver: Receiver) -> None:
    staff_with_webhook(db, receiver.url)
    service = AlertService(db, FAST)
    advice = high_advice(db)
    service.take_advice([advice], datetime.now(UTC))
    service.take_advice([advice], datetime.now(UTC))
    service.sweep(datetime.now(UTC))
    assert high_advice(db)["id"] == advice["id"]  # refreshed by the engine: the same advice
    service.sweep(datetime.now(UTC))
    assert service.deliver_due() == 1
    assert service.deliver_due() == 0

    closed = advice_store.dismiss(db, advice["id"], "done", datetime.now(UTC))
    service.take_advice([closed], datetime.now(UTC))
    reopened = high_advice(db, episode=datetime.now(UTC))  # empty again, later
    assert reopened["id"] != advice["id"]
    service.sweep(datetime.now(UTC))  # the sweep alone finds it
    assert service.deliver_due() == 1
    assert [a["problem"] for a in receiver.bodies()] == [
        f"advice:{advice['id']}",
        f"advice:{reopened['id']}",
    ]


def test_quiet_hours_hold_the_alert_until_they_end(db: Database, receiver: Receiver) -> None:
    client, _ = staff_with_webhook(db, receiver.url)
    clock = Clock()
    local = clock.now.astimezone(ZoneInfo("Asia/Shanghai"))
    start, end = (local - timedelta(hours=1)), (local + timedelta(hours=1))
    response = client.put(
        "/api/alerts/me/quiet-hours",
        json={
            "start": start.strftime("%H:%M"),
            "end": end.strftime("%H:%M"),
            "timezone": "Asia/Shanghai",
        },
    )
    assert response.status_code == 200, response.text
    service = AlertService(db, FAST, clock=clock)
    service.take_advice([high_advice(db)], clock.now)
    assert service.deliver_due() == 0
    held = client.get("/api/alerts/me").json()["deliveries"]
    assert [d["status"] for d in held] == ["held"]
    assert datetime.fromisoformat(held[0]["next_attempt_at"]) > clock.now
    clock.now += timedelta(minutes=30)
    assert service.deliver_due() == 0 and receiver.received == []
    clock.now += timedelta(hours=1)  # past the end
    assert service.deliver_due() == 1
    assert len(receiver.received) == 1


def test_a_held_alert_of_a_problem_over_by_then_is_dropped(
    db: Database, receiver: Receiver
) -> None:
    client, _ = staff_with_webhook(db, receiver.url)
    clock = Clock()
    start = (clock.now - timedelta(hours=1)).strftime("%H:%M")
    end = (clock.now + timedelta(hours=1)).strftime("%H:%M")
    client.put("/api/alerts/me/quiet-hours", json={"start": start, "end": end, "timezone": "UTC"})
    service = AlertService(db, FAST, clock=clock)
    advice = high_advice(db)
    service.take_advice([advice], clock.now)
    service.deliver_due()
    service.take_advice([advice_store.dismiss(db, advice["id"], "done", clock.now)], clock.now)
    clock.now += timedelta(hours=2)
    assert service.deliver_due() == 0
    assert receiver.received == []
    [logged] = client.get("/api/alerts/me").json()["deliveries"]
    assert logged["status"] == "dropped" and "over" in logged["last_error"]


def test_an_unreachable_receiver_is_retried_and_does_not_block(db: Database) -> None:
    port = free_port()  # nothing listens here yet
    staff_with_webhook(db, f"http://127.0.0.1:{port}/hook")
    service = AlertService(db, FAST)
    service.start()
    try:
        began = time.monotonic()
        service.advice_changed([high_advice(db)])
        assert time.monotonic() - began < 0.5  # the listener only queues
        wait_for(lambda: [d for d in records.deliveries(db) if d["attempts"] >= 2], timeout=10)
        first = records.deliveries(db)[0]
        assert first["status"] == "pending" and first["last_error"]
        late = Receiver(port)
        try:
            wait_for(lambda: late.received, timeout=10)
        finally:
            late.close()
    finally:
        service.stop()
    [delivered] = records.deliveries(db)
    assert delivered["status"] == "sent" and delivered["attempts"] >= 3


def test_a_camera_offline_too_long_alerts_once_per_outage(db: Database, receiver: Receiver) -> None:
    staff_with_webhook(db, receiver.url)
    service = AlertService(db, AlertSettings(offline_after_min=10))
    now = datetime.now(UTC)

    def availability(online: bool, at: datetime) -> None:
        with db.transaction() as tx:
            tx.record_availability("store-1", "cam-1", online, at)

    availability(False, now - timedelta(minutes=5))
    service.sweep(now)
    assert service.deliver_due() == 0  # not yet 10 minutes
    service.sweep(now + timedelta(minutes=6))
    availability(False, now + timedelta(minutes=7))  # the retained `offline` again
    service.sweep(now + timedelta(minutes=30))
    assert service.deliver_due(now + timedelta(minutes=30)) == 1
    availability(True, now + timedelta(minutes=40))
    service.sweep(now + timedelta(minutes=40))
    availability(False, now + timedelta(minutes=50))
    service.sweep(now + timedelta(minutes=70))
    assert service.deliver_due(now + timedelta(minutes=70)) == 1
    titles = [a["title"] for a in receiver.bodies()]
    assert titles == ["store-1: camera cam-1 is offline"] * 2


def test_the_api_keeps_channels_to_their_owner(db: Database, receiver: Receiver) -> None:
    owner, channel = staff_with_webhook(db, receiver.url)
    other = TestClient(create_app(db), headers=bearer(make_user(db, "merchandiser")[2]))
    admin = TestClient(create_app(db), headers=bearer(make_user(db, "admin")[2]))
    assert other.get("/api/alerts/me").json()["channels"] == []
    assert other.post(f"/api/alerts/me/channels/{channel['id']}/test").status_code == 404
    assert other.delete(f"/api/alerts/me/channels/{channel['id']}").status_code == 404
    listed = admin.get("/api/alerts/channels").json()
    assert [c["id"] for c in listed] == [channel["id"]] and listed[0]["secret"] is None
    bad = owner.post("/api/alerts/me/channels", json={"name": "x", "url": "ftp://example"})
    assert bad.status_code == 422 and "http(s)" in bad.text
    brand = TestClient(create_app(db), headers=bearer(make_user(db, "brand:Acme")[2]))
    assert brand.get("/api/alerts/me").status_code == 403


def test_quiet_hours_are_times_as_text(db: Database, receiver: Receiver) -> None:
    """A number is not a time of day (pydantic alone reads 0 as midnight); null is none."""
    client, _ = staff_with_webhook(db, receiver.url)
    path = "/api/alerts/me/quiet-hours"
    for start in (0, 79200, 22.5):
        bad = client.put(path, json={"start": start, "end": "06:00"})
        assert bad.status_code == 422 and "as text, e.g. 22:00" in bad.text, (start, bad.text)
    good = client.put(path, json={"start": "22:00", "end": "06:00"})
    assert good.status_code == 200 and good.json()["start"] == "22:00", good.text
    assert client.put(path, json={"start": None, "end": None}).json()["start"] is None


def test_a_test_alert_is_sent_even_in_quiet_hours(db: Database, receiver: Receiver) -> None:
    client, channel = staff_with_webhook(db, receiver.url)
    now = datetime.now(UTC)
    client.put(
        "/api/alerts/me/quiet-hours",
        json={
            "start": (now - timedelta(hours=1)).strftime("%H:%M"),
            "end": (now + timedelta(hours=1)).strftime("%H:%M"),
            "timezone": "UTC",
        },
    )
    queued = client.post(f"/api/alerts/me/channels/{channel['id']}/test")
    assert queued.status_code == 202 and queued.json()["status"] == "pending"
    assert AlertService(db, FAST).deliver_due() == 1
    assert receiver.bodies()[0]["kind"] == "test"
    assert client.get("/api/alerts/me").json()["deliveries"][0]["status"] == "sent"


def test_an_apprise_json_url_reaches_the_receiver(db: Database, receiver: Receiver) -> None:
    pytest.importorskip("apprise")
    client = TestClient(create_app(db), headers=bearer(make_user(db, "admin")[2]))
    url = receiver.url.replace("http://", "json://")
    added = client.post(
        "/api/alerts/me/channels", json={"name": "apprise", "kind": "apprise", "url": url}
    )
    assert added.status_code == 201, added.text
    service = AlertService(db, FAST)
    service.take_advice([high_advice(db)], datetime.now(UTC))
    assert service.deliver_due() == 1
    sent = receiver.bodies()[0]
    assert "Restock Oats 500g" in sent["title"] and sent["type"] == "failure"
