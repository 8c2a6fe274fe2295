"""The embedded amqtt broker (the demo's zero-install broker) with real paho clients and
the whole gateway path: publish -> store -> API."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from edge.contract.config_file import ConfigError
from gateway.config.settings import load_settings
from gateway.mqtt.embedded_broker import EmbeddedBroker, SnapshotDict
from tests.support.auth_support import admin_client
from tests.support.gateway_store import (
    CAMERA,
    STORE,
    TOPICS,
    MqttClient,
    availability,
    running_gateway,
    sample_layout,
    settings_for,
    settle,
    shelf_event,
    shelf_state,
    wait_until,
)
from tests.support.services import free_port


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(port=free_port()) as running:
        yield running


def test_start_returns_once_it_listens_and_stop_closes_it(broker: EmbeddedBroker) -> None:
    with socket.create_connection((broker.host, broker.port), timeout=2):
        pass
    assert broker.url == f"mqtt://127.0.0.1:{broker.port}"
    broker.stop()
    with pytest.raises(OSError):
        socket.create_connection((broker.host, broker.port), timeout=2).close()


def test_a_busy_port_is_an_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"cannot listen on 127.0.0.1:{port}"):
            EmbeddedBroker(port=port).start()


def test_retained_qos1_and_last_will(broker: EmbeddedBroker) -> None:
    node = MqttClient(broker.url, "node", will=("t/availability", b"offline"))
    node.publish("t/state", b"retained-state", retain=True)
    reader = MqttClient(broker.url, "reader")
    reader.subscribe("t/#")
    wait_until(lambda: reader.received("t/state"), what="the retained state")
    assert reader.received("t/state")[0].retain
    node.publish("t/events", b"event-1", qos=1)
    event = wait_until(lambda: reader.received("t/events"), what="the QoS 1 event")[0]
    assert (event.payload, event.qos) == (b"event-1", 1)
    node.kill()
    will = wait_until(lambda: reader.received("t/availability"), what="the Last Will")[0]
    assert will.payload == b"offline"
    reader.close()


def test_cameras_connecting_at_once_all_stay_connected_and_get_their_retained_config(
    broker: EmbeddedBroker,
) -> None:
    """The demo starts every camera at once. amqtt 0.12 walked its subscription table while
    sending retained messages to each new client, and a subscription arriving meanwhile
    killed that client's connection (about one run in three of this test before the fix);
    it also sent each new client the retained messages of everyone else's subscriptions."""
    configs = [f"s/store/cam-{i}/config" for i in range(40)]
    publisher = MqttClient(broker.url, "gateway")
    for topic in configs:
        publisher.publish(topic, b"{}" + b" " * 2000, retain=True)
    dropped: list[int] = []
    received: dict[int, set[str]] = {i: set() for i in range(24)}
    clients: list[mqtt.Client] = []

    def camera(i: int) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"cam-{i}")
        # Subscribe from on_connect, as the node does: while the others are still connecting.
        client.on_connect = lambda c, *_: c.subscribe([(t, 1) for t in configs[i:]])
        client.on_disconnect = lambda *_: dropped.append(i)
        client.on_message = lambda _c, _u, message: received[i].add(message.topic)
        client.connect(broker.host, broker.port)
        client.loop_start()
        clients.append(client)

    starting = [threading.Thread(target=camera, args=(i,)) for i in range(24)]
    for thread in starting:
        thread.start()
    for thread in starting:
        thread.join()
    try:
        wait_until(
            lambda: all(received[i] == set(configs[i:]) for i in received),
            what="every camera's retained configs",
            timeout=30,
        )
        assert not dropped
    finally:
        for client in clients:
            client.loop_stop()
        publisher.close()


def test_snapshot_dict_iterates_what_it_held_when_the_loop_began() -> None:
    table = SnapshotDict(a=1, b=2)
    seen = []
    for key in table:
        seen.append(key)
        table[key * 2] = 0  # another client subscribing mid-loop
    assert seen == ["a", "b"] and set(table) == {"a", "b", "aa", "bb"}
    for key, _ in table.items():
        del table[key]  # every client unsubscribing mid-loop
    assert table == {}


def test_a_persistent_session_gets_what_was_queued(broker: EmbeddedBroker) -> None:
    reader = MqttClient(broker.url, "persistent", clean_session=False)
    reader.subscribe("q/#")
    reader.close()
    sender = MqttClient(broker.url, "sender")
    sender.publish("q/events", b"while-away", qos=1)
    sender.close()
    reader = MqttClient(broker.url, "persistent", clean_session=False)
    message = wait_until(lambda: reader.received("q/events"), what="the queued message")[0]
    assert message.payload == b"while-away"
    reader.close()


