"""The embedded amqtt broker (the demo's zero-install broker) with real paho clients and
the whole gateway path: publish -> store -> API."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.embedded_broker import EmbeddedBroker
from tests.auth_support import admin_client
from tests.services import free_port
from tests.test_gateway_support import (
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
