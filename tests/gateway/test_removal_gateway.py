"""Deletes through a running Gateway on a real Mosquitto: a deleted camera does not come
back from the broker's retained messages after a restart, and deleting a sales batch
makes the advice engine look at the store again."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge.contract.topics import CameraTopics
from tests.support.auth_support import admin_client
from tests.support.gateway_store import (
    STORE,
    MqttClient,
    availability,
    running_gateway,
    settings_for,
    settle,
    shelf_state,
    wait_until,
)
from tests.support.services import Mosquitto

PHANTOM = "cam-typo"


def retained_under(url: str, topics: CameraTopics) -> list[str]:
    """Topics of the camera the broker still keeps retained (a fresh subscriber gets them)."""
    reader = MqttClient(url, f"retained-reader-{time.monotonic_ns()}")
    try:
        reader.subscribe(f"{topics.prefix}/{topics.store}/{topics.camera}/#")
        time.sleep(0.5)  # retained messages arrive right after the SUBACK
        return sorted({m.topic for m in reader.messages if m.retain and m.payload})
    finally:
        reader.close()


def test_a_deleted_camera_stays_deleted_across_a_restart(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    settings = settings_for(mosquitto.url, tmp_path / "data")
    topics = CameraTopics(STORE, PHANTOM)
    with running_gateway(settings) as gateway:
        node = MqttClient(mosquitto.url, "phantom-node")
        node.publish(topics.availability, availability(camera=PHANTOM), retain=True)
        node.publish(topics.state, shelf_state(camera=PHANTOM), retain=True)
        node.close()
        settle(gateway, 2)
        api = admin_client(gateway.app)
        assert api.get(f"/api/cameras/{STORE}/{PHANTOM}").status_code == 200
        assert retained_under(mosquitto.url, topics)  # what would bring it back

        assert api.delete(f"/api/cameras/{STORE}/{PHANTOM}").status_code == 200
        wait_until(
            lambda: retained_under(mosquitto.url, topics) == [],
            10,
            "the camera's retained topics to be cleared",
        )
    with running_gateway(settings) as gateway:
        time.sleep(1.0)  # time for anything retained to arrive
        gateway.wait_idle(5)
        api = admin_client(gateway.app)
        assert api.get(f"/api/cameras/{STORE}/{PHANTOM}").status_code == 404
        assert all(c["camera"] != PHANTOM for c in api.get("/api/cameras").json())


def test_deleting_a_sales_batch_re_evaluates_the_store_s_advice(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    # no periodic sweep during the test: an evaluation comes from a notice only
    settings = settings_for(
        mosquitto.url, tmp_path / "data", advice={"debounce_s": 0.1, "interval_s": 3600}
    )
    with running_gateway(settings) as gateway:
        assert gateway.advice is not None
        api = admin_client(gateway.app)
        noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
        lines = [
            {
                "id": f"b-{d}",
                "time": (noon - timedelta(days=d)).isoformat(),
                "store": STORE,
                "sku": "4006381333931",
                "quantity": 3,
                "unit_price": "1.00",
            }
            for d in range(1, 4)
        ]
        start = gateway.advice.evaluations
        batch = api.post("/api/pos/sales", json={"sales": lines}).json()["batch"]
        wait_until(lambda: gateway.advice.evaluations > start, 10, "the import's evaluation")
        time.sleep(0.5)
        before = gateway.advice.evaluations
        assert api.delete(f"/api/pos/batches/{batch}").status_code == 200
        wait_until(
            lambda: gateway.advice.evaluations > before, 10, "an advice evaluation of the store"
        )