def test_gateway_path_through_the_embedded_broker(broker: EmbeddedBroker, tmp_path: Path) -> None:
    layout_file = tmp_path / "layout.json"
    layout_file.write_text(sample_layout().model_dump_json())
    settings = settings_for(
        broker.url,
        tmp_path / "data",
        layouts=[{"store": STORE, "camera": CAMERA, "file": str(layout_file)}],
    )
    with running_gateway(settings) as gateway:
        node = MqttClient(broker.url, "node")
        node.subscribe(TOPICS.config)
        node.publish(TOPICS.availability, availability("online"), retain=True)
        node.publish(TOPICS.state, shelf_state(seq=5), retain=True)
        node.publish(TOPICS.events, shelf_event("evt-embedded-1"))
        node.publish(TOPICS.events, shelf_event("evt-embedded-1"))
        node.publish(TOPICS.state, b"{not json")
        settle(gateway, 5)

        api = admin_client(gateway.app)
        camera = api.get(f"/api/cameras/{STORE}/{CAMERA}").json()
        assert camera["online"] is True
        assert camera["state"]["seq"] == 5
        assert [s["status"] for s in camera["state"]["slots"]] == ["stocked", "empty"]
        assert [e["id"] for e in api.get("/api/events").json()] == ["evt-embedded-1"]
        letters = api.get("/api/dead-letters").json()
        assert [d["topic"] for d in letters] == [TOPICS.state]
        config = wait_until(lambda: node.received(TOPICS.config), what="the node config")[-1]
        assert json.loads(config.payload)["version"] == sample_layout().version
        node.close()


# ---- `broker: embedded` in gateway.yaml: a single-box store (issue 21, item 11) -------


def test_a_gateway_with_broker_embedded_starts_its_own_broker(tmp_path: Path) -> None:
    """No broker runs before the gateway: it starts one on mqtt.url's port, a camera on
    the same box talks to it, and stopping the gateway stops it."""
    port = free_port()
    url = f"mqtt://127.0.0.1:{port}"
    settings = settings_for(url, tmp_path / "data", broker="embedded")
    with running_gateway(settings) as gateway:
        node = MqttClient(url, "node")
        node.publish(TOPICS.availability, availability("online"), retain=True)
        node.publish(TOPICS.state, shelf_state(seq=9), retain=True)
        settle(gateway, 2)
        camera = admin_client(gateway.app).get(f"/api/cameras/{STORE}/{CAMERA}").json()
        assert camera["online"] is True and camera["state"]["seq"] == 9
        node.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


@pytest.mark.parametrize(
    ("mqtt", "expected"),
    [
        ({"url": "mqtt://192.168.1.10:1883"}, "listens on the loopback only"),
        ({"url": "mqtts://127.0.0.1:8883"}, "plain mqtt://"),
        ({"url": "mqtt://127.0.0.1:1883", "tls": {}}, "plain mqtt://"),
    ],
)
def test_broker_embedded_refuses_what_it_cannot_serve(
    tmp_path: Path, mqtt: dict[str, object], expected: str
) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump({"broker": "embedded", "mqtt": mqtt}))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_shelf_gateway_run_with_broker_embedded(tmp_path: Path) -> None:
    """The real `shelf-gateway run` process: its broker takes a camera's messages and
    SIGTERM stops gateway and broker cleanly."""
    port, http = free_port(), free_port()
    config = tmp_path / "gateway.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "broker": "embedded",
                "mqtt": {"url": f"mqtt://127.0.0.1:{port}"},
                "data_dir": str(tmp_path / "data"),
                "http": {"port": http},
            }
        )
    )
    gateway_bin = Path(sys.executable).parent / "shelf-gateway"
    process = subprocess.Popen(
        [str(gateway_bin), "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: _listening(port), timeout=30, what="the embedded broker")
        node = MqttClient(f"mqtt://127.0.0.1:{port}", "node")
        node.publish(TOPICS.availability, availability("online"), retain=True)
        node.publish(TOPICS.state, shelf_state(seq=3), retain=True)
        db = tmp_path / "data" / "shelfsense.db"
        wait_until(lambda: _stored_seq(db) == 3, timeout=15, what="the state in the database")
        node.close()
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, out
    assert "embedded MQTT broker" in out and "Traceback" not in out
    assert not _listening(port)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def _stored_seq(db: Path) -> int | None:
    if not db.exists():
        return None
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT max(seq) FROM camera_state").fetchone()
    return row[0] if row else None
