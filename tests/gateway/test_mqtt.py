"""The gateway's MQTT behaviour against a real Mosquitto: retained configs, the persistent
session across a restart, and a clean stop of the `shelf-gateway` process on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from edge.contract import NodeConfig
from edge.contract.topics import gateway_availability_topic
from edge.layout import Layout
from tests.support.auth_support import admin_client
from tests.support.gateway_store import (
    CAMERA,
    STORE,
    TOPICS,
    MqttClient,
    running_gateway,
    sample_layout,
    settings_for,
    settle,
    shelf_event,
    wait_until,
)
from tests.support.paths import REPO
from tests.support.services import Mosquitto, free_port


def write_layout(path: Path, layout: Layout) -> Path:
    path.write_text(layout.model_dump_json(indent=2), encoding="utf-8")
    return path


def latest_config(client: MqttClient, topic: str) -> NodeConfig | None:
    messages = client.received(topic)
    return NodeConfig.model_validate_json(messages[-1].payload) if messages else None


def test_configured_layouts_are_published_as_retained_config(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    layout = sample_layout()
    settings = settings_for(
        mosquitto.url,
        tmp_path / "data",
        layouts=[
            {
                "store": STORE,
                "camera": CAMERA,
                "file": str(write_layout(tmp_path / "l.json", layout)),
            }
        ],
    )
    with running_gateway(settings) as gateway:
        first = MqttClient(mosquitto.url, "config-reader-1")
        first.subscribe(TOPICS.config)
        wait_until(lambda: latest_config(first, TOPICS.config), what="the config")
        first.close()
        # a camera that connects later gets it too: the config is retained
        node = MqttClient(mosquitto.url, "config-reader-2")
        node.subscribe(TOPICS.config)
        config = wait_until(lambda: latest_config(node, TOPICS.config), what="retained config")
        assert node.received(TOPICS.config)[-1].retain
        assert config.version == layout.version
        assert config.layout == layout
        api = admin_client(gateway.app)
        assert api.get(f"/api/layouts/{STORE}/{CAMERA}").json()["version"] == layout.version
        camera = api.get(f"/api/cameras/{STORE}/{CAMERA}").json()
        assert camera["configured_layout_version"] == layout.version
        assert camera["online"] is False  # listed from its layout, never heard from
        node.close()


def test_put_layout_publishes_the_new_config(mosquitto: Mosquitto, tmp_path: Path) -> None:
    with running_gateway(settings_for(mosquitto.url, tmp_path / "data")) as gateway:
        node = MqttClient(mosquitto.url, "config-reader")
        node.subscribe(TOPICS.config)
        api = admin_client(gateway.app)
        for facings in (2, 3):
            layout = sample_layout(facings=facings)
            response = api.put(
                f"/api/layouts/{STORE}/{CAMERA}",
                json=layout.model_dump(mode="json"),
                params={"create": "true"},
            )
            assert response.status_code == 200, response.text
            assert response.json()["version"] == layout.version
            wait_until(
                lambda v=layout.version: (
                    (c := latest_config(node, TOPICS.config)) and c.version == v
                ),
                what=f"config version {layout.version}",
            )
        node.close()


def test_events_sent_while_the_gateway_is_down_arrive_after_restart(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    settings = settings_for(mosquitto.url, tmp_path / "data")
    with running_gateway(settings):
        pass  # the first connect creates the persistent session and its subscription
    node = MqttClient(mosquitto.url, "test-node")
    ids = [f"evt-offline-{i:04d}" for i in range(5)]
    for event_id in ids:
        node.publish(TOPICS.events, shelf_event(event_id))
    node.close()
    with running_gateway(settings) as gateway:
        settle(gateway, len(ids))
        stored = [e["id"] for e in admin_client(gateway.app).get("/api/events").json()]
        assert sorted(stored) == ids


def test_the_gateway_survives_a_broker_restart(mosquitto: Mosquitto, tmp_path: Path) -> None:
    with running_gateway(settings_for(mosquitto.url, tmp_path / "data")) as gateway:
        mosquitto.stop()
        wait_until(lambda: not gateway.broker_connected, what="disconnect")
        health = admin_client(gateway.app).get("/api/health").json()
        assert health["status"] == "degraded" and health["broker_connected"] is False
        mosquitto.start()
        assert gateway.wait_connected(15), "gateway did not reconnect"
        node = MqttClient(mosquitto.url, "test-node")
        node.publish(TOPICS.events, shelf_event("evt-after-restart"))
        node.close()
        settle(gateway, 1)
        assert admin_client(gateway.app).get("/api/events").json()[0]["id"] == "evt-after-restart"


def test_shelf_gateway_stops_cleanly_on_sigterm(mosquitto: Mosquitto, tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "gateway.yaml"
    config.write_text(
        f"mqtt:\n  url: {mosquitto.url}\n  client_id: gw-sigterm\n"
        f"data_dir: data\nhttp:\n  host: 127.0.0.1\n  port: {port}\n"
    )
    watcher = MqttClient(mosquitto.url, "watcher")
    watcher.subscribe(gateway_availability_topic("shelfsense"))
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "--config", str(config)],
        cwd=REPO,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:

        def healthy() -> bool:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).json()
            except httpx.HTTPError:
                return False
            return body["broker_connected"]

        wait_until(healthy, timeout=20, what="the gateway's API")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = output.decode()
    assert process.returncode == 0, text
    assert "Traceback" not in text
    assert "gateway stopped" in text
    states = [
        json.loads(m.payload)["state"]
        for m in watcher.received(gateway_availability_topic("shelfsense"))
    ]
    assert states[-2:] == ["online", "offline"]
    assert (tmp_path / "data" / "shelfsense.db").exists()
    watcher.close()


def test_duplicates_are_recognised_across_a_gateway_restart(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """De-duplication is by event id in SQLite, not in memory: a redelivery after a
    restart (the node's outbox resending, the broker's session) is stored once."""
    settings = settings_for(mosquitto.url, tmp_path / "data")
    node = MqttClient(mosquitto.url, "test-node")
    with running_gateway(settings) as gateway:
        node.publish(TOPICS.events, shelf_event("evt-restart-0001"))
        settle(gateway, 1)
    with running_gateway(settings) as gateway:
        node.publish(TOPICS.events, shelf_event("evt-restart-0001"))
        node.publish(TOPICS.events, shelf_event("evt-restart-0002"))
        settle(gateway, 2)
        assert gateway.counters["duplicates"] == 1
        ids = [e["id"] for e in admin_client(gateway.app).get("/api/events").json()]
        assert sorted(ids) == ["evt-restart-0001", "evt-restart-0002"]
    node.close()
