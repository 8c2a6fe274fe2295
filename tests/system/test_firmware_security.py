"""The shipped broker config, as a store runs it: certificates made by make-certs.sh, TLS
with client certificates, per-device identities, the ACL and the revocation list, all
enforced by a real Mosquitto. Only paths and ports are changed for the test."""

from __future__ import annotations

import getpass
import re
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge.contract.messages import Health
from edge.publisher import NodePublisher
from edge.settings import NodeSettings
from tests.support.edge_nodes import wait_for
from tests.support.paths import REPO
from tests.support.services import Mosquitto, find_binary, free_port

FIRMWARE = REPO / "firmware_config"
SCRIPT = FIRMWARE / "make-certs.sh"
GATEWAY_PASSWORD = "gw-secret"


def make_certs(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    find_binary("openssl")
    return subprocess.run(
        ["sh", str(SCRIPT), str(folder), *args], capture_output=True, text=True, check=False
    )


@dataclass
class StoreBroker:
    broker: Mosquitto
    plain_port: int
    tls_port: int
    certs: Path

    def restart(self) -> None:
        self.broker.stop()
        self.broker.start()


def shipped_config(certs: Path, passwd: Path, workdir: Path, plain: int, tls: int) -> str:
    """firmware_config/mosquitto/mosquitto.conf with test paths and ports, nothing else."""
    text = (FIRMWARE / "mosquitto" / "mosquitto.conf").read_text()
    replacements = {
        "/etc/mosquitto/shelfsense.passwd": str(passwd),
        "/etc/mosquitto/conf.d/shelfsense.acl": str(FIRMWARE / "mosquitto" / "shelfsense.acl"),
        "/etc/mosquitto/certs/": f"{certs}/",
        "/var/lib/mosquitto/": f"{workdir}/",
        "listener 1883 127.0.0.1": f"listener {plain} 127.0.0.1",
        "listener 8883\n": f"listener {tls} 127.0.0.1\n",
    }
    for old, new in replacements.items():
        assert old in text, f"the shipped config no longer contains {old!r}"
        text = text.replace(old, new)
    # As root, Mosquitto would switch to the `mosquitto` user, who cannot read tmp_path.
    return f"user {getpass.getuser()}\n{text}"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StoreBroker]:
    certs = tmp_path / "certs"
    for args in (
        ("init",),
        ("broker", "localhost", "127.0.0.1"),
        ("client", "store-1/cam-1"),
        ("client", "store-1/cam-2"),
        ("client", "store-1"),  # the store's POS terminals
        ("client", "gateway"),
    ):
        result = make_certs(certs, *args)
        assert result.returncode == 0, result.stderr
    passwd = tmp_path / "passwd"
    passwd.touch()
    subprocess.run(
        [find_binary("mosquitto_passwd"), "-b", str(passwd), "gateway", GATEWAY_PASSWORD],
        check=True,
    )
    plain, tls = free_port(), free_port()
    broker = Mosquitto(
        tmp_path / "broker",
        port=plain,
        extra_ports=(tls,),
        config=shipped_config(certs, passwd, tmp_path / "broker", plain, tls),
    )
    broker.start()
    yield StoreBroker(broker, plain, tls, certs)
    broker.stop()


