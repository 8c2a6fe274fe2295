"""The shipped test-bench Mosquitto config (firmware_config/mosquitto/test-bench.conf),
run by a real Mosquitto: an anonymous gateway and camera on one machine work through it,
and it listens on the loopback only."""

from __future__ import annotations

import getpass
import re
from pathlib import Path

from tests.support.auth_support import admin_client
from tests.support.gateway_store import (
    CAMERA,
    STORE,
    TOPICS,
    MqttClient,
    availability,
    running_gateway,
    settings_for,
    settle,
    shelf_state,
)
from tests.support.paths import REPO
from tests.support.services import Mosquitto, free_port

BENCH = REPO / "firmware_config" / "mosquitto" / "test-bench.conf"


def test_the_bench_config_listens_on_the_loopback_only() -> None:
    listeners = re.findall(r"^listener\s+(.*)$", BENCH.read_text(), flags=re.MULTILINE)
    assert listeners == ["1883 127.0.0.1"]
    assert "allow_anonymous true" in BENCH.read_text()


def test_gateway_and_camera_work_anonymously_through_the_bench_broker(tmp_path: Path) -> None:
    port = free_port()
    text = BENCH.read_text().replace("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1")
    # As root Mosquitto would switch to its own user, who cannot read the test's folder.
    broker = Mosquitto(tmp_path / "broker", port=port, config=f"user {getpass.getuser()}\n{text}")
    broker.start()
    try:
        settings = settings_for(broker.url, tmp_path / "data")
        assert settings.mqtt.username is None
        with running_gateway(settings) as gateway:
            node = MqttClient(broker.url, "bench-node")
            node.publish(TOPICS.availability, availability("online"), retain=True)
            node.publish(TOPICS.state, shelf_state(seq=4), retain=True)
            settle(gateway, 2)
            camera = admin_client(gateway.app).get(f"/api/cameras/{STORE}/{CAMERA}").json()
            assert camera["online"] is True and camera["state"]["seq"] == 4
            node.close()
    finally:
        broker.stop()
