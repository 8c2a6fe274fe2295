"""The node's MQTT client: availability with Last Will, state, events, health, and config.

Conventions from Frigate / zigbee2mqtt / Home Assistant: a retained `…/availability` set
as Last Will before connecting (so a crashed node reads `offline`), `online` on every
(re)connect, `offline` on a clean stop; a retained `…/state`; QoS 1 `…/events`, never
retained; periodic `…/health`; a retained `…/config` from the gateway that the node
subscribes to; and `…/snapshot_request` from the gateway, answered on `…/snapshot`. Every publish goes through `_publish`, the one place a durable outbox
will slot in.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from pydantic import ValidationError

from edge.contract.broker import new_client
from edge.contract.messages import (
    Availability,
    Health,
    Message,
    NodeConfig,
    ShelfEvent,
    ShelfState,
    Snapshot,
    SnapshotRequest,
)
from edge.contract.topics import CameraTopics
from edge.settings import NodeSettings

log = logging.getLogger(__name__)

_PAHO_LOG = logging.getLogger(f"{__name__}.paho")
_PAHO_LOG.addFilter(
    # paho logs this at ERROR on every retry while the broker is away; we say it once.
    lambda record: not record.getMessage().startswith("Client is not connected")
)

MAX_QUEUED = 1000
"""QoS 1 messages paho keeps while the broker is away; beyond that new ones are dropped."""


class NodePublisher:
    """One camera's MQTT session. `start()` returns at once; paho's thread connects,
    reconnects with backoff, and delivers config messages to `on_config`."""

    def __init__(
        self,
        settings: NodeSettings,
        on_config: Callable[[NodeConfig], None] | None = None,
        on_snapshot_request: Callable[[SnapshotRequest], None] | None = None,
    ) -> None:
        self.settings = settings
        self.on_config = on_config
        self.on_snapshot_request = on_snapshot_request
        self.topics = CameraTopics(settings.store, settings.camera, settings.mqtt.topic_prefix)
        self.published = 0
        self.dropped = 0
        self._connected = threading.Event()
        self._stopping = False
        self._failed_attempts = 0
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        cfg = self.settings.mqtt
        client = new_client(cfg, self.settings.client_id, clean_session=True)
        client.enable_logger(_PAHO_LOG)
        # Last Will first: if this process dies the broker itself says we are offline.
        client.will_set(self.topics.availability, self._availability("offline"), qos=1, retain=True)
        client.max_queued_messages_set(MAX_QUEUED)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _availability(self, state: str) -> bytes:
        return Availability(
            store=self.settings.store, camera=self.settings.camera, state=state
        ).to_json()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; a broker that is down is retried with backoff."""
        cfg = self.settings.mqtt
        log.info("connecting to %s as %s", cfg.url, self.settings.client_id)
        self.client.connect_async(cfg.host, cfg.port, keepalive=cfg.keepalive_s)
        self.client.loop_start()

    def stop(self, timeout: float = 5.0) -> None:
        """Publish retained `offline`, then disconnect cleanly (so the Last Will is not sent)."""
        self._stopping = True
        if self._connected.is_set():
            info = self.client.publish(
                self.topics.availability, self._availability("offline"), qos=1, retain=True
            )
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError) as error:
                log.warning("offline availability not confirmed: %s", error)
        self.client.disconnect()
        self.client.loop_stop()
        self._connected.clear()
        log.info("disconnected from %s", self.settings.mqtt.url)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    # -- paho callbacks (paho's network thread) ------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker %s refused the connection: %s", self.settings.mqtt.url, reason_code)
            return
        log.info("connected to %s", self.settings.mqtt.url)
        self._failed_attempts = 0
        client.publish(self.topics.availability, self._availability("online"), qos=1, retain=True)
        client.subscribe([(self.topics.config, 1), (self.topics.snapshot_request, 1)])
        self._connected.set()

    def _on_connect_fail(self, client: mqtt.Client, userdata) -> None:
        self._failed_attempts += 1
        level = logging.WARNING if self._failed_attempts in (1, 10) else logging.DEBUG
        log.log(
            level,
            "cannot reach the broker at %s (attempt %d); retrying",
            self.settings.mqtt.url,
            self._failed_attempts,
        )

    def _on_disconnect(self, client: mqtt.Client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()
        if not self._stopping:
            log.warning("lost the broker (%s); reconnecting", reason_code)

    def _on_message(self, client: mqtt.Client, userdata, message: mqtt.MQTTMessage) -> None:
        if message.topic == self.topics.snapshot_request:
            self._on_snapshot_request(message)
            return
        if message.topic != self.topics.config:
            return
        if not message.payload:
            log.info("%s: config cleared on the broker; keeping the current layout", message.topic)
            return
        try:
            config = NodeConfig.model_validate_json(message.payload)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(payload)'}: {e['msg']}"
                for e in error.errors()
            )
            log.error(
                "%s: invalid config ignored, keeping the current layout: %s",
                message.topic,
                problems,
            )
            return
        log.info("%s: config version %s received", message.topic, config.version)
        if self.on_config is not None:
            self.on_config(config)

    def _on_snapshot_request(self, message: mqtt.MQTTMessage) -> None:
        try:
            request = SnapshotRequest.model_validate_json(message.payload)
        except ValidationError as error:
            log.error("%s: invalid snapshot request ignored: %s", message.topic, error)
            return
        if self.on_snapshot_request is not None:
            self.on_snapshot_request(request)

    # -- publishing ------------------------------------------------------------------------

    def _publish(
        self, topic: str, payload: Message, *, qos: int, retain: bool, queue: bool
    ) -> bool:
        """Send one payload. `queue=False` drops it while offline (a newer one will follow);
        `queue=True` lets paho hold it (QoS 1) until the broker is back."""
        if not queue and not self._connected.is_set():
            self.dropped += 1
            return False
        info = self.client.publish(topic, payload.to_json(), qos=qos, retain=retain)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            self.dropped += 1
            log.warning("%s: publish failed: %s", topic, mqtt.error_string(info.rc))
            return False
        self.published += 1
        return True

    def publish_state(self, state: ShelfState) -> bool:
        """Retained latest state; a stale one is worthless, so it is not queued offline."""
        return self._publish(self.topics.state, state, qos=1, retain=True, queue=False)

    def publish_event(self, event: ShelfEvent) -> bool:
        """QoS 1, not retained, queued while offline: each transition counts."""
        return self._publish(self.topics.events, event, qos=1, retain=False, queue=True)

    def publish_snapshot(self, snapshot: Snapshot) -> bool:
        """QoS 1, not retained, not queued: an answer nobody waits for any more is useless."""
        return self._publish(self.topics.snapshot, snapshot, qos=1, retain=False, queue=False)

    def publish_health(self, health: Health) -> bool:
        return self._publish(self.topics.health, health, qos=0, retain=False, queue=False)
