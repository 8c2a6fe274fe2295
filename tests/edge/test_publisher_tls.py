"""The node's MQTT client against a store-like Mosquitto: TLS, password, the shipped ACL."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge.contract.messages import Availability, Health
from edge.contract.topics import CameraTopics
from edge.publisher import NodePublisher
from edge.settings import NodeSettings
from tests.support.edge_nodes import wait_for
from tests.support.paths import REPO
from tests.support.services import Mosquitto, find_binary, free_port

ACL = REPO / "firmware_config" / "mosquitto" / "shelfsense.acl"
USERS = {"gateway": "gw-secret", "store-1/cam-1": "cam1-secret"}
TOPICS = CameraTopics("store-1", "cam-1")


def make_certificates(folder: Path) -> dict[str, Path]:
    """A store CA and a broker certificate for 127.0.0.1 signed by it (openssl)."""
    openssl = find_binary("openssl")
    folder.mkdir()
    files = {n: folder / f"{n}" for n in ("ca.key", "ca.crt", "broker.key", "broker.csr")}
    files["broker.crt"] = folder / "broker.crt"

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", str(files["ca.key"]), "-out", str(files["ca.crt"]),
        "-days", "2", "-subj", "/CN=shelfsense test store CA")  # fmt: skip
    run("req", *ec, "-keyout", str(files["broker.key"]), "-out", str(files["broker.csr"]),
        "-subj", "/CN=127.0.0.1")  # fmt: skip
    extensions = folder / "san.cnf"
    extensions.write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", str(files["broker.csr"]), "-CA", str(files["ca.crt"]),
        "-CAkey", str(files["ca.key"]), "-CAcreateserial", "-out", str(files["broker.crt"]),
        "-days", "2", "-extfile", str(extensions))  # fmt: skip
    return files


@pytest.fixture
def store_broker(tmp_path: Path) -> Iterator[tuple[Mosquitto, int, Path]]:
    """TLS listener (the broker's main port) for cameras, plain port for the gateway."""
    certs = make_certificates(tmp_path / "certs")
    passwd = tmp_path / "passwd"
    passwd.touch()
    tool = find_binary("mosquitto_passwd")
    for user, password in USERS.items():
        subprocess.run([tool, "-b", str(passwd), user, password], check=True)
    plain_port = free_port()
    broker = Mosquitto(
        tmp_path / "broker",
        config_extra=(
            f"cafile {certs['ca.crt']}\ncertfile {certs['broker.crt']}\n"
            f"keyfile {certs['broker.key']}\n"
            f"allow_anonymous false\npassword_file {passwd}\nacl_file {ACL}\n"
            f"listener {plain_port} 127.0.0.1\n"
        ),
        extra_ports=(plain_port,),
    )
    broker.start()
    yield broker, plain_port, certs["ca.crt"]
    broker.stop()


def gateway_client(port: int) -> tuple[mqtt.Client, list[mqtt.MQTTMessage]]:
    received: list[mqtt.MQTTMessage] = []
    ready = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"gw-{time.time_ns()}")
    client.username_pw_set("gateway", USERS["gateway"])
    client.on_connect = lambda c, *_: c.subscribe("shelfsense/#", qos=1)
    client.on_subscribe = lambda *_: ready.set()
    client.on_message = lambda _c, _u, msg: received.append(msg)
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert ready.wait(5), "gateway client could not subscribe"
    return client, received


def settings(port: int, ca_file: Path, password: str) -> NodeSettings:
    return NodeSettings.model_validate(
        {
            "store": "store-1",
            "camera": "cam-1",
            "mqtt": {
                "url": f"mqtts://127.0.0.1:{port}",
                "username": "store-1/cam-1",
                "password": password,
                "tls": {"ca_file": str(ca_file)},
                "reconnect_min_s": 0.2,
                "reconnect_max_s": 1,
            },
            "source": {"kind": "folder", "path": "unused"},
            "data_dir": str(ca_file.parent.parent / "node-data"),
        }
    )


def test_node_connects_over_tls_with_its_password_within_the_acl(
    store_broker: tuple[Mosquitto, int, Path],
) -> None:
    broker, plain_port, ca_file = store_broker
    gateway, received = gateway_client(plain_port)
    publisher = NodePublisher(settings(broker.port, ca_file, USERS["store-1/cam-1"]))
    publisher.start()
    try:
        assert publisher.wait_connected(10), "the node did not connect over TLS"
        health = Health(store="store-1", camera="cam-1", uptime_s=1, frames_processed=0)
        assert publisher.publish_health(health)
        wait_for(lambda: {m.topic for m in received} >= {TOPICS.availability, TOPICS.health})
        online = next(m for m in received if m.topic == TOPICS.availability)
        assert Availability.model_validate_json(online.payload).state == "online"
    finally:
        publisher.stop()
    wait_for(lambda: b'"offline"' in received[-1].payload)
    gateway.disconnect()
    gateway.loop_stop()


def test_wrong_password_is_refused_and_never_connects(
    store_broker: tuple[Mosquitto, int, Path], caplog: pytest.LogCaptureFixture
) -> None:
    broker, _, ca_file = store_broker
    publisher = NodePublisher(settings(broker.port, ca_file, "wrong"))
    publisher.start()
    try:
        wait_for(lambda: "refused the connection" in caplog.text)
        assert not publisher.connected
    finally:
        publisher.stop()
