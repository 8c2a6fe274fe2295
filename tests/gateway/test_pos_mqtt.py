"""POS terminals publishing sale lines on `{prefix}/{store}/pos_sales` through a real
Mosquitto: stored once, bad lines dead-lettered with the line and field, and the shipped
ACL keeping each store's terminals to their own topic."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge.contract.topics import pos_sales_topic
from edge.layout import with_check_digit
from gateway.app import Gateway
from gateway.retail.pos import sales
from tests.support.auth_support import admin_client
from tests.support.gateway_store import (
    TOPICS,
    MqttClient,
    availability,
    running_gateway,
    settings_for,
    settle,
    shelf_event,
)
from tests.support.paths import REPO
from tests.support.services import Mosquitto, find_binary

SKU = with_check_digit("400638133393")
TOPIC = pos_sales_topic("store-1")
SOLD_AT = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
ACL = REPO / "firmware_config" / "mosquitto" / "shelfsense.acl"


def line(line_id: str, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": line_id,
        "time": SOLD_AT,
        "store": "store-1",
        "sku": SKU,
        "quantity": 1,
        "unit_price": 0.99,
    }
    data.update(changes)
    return data


def publish_json(client: MqttClient, topic: str, payload: object) -> None:
    client.publish(topic, json.dumps(payload).encode())


@pytest.fixture
def till(mosquitto: Mosquitto) -> Iterator[MqttClient]:
    client = MqttClient(mosquitto.url, "test-till")
    yield client
    client.close()


@pytest.fixture
def gateway(mosquitto: Mosquitto, till: MqttClient, tmp_path: Path) -> Iterator[Gateway]:
    """A gateway whose subscriptions are active: a retained message published at once
    reaches it however late it subscribes, so the tests' first sale cannot be missed.
    That probe is the one message the tests' counts start from."""
    with running_gateway(settings_for(mosquitto.url, tmp_path / "data")) as gw:
        till.publish(TOPICS.availability, availability("online"), retain=True)
        settle(gw, 1)
        yield gw


def test_a_line_a_batch_and_a_list_are_stored_once(gateway: Gateway, till: MqttClient) -> None:
    no_store = line("M-4")
    del no_store["store"]  # a till may leave it to the topic
    publish_json(till, TOPIC, line("M-1"))
    publish_json(till, TOPIC, {"schema_version": 1, "sales": [line("M-2"), line("M-3")]})
    publish_json(till, TOPIC, [no_store, line("M-1")])  # M-1 again
    publish_json(till, TOPIC, line("M-2"))  # all duplicates
    settle(gateway, 1 + 4)

    stored = sales(gateway.db)
    assert sorted(s["id"] for s in stored) == ["M-1", "M-2", "M-3", "M-4"]
    assert {s["source"] for s in stored} == {"mqtt"} and {s["store"] for s in stored} == {"store-1"}
    counters = gateway.counters
    assert (counters["stored"], counters["duplicates"], counters["dead_letters"]) == (1 + 3, 1, 0)
    api = admin_client(gateway.app)
    assert [s["id"] for s in api.get("/api/pos/sales", params={"limit": 1}).json()] == ["M-4"]


def test_bad_lines_become_a_dead_letter_naming_line_and_field_and_good_ones_are_kept(
    gateway: Gateway, till: MqttClient
) -> None:
    publish_json(till, TOPIC, line("B-0", quantity=2))
    bad = [
        (TOPIC, b'{"id": "B-1", ', "not JSON: Expecting property name"),
        (
            TOPIC,
            json.dumps({"sales": [line("B-2"), line("B-3", quantity="x"), line("B-4")]}).encode(),
            "sales[1].quantity: not an integer ('x')",
        ),
        (TOPIC, json.dumps(line("B-5", store="store-2")).encode(), "store: 'store-2' does not"),
        (TOPIC, json.dumps(line("B-0", quantity=3)).encode(), "id: 'B-0' is already stored"),
        (TOPIC, json.dumps({"schema_version": 2, "sales": []}).encode(), "schema_version"),
        (TOPIC, json.dumps(line("B-6", time="2024-05-01T10:00:00")).encode(), "no UTC offset"),
    ]
    for topic, payload, _ in bad:
        till.publish(topic, payload)
    till.publish(TOPICS.events, shelf_event("evt-after-pos").to_json())
    settle(gateway, 1 + len(bad) + 2)

    api = admin_client(gateway.app)
    letters = list(reversed(api.get("/api/dead-letters").json()))
    assert len(letters) == len(bad)
    for letter, (topic, payload, fragment) in zip(letters, bad, strict=True):
        assert letter["topic"] == topic and letter["reason"].startswith(f"{topic}: ")
        assert fragment in letter["reason"], letter["reason"]
        assert letter["payload"] == payload.decode()
    stored = {s["id"]: s["quantity"] for s in sales(gateway.db)}
    assert stored == {"B-0": 2, "B-2": 1, "B-4": 1}
    assert [e["id"] for e in api.get("/api/events").json()] == ["evt-after-pos"]


# ---- the shipped ACL -----------------------------------------------------------------

USERS = {"gateway": "gw-secret", "store-1": "till-secret", "store-1/cam-1": "cam-secret"}


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    passwd = tmp_path / "passwd"
    passwd.touch()
    tool = find_binary("mosquitto_passwd")
    for user, password in USERS.items():
        subprocess.run([tool, "-b", str(passwd), user, password], check=True)
    broker = Mosquitto(
        tmp_path / "broker",
        config_extra=f"allow_anonymous false\npassword_file {passwd}\nacl_file {ACL}\n",
    )
    broker.start()
    yield broker
    broker.stop()


def connected(broker: Mosquitto, user: str) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{time.time_ns()}")
    client.username_pw_set(user, USERS[user])
    ready = threading.Event()
    client.on_connect = lambda c, u, f, rc, p: ready.set() if not rc.is_failure else None
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert ready.wait(5), f"{user} could not connect"
    return client


def test_a_stores_tills_write_only_their_stores_sales(secured_broker: Mosquitto) -> None:
    gateway = connected(secured_broker, "gateway")
    received: list[tuple[str, bytes]] = []
    subscribed = threading.Event()
    gateway.on_message = lambda c, u, m: received.append((m.topic, m.payload))
    gateway.on_subscribe = lambda *a: subscribed.set()
    gateway.subscribe("shelfsense/+/pos_sales", qos=1)
    assert subscribed.wait(5)
    till = connected(secured_broker, "store-1")
    camera = connected(secured_broker, "store-1/cam-1")
    till.publish(pos_sales_topic("store-2"), b"other store", qos=1).wait_for_publish(5)
    camera.publish(TOPIC, b"camera", qos=1).wait_for_publish(5)
    till.publish(TOPIC, b"own store", qos=1).wait_for_publish(5)
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # anything refused would have arrived by now, in order
    assert received == [(TOPIC, b"own store")]
    for client in (till, camera, gateway):
        client.loop_stop()
        client.disconnect()
