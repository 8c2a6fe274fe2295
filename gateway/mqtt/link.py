"""The gateway's MQTT client: camera and POS subscriptions, retained config publishing.

A fixed client id with a persistent session (MQTT 3.1.1, clean_session=False) makes the
broker queue QoS 1 messages while the gateway is down (restart, upgrade) and deliver them
on reconnect, so no event is lost. paho's network thread reconnects with backoff.

Acknowledgements are manual: a message's PUBACK is sent only once ingest has committed it
to SQLite, so a gateway killed with messages in memory loses none of them (the broker
sends them again). An ack is sent only on the connection the message came in on: after a
reconnect the broker redelivers what was not acknowledged, with the same packet id.

Each message's topic is read here, once (`parse_topic`), and handed on already split.
The gateway's own availability (retained, and its Last Will) is published on the
contract's `gateway_availability_topic`.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from edge.contract.broker import new_client
from edge.contract.messages import SCHEMA_VERSION, NodeConfig, SnapshotRequest
from edge.contract.topics import (
    CameraTopics,
    IncomingTopic,
    camera_subscription,
    gateway_availability_topic,
    parse_topic,
    pos_sales_subscription,
)
from edge.layout import Layout
from gateway.config.settings import MqttSettings

log = logging.getLogger(__name__)

MessageHandler = Callable[[IncomingTopic, bytes, bool, Callable[[], None] | None], None]
"""(topic, payload, retained, ack) -> None; must return quickly (it runs on paho's thread).
`ack` (None for QoS 0) must be called once the message is safely stored."""


def _availability_payload(state: str) -> bytes:
    return json.dumps({"schema_version": SCHEMA_VERSION, "state": state}).encode()


class MqttLink:
    """One paho client: subscribes to every camera, publishes retained node configs."""

    def __init__(self, settings: MqttSettings, on_message: MessageHandler) -> None:
        self.settings = settings
        self.prefix = settings.topic_prefix
        self._on_message_handler = on_message
        self._configs: dict[tuple[str, str], bytes] = {}
        self._models: dict[tuple[str, str], bytes] = {}
        """Each camera's model announcement (b"": withdrawn), kept and sent like configs."""
        self._configs_lock = threading.Lock()
        self._connected = threading.Event()
        self._subscribed = threading.Event()  # the broker confirmed our subscriptions
        self._subscribe_mid: int | None = None
        self._started = False
        self._session = 0
        """Counts connections; an ack from an earlier one is not sent (see module doc)."""
        self.connects = 0
        self.connect_listeners: list[Callable[[], None]] = []
        """Called on paho's thread after each connect (must return at once)."""
        self.last_error: str | None = None
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        # Fixed client id and no clean session: what was queued while we were down arrives.
        client = new_client(s, s.client_id, clean_session=False)
        client.manual_ack_set(True)
        client.will_set(
            gateway_availability_topic(self.prefix),
            _availability_payload("offline"),
            qos=1,
            retain=True,
        )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Begin connecting in the background; a broker that is down is retried forever."""
        if self._started:
            return
        self._started = True
        self.client.connect_async(
            self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s
        )
        self.client.loop_start()

    def stop(self, timeout: float = 5.0) -> None:
        """Say `offline` (retained), disconnect cleanly and end the network thread."""
        if not self._started:
            return
        if self._connected.is_set():
            info = self.client.publish(
                gateway_availability_topic(self.prefix),
                _availability_payload("offline"),
                qos=1,
                retain=True,
            )
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError):
                log.warning("could not publish the gateway's offline state before stopping")
        self.client.disconnect()
        self.client.loop_stop()
        self._connected.clear()
        self._started = False

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Wait until connected and subscribed: from then on nothing sent is missed."""
        return self._subscribed.wait(timeout)

    # ---- configs ---------------------------------------------------------------------

    def publish_config(
        self,
        store: str,
        camera: str,
        layout: Layout | None,
        *,
        snapshots_enabled: bool = False,
    ) -> str | None:
        """Publish a camera's layout (None: none yet) as its retained config; returns the
        version sent.

        Kept and sent again on every connect, so a broker that lost its retained
        messages still hands every camera its layout.
        """
        config = NodeConfig(
            version=layout.version if layout is not None else None,
            layout=layout,
            snapshots_enabled=snapshots_enabled,
        )
        payload = config.to_json()
        with self._configs_lock:
            self._configs[(store, camera)] = payload
        if self._connected.is_set():
            self._publish_config(store, camera, payload)
        return config.version

    def forget_camera(self, store: str, camera: str) -> None:
        """A deleted camera: stop re-sending its config and clear its retained config,
        state, availability and health (an empty retained message deletes one), so the
        gateway's next start does not bring it back from the broker."""
        with self._configs_lock:
            self._configs.pop((store, camera), None)
            self._models.pop((store, camera), None)
        if not self._connected.is_set():
            return
        topics = CameraTopics(store, camera, self.prefix)
        for topic in (
            topics.config,
            topics.state,
            topics.availability,
            topics.health,
            topics.model,
            topics.rollout,
        ):
            self.client.publish(topic, b"", qos=1, retain=True)

    def publish_model(self, store: str, camera: str, announcement: bytes | None) -> None:
        """Publish a camera's retained model announcement (None: withdraw it, so the node
        runs its configured model); kept and sent again on every connect, like configs."""
        payload = announcement or b""
        with self._configs_lock:
            self._models[(store, camera)] = payload
        if self._connected.is_set():
            topic = CameraTopics(store, camera, self.prefix).model
            self.client.publish(topic, payload, qos=1, retain=True)

    def publish_snapshot_request(self, store: str, camera: str, request: SnapshotRequest) -> bool:
        """Ask a camera for one snapshot (QoS 1, not retained); False when offline."""
        if not self._connected.is_set():
            return False
        topic = CameraTopics(store, camera, self.prefix).snapshot_request
        info = self.client.publish(topic, request.to_json(), qos=1, retain=False)
        return info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS

    def _publish_config(self, store: str, camera: str, payload: bytes) -> None:
        topic = CameraTopics(store, camera, self.prefix).config
        info = self.client.publish(topic, payload, qos=1, retain=True)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            log.error("cannot publish config on %s: %s", topic, mqtt.error_string(info.rc))

    # ---- paho callbacks (network thread) ---------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: mqtt.ReasonCode,
        properties: mqtt.Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self.last_error = f"broker refused the connection: {reason_code}"
            log.error("%s (%s)", self.last_error, self.settings.url)
            return
        self.connects += 1
        self._session += 1
        self.last_error = None
        log.info(
            "connected to %s (session %s)",
            self.settings.url,
            "resumed" if flags.session_present else "new",
        )
        self._subscribed.clear()
        _, self._subscribe_mid = client.subscribe(
            [(camera_subscription(self.prefix), 1), (pos_sales_subscription(self.prefix), 1)]
        )
        client.publish(
            gateway_availability_topic(self.prefix),
            _availability_payload("online"),
            qos=1,
            retain=True,
        )
        with self._configs_lock:
            configs = list(self._configs.items())
            models = list(self._models.items())
        self._connected.set()
        for (store, camera), payload in configs:
            self._publish_config(store, camera, payload)
        for (store, camera), payload in models:
            topic = CameraTopics(store, camera, self.prefix).model
            client.publish(topic, payload, qos=1, retain=True)
        for listener in self.connect_listeners:
            listener()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: mqtt.ReasonCode,
        properties: mqtt.Properties | None,
    ) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        self._subscribed.clear()
        if was_connected and reason_code.is_failure:
            self.last_error = f"connection lost: {reason_code}"
            log.warning("%s; reconnecting to %s", self.last_error, self.settings.url)

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[mqtt.ReasonCode],
        properties: mqtt.Properties | None,
    ) -> None:
        if mid != self._subscribe_mid:
            return
        refused = [str(code) for code in reason_codes if code.is_failure]
        if refused:
            self.last_error = f"broker refused the subscriptions: {', '.join(refused)}"
            log.error("%s (check the gateway's ACL)", self.last_error)
            return
        self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        ack = (
            functools.partial(self._ack, self._session, message.mid, message.qos)
            if message.qos > 0
            else None
        )
        try:
            topic = parse_topic(message.topic, self.prefix)
            self._on_message_handler(topic, message.payload, bool(message.retain), ack)
        except Exception:  # the network thread must survive any handler bug
            log.exception("message handler failed for %s", message.topic)

    def _ack(self, session: int, mid: int, qos: int) -> None:
        """PUBACK a stored message, if the connection it came on is still the current one."""
        if session == self._session and self._connected.is_set():
            self.client.ack(mid, qos)