class Client:
    """A paho client that records what it receives; `rc` is the CONNACK, or None when the
    TLS handshake itself was refused."""

    def __init__(
        self,
        port: int,
        *,
        cert: str | None = None,
        ca: Path | None = None,
        certs: Path | None = None,
        password: str | None = None,
        user: str | None = None,
    ) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.rc: mqtt.ReasonCode | None = None
        self.error: Exception | None = None
        self._done = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{time.time_ns()}")
        if ca is not None:
            files = {}
            if cert is not None:
                assert certs is not None
                files = {
                    "certfile": str(certs / "clients" / f"{cert}.crt"),
                    "keyfile": str(certs / "clients" / f"{cert}.key"),
                }
            self.client.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED, **files)
        if user is not None:
            self.client.username_pw_set(user, password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self._done.set()  # a refused TLS handshake
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, m.payload))
        try:
            self.client.connect("127.0.0.1", port, keepalive=5)
        except (ssl.SSLError, OSError) as error:
            self.error = error
            self._done.set()
            return
        self.client.loop_start()
        self._done.wait(5)

    def _on_connect(self, _c, _u, _f, reason_code: mqtt.ReasonCode, _p) -> None:
        self.rc = reason_code
        self._done.set()

    @property
    def accepted(self) -> bool:
        return self.rc is not None and not self.rc.is_failure

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *_: done.set()
        self.client.subscribe(topic, qos=1)
        assert done.wait(5), f"no SUBACK for {topic}"

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def camera(store: StoreBroker, name: str) -> Client:
    client = Client(store.tls_port, cert=name, ca=store.certs / "store-ca.crt", certs=store.certs)
    assert client.accepted, f"{name} was refused: {client.rc or client.error}"
    return client


def gateway(store: StoreBroker) -> Client:
    client = Client(store.plain_port, user="gateway", password=GATEWAY_PASSWORD)
    assert client.accepted, f"the gateway was refused: {client.rc}"
    client.subscribe("shelfsense/#")
    return client


def test_a_camera_publishes_only_as_itself(store: StoreBroker) -> None:
    gw = gateway(store)
    cam = camera(store, "store-1/cam-1")
    for topic in (
        "shelfsense/store-1/cam-1/state",  # its own: allowed
        "shelfsense/store-1/cam-2/state",  # another camera's
        "shelfsense/store-1/cam-2/events",
        "shelfsense/store-2/cam-1/events",  # the same camera name in another store
        "shelfsense/store-1/cam-1/config",  # its own config is the gateway's to write
        "shelfsense/_gateway/availability",
    ):
        cam.publish(topic, b"from cam-1")
    time.sleep(0.5)
    assert gw.messages == [("shelfsense/store-1/cam-1/state", b"from cam-1")]
    cam.close()
    gw.close()


def test_a_stores_pos_terminals_publish_only_its_sales(store: StoreBroker) -> None:
    gw = gateway(store)
    till = camera(store, "store-1")
    for topic in (
        "shelfsense/store-1/pos_sales",  # its own store's sales: allowed
        "shelfsense/store-2/pos_sales",  # another store's
        "shelfsense/store-1/cam-1/events",  # a camera's
        "shelfsense/store-1/advice",
    ):
        till.publish(topic, b"from the till")
    time.sleep(0.5)
    assert gw.messages == [("shelfsense/store-1/pos_sales", b"from the till")]
    till.close()
    gw.close()


def test_a_camera_reads_only_its_own_config(store: StoreBroker) -> None:
    gw = gateway(store)
    for name in ("cam-1", "cam-2"):
        gw.publish(f"shelfsense/store-1/{name}/config", name.encode(), retain=True)
    cam = camera(store, "store-1/cam-1")
    for topic in ("shelfsense/#", "shelfsense/store-1/+/config", "shelfsense/store-1/cam-2/state"):
        cam.subscribe(topic)
    gw.publish("shelfsense/store-1/cam-2/state", b"cam-2 state")
    time.sleep(0.5)
    # (once per matching subscription: both wildcards give it its own config)
    assert set(cam.messages) == {("shelfsense/store-1/cam-1/config", b"cam-1")}
    cam.close()
    gw.close()


def test_the_gateway_may_configure_cameras_but_not_speak_for_them(store: StoreBroker) -> None:
    gw = gateway(store)
    tls_gateway = camera(store, "gateway")  # its certificate, for a gateway on another host
    tls_gateway.subscribe("shelfsense/#")
    for topic in ("shelfsense/store-1/cam-1/events", "shelfsense/store-1/cam-1/availability"):
        gw.publish(topic, b"forged")
    gw.publish("shelfsense/store-1/cam-1/config", b"layout")
    time.sleep(0.5)
    assert tls_gateway.messages == [("shelfsense/store-1/cam-1/config", b"layout")]
    tls_gateway.close()
    gw.close()


