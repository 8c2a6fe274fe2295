"""The shipped Mosquitto ACL, enforced by a real Mosquitto: cameras stay in their subtree."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.support.paths import REPO
from tests.support.services import Mosquitto, find_binary

ACL = REPO / "firmware_config" / "mosquitto" / "shelfsense.acl"
USERS = {
    "gateway": "gw-secret",
    "store-1/cam-1": "cam1-secret",
    "store-1/cam-2": "cam2-secret",
    "store-1": "store1-secret",
}


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    passwd = tmp_path / "passwd"
    passwd.touch()
    tool = find_binary("mosquitto_passwd")
    for user, password in USERS.items():
        subprocess.run([tool, "-b", str(passwd), user, password], check=True)
    broker = Mosquitto(
        tmp_path / "broker",
        config_extra=(f"allow_anonymous false\npassword_file {passwd}\nacl_file {ACL}\n"),
    )
    broker.start()
    yield broker
    broker.stop()


def connect(broker: Mosquitto, user: str | None) -> tuple[mqtt.Client, mqtt.ReasonCode]:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{user}-{time.time_ns()}")
    if user:
        client.username_pw_set(user, USERS[user])
    result: dict[str, mqtt.ReasonCode] = {}
    done = threading.Event()

    def on_connect(_c, _u, _f, reason_code, _p) -> None:
        result["rc"] = reason_code
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert done.wait(5), "no CONNACK"
    return client, result["rc"]


def collect(client: mqtt.Client, topic: str) -> list[tuple[str, bytes]]:
    received: list[tuple[str, bytes]] = []
    client.on_message = lambda _c, _u, msg: received.append((msg.topic, msg.payload))
    client.subscribe(topic, qos=1)
    time.sleep(0.3)
    return received


def test_anonymous_clients_are_refused(secured_broker: Mosquitto) -> None:
    client, rc = connect(secured_broker, None)
    client.loop_stop()
    assert rc.is_failure


def test_camera_writes_only_its_own_topics(secured_broker: Mosquitto) -> None:
    gateway, rc = connect(secured_broker, "gateway")
    assert not rc.is_failure
    seen = collect(gateway, "shelfsense/#")
    camera, _ = connect(secured_broker, "store-1/cam-1")
    camera.publish("shelfsense/store-1/cam-1/state", b"own", qos=1).wait_for_publish(5)
    camera.publish("shelfsense/store-1/cam-2/state", b"spoof", qos=1).wait_for_publish(5)
    camera.publish("shelfsense/store-1/cam-1/config", b"self-config", qos=1).wait_for_publish(5)
    time.sleep(0.5)
    assert seen == [("shelfsense/store-1/cam-1/state", b"own")]
    for client in (camera, gateway):
        client.loop_stop()
        client.disconnect()


def test_camera_reads_only_its_own_config(secured_broker: Mosquitto) -> None:
    gateway, _ = connect(secured_broker, "gateway")
    for cam in ("cam-1", "cam-2"):
        info = gateway.publish(f"shelfsense/store-1/{cam}/config", cam.encode(), qos=1, retain=True)
        info.wait_for_publish(5)
    camera, _ = connect(secured_broker, "store-1/cam-1")
    seen = collect(camera, "shelfsense/store-1/+/config")
    time.sleep(0.5)
    assert seen == [("shelfsense/store-1/cam-1/config", b"cam-1")]
    for client in (camera, gateway):
        client.loop_stop()
        client.disconnect()


def test_a_store_reads_its_own_advice_only(secured_broker: Mosquitto) -> None:
    gateway, _ = connect(secured_broker, "gateway")
    for store in ("store-1", "store-2"):
        topic = f"shelfsense/{store}/advice"
        gateway.publish(topic, store.encode(), qos=1, retain=True).wait_for_publish(5)
    display, rc = connect(secured_broker, "store-1")
    assert not rc.is_failure
    seen = collect(display, "shelfsense/+/advice")
    time.sleep(0.5)
    assert seen == [("shelfsense/store-1/advice", b"store-1")]
    for client in (display, gateway):
        client.loop_stop()
        client.disconnect()


def test_snapshots_go_only_between_the_gateway_and_their_own_camera(
    secured_broker: Mosquitto,
) -> None:
    gateway, _ = connect(secured_broker, "gateway")
    from_cameras = collect(gateway, "shelfsense/+/+/snapshot")
    camera, _ = connect(secured_broker, "store-1/cam-1")
    requests = collect(camera, "shelfsense/store-1/+/snapshot_request")
    for cam in ("cam-1", "cam-2"):
        topic = f"shelfsense/store-1/{cam}/snapshot_request"
        gateway.publish(topic, cam.encode(), qos=1).wait_for_publish(5)
    camera.publish("shelfsense/store-1/cam-1/snapshot", b"own", qos=1).wait_for_publish(5)
    camera.publish("shelfsense/store-1/cam-2/snapshot", b"spoof", qos=1).wait_for_publish(5)
    camera.publish(
        "shelfsense/store-1/cam-2/snapshot_request", b"self-request", qos=1
    ).wait_for_publish(5)
    time.sleep(0.5)
    assert requests == [("shelfsense/store-1/cam-1/snapshot_request", b"cam-1")]
    assert from_cameras == [("shelfsense/store-1/cam-1/snapshot", b"own")]
    for client in (camera, gateway):
        client.loop_stop()
        client.disconnect()
