"""Advice end to end through the real Gateway and a real Mosquitto: a node-like paho
publisher reports a slot going empty, sales arrive (REST history, a till over MQTT),
the restock advice appears in the API and on the retained advice topic, and the
restock the camera sees resolves it as verified."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from edge.contract.messages import SlotStatus
from edge.contract.topics import pos_sales_topic
from gateway.app import Gateway
from tests.support.auth_support import admin_client
from tests.support.gateway_store import (
    STORE,
    TOPICS,
    MqttClient,
    availability,
    running_gateway,
    sample_layout,
    settings_for,
    shelf_state,
    wait_until,
)
from tests.support.services import Mosquitto

LAYOUT = sample_layout()
SKU = LAYOUT.rows[0].slots[1].sku
ADVICE_TOPIC = f"shelfsense/{STORE}/advice"


@pytest.fixture
def gateway(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Gateway]:
    settings = settings_for(
        mosquitto.url,
        tmp_path / "data",
        advice={"interval_s": 1.0, "debounce_s": 0.1, "restock_grace_min": 0},
    )
    with running_gateway(settings) as gw:
        gw.set_layout(STORE, TOPICS.camera, LAYOUT)
        yield gw


def history(now: datetime) -> list[dict[str, Any]]:
    """Seven complete days at 4 units an hour, so velocity has a basis."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [
        {
            "id": f"H-{h}",
            "time": (midnight - timedelta(hours=h, minutes=30)).isoformat(),
            "store": STORE,
            "sku": SKU,
            "quantity": 4,
            "unit_price": "1.20",
        }
        for h in range(7 * 24)
    ]


def with_history(gateway: Gateway) -> tuple[TestClient, datetime]:
    """An admin's client, once the seven days of `history` are posted through the API;
    and the time they end at."""
    api = admin_client(gateway.app)
    now = datetime.now(UTC)
    assert api.post("/api/pos/sales", json={"sales": history(now)}).json()["accepted"] == 168
    return api, now


def latest(display: MqttClient) -> dict[str, Any] | None:
    messages = display.received(ADVICE_TOPIC)
    return json.loads(messages[-1].payload) if messages else None


def test_empty_slot_gives_restock_advice_that_the_restock_resolves(
    gateway: Gateway, mosquitto: Mosquitto
) -> None:
    api, now = with_history(gateway)
    node = MqttClient(mosquitto.url, "node-like")
    till = MqttClient(mosquitto.url, "till")
    display = MqttClient(mosquitto.url, "display")
    try:
        display.subscribe(ADVICE_TOPIC)
        node.publish(TOPICS.availability, availability("online"), retain=True)
        stocked, empty = SlotStatus.STOCKED, SlotStatus.EMPTY
        node.publish(
            TOPICS.state, shelf_state(1, (stocked, stocked), ts=now - timedelta(minutes=40))
        )
        node.publish(TOPICS.state, shelf_state(2, (stocked, empty), ts=now - timedelta(minutes=30)))
        sale = {"id": "T-1", "time": (now - timedelta(minutes=35)).isoformat(), "store": STORE}
        till.publish(
            pos_sales_topic(STORE),
            json.dumps(sale | {"sku": SKU, "quantity": 1, "unit_price": "1.20"}).encode(),
        )

        def open_restock() -> dict[str, Any] | None:
            listed = api.get("/api/advice", params={"store": STORE, "status": "open"}).json()
            return next((a for a in listed if a["kind"] == "restock"), None)

        advice = wait_until(open_restock, 20, "restock advice in GET /api/advice")
        assert (advice["camera"], advice["row"], advice["slot"], advice["sku"]) == (
            TOPICS.camera,
            0,
            1,
            SKU,
        )
        evidence = api.get(f"/api/advice/{advice['id']}").json()["evidence"]
        assert evidence["status"] == "empty" and evidence["minutes_empty"] >= 30
        # 4/h (3.5/h if the test runs across midnight: today joins the window, unsold).
        assert evidence["units_per_hour"] == pytest.approx(4, rel=0.15)
        assert evidence["lost_sales"] >= 1.5
        # The till's line came in over MQTT. It is stored by the gateway's MQTT thread, so
        # the advice may be listed first; and near midnight UTC a history line is newer.
        since = (now - timedelta(minutes=36)).isoformat()
        wait_until(
            lambda: any(
                s["id"] == "T-1"
                for s in api.get("/api/pos/sales", params={"store": STORE, "since": since}).json()
            ),
            20,
            "the till's sale line in GET /api/pos/sales",
        )

        shown = wait_until(
            lambda: (
                (m := latest(display)) and any(a["id"] == advice["id"] for a in m["advice"]) and m
            ),
            20,
            "the restock on the retained advice topic",
        )
        assert shown["store"] == STORE and shown["advice"][0]["kind"] == "restock"
        retained = MqttClient(mosquitto.url, "late-display")
        try:
            retained.subscribe(ADVICE_TOPIC)
            wait_until(lambda: retained.received(ADVICE_TOPIC), 10, "the retained advice list")
            assert retained.received(ADVICE_TOPIC)[0].retain
        finally:
            retained.close()

        acked = api.post(f"/api/advice/{advice['id']}/acknowledge").json()
        assert acked["status"] == "acknowledged"
        wait_until(
            lambda: (
                (m := latest(display)) is not None
                and any(
                    a["id"] == advice["id"] and a["status"] == "acknowledged" for a in m["advice"]
                )
            ),
            20,
            "the acknowledgement on the advice topic",
        )

        node.publish(TOPICS.state, shelf_state(3, (stocked, stocked), ts=datetime.now(UTC)))

        def resolved() -> dict[str, Any] | None:
            record = api.get(f"/api/advice/{advice['id']}").json()
            return record if record["status"] == "resolved" else None

        done = wait_until(resolved, 20, "the restock advice resolved")
        assert done["verified"] is True and done["resolve_minutes"] >= 0
        assert done["resolved_at"] >= done["created_at"]
        wait_until(
            lambda: (
                (m := latest(display)) is not None
                and all(a["id"] != advice["id"] for a in m["advice"])
            ),
            20,
            "the resolved advice gone from the advice topic",
        )
    finally:
        for client in (node, till, display):
            client.close()