def test_anonymous_and_foreign_clients_are_refused(store: StoreBroker, tmp_path: Path) -> None:
    ca = store.certs / "store-ca.crt"
    anonymous = Client(store.plain_port)
    assert anonymous.rc is not None and anonymous.rc.is_failure
    wrong_password = Client(store.plain_port, user="gateway", password="guess")
    assert wrong_password.rc is not None and wrong_password.rc.is_failure
    # A camera's user name with no password, on the loopback listener.
    impostor = Client(store.plain_port, user="store-1/cam-1")
    assert impostor.rc is not None and impostor.rc.is_failure
    # TLS without a client certificate: the handshake itself fails.
    no_cert = Client(store.tls_port, ca=ca)
    assert not no_cert.accepted
    # A certificate from another CA (someone's own "store").
    other = tmp_path / "other-ca"
    for args in (("init",), ("client", "store-1/cam-1")):
        assert make_certs(other, *args).returncode == 0
    foreign = Client(store.tls_port, cert="store-1/cam-1", ca=ca, certs=other)
    assert not foreign.accepted
    for client in (anonymous, wrong_password, impostor, no_cert, foreign):
        client.client.loop_stop()


def test_a_revoked_camera_is_shut_out(store: StoreBroker) -> None:
    camera(store, "store-1/cam-2").close()
    result = make_certs(store.certs, "revoke", "store-1/cam-2")
    assert result.returncode == 0, result.stderr
    store.restart()  # Mosquitto reads the revocation list at start
    refused = Client(
        store.tls_port, cert="store-1/cam-2", ca=store.certs / "store-ca.crt", certs=store.certs
    )
    assert not refused.accepted
    assert "certificate verify failed" in (store.broker.workdir / "mosquitto.log").read_text()
    refused.client.loop_stop()
    camera(store, "store-1/cam-1").close()  # the others still get in


def test_the_node_connects_with_its_certificate(store: StoreBroker, tmp_path: Path) -> None:
    gw = gateway(store)
    clients = store.certs / "clients" / "store-1"
    settings = NodeSettings.model_validate(
        {
            "store": "store-1",
            "camera": "cam-1",
            "mqtt": {
                "url": f"mqtts://127.0.0.1:{store.tls_port}",
                "tls": {
                    "ca_file": str(store.certs / "store-ca.crt"),
                    "cert_file": str(clients / "cam-1.crt"),
                    "key_file": str(clients / "cam-1.key"),
                },
            },
            "source": {"kind": "folder", "path": "unused"},
            "data_dir": str(tmp_path / "node"),
        }
    )
    publisher = NodePublisher(settings)
    publisher.start()
    try:
        assert publisher.wait_connected(10), "the node could not connect with its certificate"
        publisher.publish_health(
            Health(store="store-1", camera="cam-1", uptime_s=1, frames_processed=0)
        )
        wait_for(lambda: any(t.endswith("/cam-1/health") for t, _ in gw.messages))
    finally:
        publisher.stop()
    gw.close()


def test_the_script_refuses_bad_names_and_a_second_ca(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    assert make_certs(certs, "client", "store-1/cam-1").returncode != 0  # no CA yet
    assert make_certs(certs, "init").returncode == 0
    again = make_certs(certs, "init")
    assert again.returncode != 0 and "exists already" in again.stderr
    for bad in ("-cam", "store-1/cam/1", "store 1/cam-1", "+/#", "store-1/", "store-1/.."):
        result = make_certs(certs, "client", bad)
        assert result.returncode != 0 and bad in result.stderr, bad
    key = (certs / "private" / "store-ca.key").stat().st_mode
    assert key & 0o077 == 0, "the CA key must be readable by its owner only"
    subject = subprocess.run(
        ["openssl", "x509", "-in", str(certs / "store-ca.crt"), "-noout", "-subject"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(r"shelfsense store CA \d{14}", subject)
