"""The node's MQTT client: availability with Last Will, state, events, health, and config.

Conventions from Frigate / zigbee2mqtt / Home Assistant: a retained `…/availability` set
as Last Will before connecting (so a crashed node reads `offline`), `online` on every
(re)connect, `offline` on a clean stop; a retained `…/state`; QoS 1 `…/events`, never
retained; periodic `…/health`; a retained `…/config` from the gateway that the node
subscribes to; and `…/snapshot_request` from the gateway, answered on `…/snapshot`; a
retained `…/model` announcement (a signed model roll-out), answered on the retained
`…/rollout` (sent again on every connect, so the gateway hears it after an outage).

States and events go through the durable outbox (`edge.outbox`): committed to SQLite
first, handed to paho by one sender thread in row order, a window at a time, and deleted
when the broker's PUBACK arrives. After a reconnect paho resends what was in flight
(oldest first) and the sender waits for those acknowledgements before it hands over newer
rows, so the broker sees every camera's messages in the order the node made them (the
retained state it keeps is the newest). Health is QoS 0 and skipped while offline: a
newer one follows.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import paho.mqtt.client as mqtt
from pydantic import ValidationError

from edge.contract.broker import new_client
from edge.contract.messages import (
    Availability,
    Health,
    NodeConfig,
    ShelfEvent,
    ShelfState,
    Snapshot,
    SnapshotRequest,
)
from edge.contract.model_rollout import ModelAnnouncement, RolloutStatus
from edge.contract.topics import CameraTopics
from edge.outbox import Outbox, OutboxError, OutgoingMessage
from edge.settings import NodeSettings

log = logging.getLogger(__name__)

_PAHO_LOG = logging.getLogger(f"{__name__}.paho")
_PAHO_LOG.addFilter(
    # paho logs this at ERROR on every retry while the broker is away; we say it once.
    lambda record: not record.getMessage().startswith("Client is not connected")
)

SEND_WINDOW = 20
"""Outbox rows handed to paho and not yet acknowledged, at most (paho's in-flight default)."""
SENDER_IDLE_S = 1.0
"""The sender thread looks at the outbox at least this often, whatever wakes it."""


class NodePublisher:
    """One camera's MQTT session. `start()` returns at once; paho's thread connects,
    reconnects with backoff, and delivers config messages to `on_config`."""

    def __init__(
        self,
        settings: NodeSettings,
        on_config: Callable[[NodeConfig], None] | None = None,
        on_snapshot_request: Callable[[SnapshotRequest], None] | None = None,
        on_model: Callable[[ModelAnnouncement | None], None] | None = None,
    ) -> None:
        self.settings = settings
        self.on_config = on_config
        self.on_snapshot_request = on_snapshot_request
        self.on_model = on_model
        self._rollout_status: bytes | None = None
        self.topics = CameraTopics(settings.store, settings.camera, settings.mqtt.topic_prefix)
        self.outbox = Outbox(settings.outbox_path, settings.outbox.max_messages)
        self.acknowledged = 0
        """Outbox messages the broker has acknowledged since start."""
        self.skipped = 0
        """Health messages not sent because the broker was away (a newer one follows)."""
        self._connected = threading.Event()
        self._stopping = False
        self._failed_attempts = 0
        # Sender state, guarded by _wake: paho callbacks only note what happened there.
        self._wake = threading.Condition()
        self._generation = 0
        self._acks: deque[int] = deque()
        self._sender: threading.Thread | None = None
        # Owned by the sender thread alone.
        self._in_flight: dict[int, int] = {}
        self._resending: set[int] = set()
        self._handed_through = 0
        self.client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        cfg = self.settings.mqtt
        client = new_client(cfg, self.settings.client_id, clean_session=True)
        client.enable_logger(_PAHO_LOG)
        # Last Will first: if this process dies the broker itself says we are offline.
        client.will_set(self.topics.availability, self._availability("offline"), qos=1, retain=True)
        client.max_inflight_messages_set(SEND_WINDOW)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        return client

    def _availability(self, state: str) -> bytes:
        return Availability(
            store=self.settings.store, camera=self.settings.camera, state=state
        ).to_json()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; a broker that is down is retried with backoff."""
        cfg = self.settings.mqtt
        if self.outbox.pending:
            log.info(
                "%s: %d message(s) from before the restart will be sent first",
                self.outbox.path,
                self.outbox.pending,
            )
        log.info("connecting to %s as %s", cfg.url, self.settings.client_id)
        self._sender = threading.Thread(
            target=self._send_loop, name=f"outbox-{self.settings.camera}", daemon=True
        )
        self._sender.start()
        self.client.connect_async(cfg.host, cfg.port, keepalive=cfg.keepalive_s)
        self.client.loop_start()

    def stop(self, timeout: float = 5.0) -> None:
        """Let the outbox drain for a moment, publish retained `offline`, then disconnect
        cleanly (so the Last Will is not sent). What is left waits in the outbox."""
        if self._connected.is_set():
            self.wait_sent(min(timeout, 2.0))
        self._stopping = True
        with self._wake:
            self._wake.notify_all()
        if self._sender is not None:
            self._sender.join(timeout)
            self._sender = None
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
        self._apply_acks()
        if self.outbox.pending:
            log.info(
                "%s: %d message(s) kept for the next start", self.outbox.path, self.outbox.pending
            )
        self.outbox.close()
        log.info("disconnected from %s", self.settings.mqtt.url)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    def wait_sent(self, timeout: float) -> bool:
        """Block until the broker has acknowledged every outbox message (or `timeout`)."""
        deadline = time.monotonic() + timeout
        while self.outbox.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, 0.02))
        return True

    # -- paho callbacks (paho's network thread) ------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker %s refused the connection: %s", self.settings.mqtt.url, reason_code)
            return
        log.info("connected to %s", self.settings.mqtt.url)
        self._failed_attempts = 0
        client.publish(self.topics.availability, self._availability("online"), qos=1, retain=True)
        client.subscribe(
            [(self.topics.config, 1), (self.topics.snapshot_request, 1), (self.topics.model, 1)]
        )
        if self._rollout_status is not None:
            client.publish(self.topics.rollout, self._rollout_status, qos=1, retain=True)
        with self._wake:
            self._generation += 1
            self._connected.set()
            self._wake.notify_all()

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

    def _on_publish(self, client: mqtt.Client, userdata, mid: int, reason_code, properties) -> None:
        # paho holds its message lock here: only note the ack, the sender thread does the rest.
        with self._wake:
            self._acks.append(mid)
            self._wake.notify_all()

    def _on_message(self, client: mqtt.Client, userdata, message: mqtt.MQTTMessage) -> None:
        if message.topic == self.topics.snapshot_request:
            self._on_snapshot_request(message)
            return
        if message.topic == self.topics.model:
            self._on_model(message)
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

    def _on_model(self, message: mqtt.MQTTMessage) -> None:
        """A model announcement; an empty one withdraws it (run the configured model)."""
        if self.on_model is None:
            return
        if not message.payload:
            log.info("%s: model announcement withdrawn", message.topic)
            self.on_model(None)
            return
        try:
            announcement = ModelAnnouncement.model_validate_json(message.payload)
        except ValidationError as error:
            log.error("%s: invalid model announcement ignored: %s", message.topic, error)
            return
        log.info("%s: model %s announced", message.topic, announcement.version)
        self.on_model(announcement)

    # -- the sender thread ------------------------------------------------------------

    def _send_loop(self) -> None:
        """Hand outbox rows to paho in order, a window at a time; delete acknowledged ones."""
        generation = 0
        while True:
            with self._wake:
                if self._stopping:
                    return
                if not self._acks and not self._can_send(generation):
                    self._wake.wait(SENDER_IDLE_S)
                if self._stopping:
                    return
                connected = self._connected.is_set()
                if connected and self._generation != generation:
                    # Reconnected: paho resends what was in flight, in order; newer rows
                    # wait until the broker has acknowledged those.
                    generation = self._generation
                    self._resending = set(self._in_flight)
            try:
                self._apply_acks()
                if connected and not self._resending and not self._hand_over():
                    time.sleep(SENDER_IDLE_S)  # paho refused a message: do not spin
            except OutboxError as error:
                log.error("%s; retrying", error)
                time.sleep(SENDER_IDLE_S)

    def _can_send(self, generation: int) -> bool:
        """Whether there is work for the sender (called with _wake held)."""
        if not self._connected.is_set():
            return False
        if self._generation != generation:
            return True
        return not self._resending and len(self._in_flight) < SEND_WINDOW and self._has_unsent()

    def _has_unsent(self) -> bool:
        return bool(self.outbox.after(self._handed_through, 1))

    def _apply_acks(self) -> None:
        with self._wake:
            mids = list(self._acks)
            self._acks.clear()
        rows = []
        for mid in mids:
            row = self._in_flight.pop(mid, None)
            self._resending.discard(mid)
            if row is not None:
                rows.append(row)
        if rows:
            self.outbox.remove(rows)
            self.acknowledged += len(rows)

    def _hand_over(self) -> bool:
        """Publish the next unsent rows while the window has room; False if paho refused."""
        room = SEND_WINDOW - len(self._in_flight)
        if room <= 0:
            return True
        for pending in self.outbox.after(self._handed_through, room):
            m = pending.message
            info = self.client.publish(m.topic, m.payload, qos=m.qos, retain=m.retain)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                log.warning(
                    "%s: publish failed, will retry: %s", m.topic, mqtt.error_string(info.rc)
                )
                return False
            # NO_CONN: paho keeps the message and sends it first on reconnect.
            self._in_flight[info.mid] = pending.id
            self._handed_through = pending.id
            self.outbox.protected_through = pending.id
        return True

    # -- publishing ------------------------------------------------------------------------

    def publish_frame(self, state: ShelfState, events: list[ShelfEvent]) -> bool:
        """Queue one frame's state and events in the outbox (one transaction), in that order.

        Returns True once they are on disk; they reach the broker as soon as it is there.
        """
        messages = [OutgoingMessage("state", self.topics.state, state.to_json(), 1, True)]
        messages += [
            OutgoingMessage("event", self.topics.events, e.to_json(), 1, False) for e in events
        ]
        return self._queue(messages)

    def publish_state(self, state: ShelfState) -> bool:
        """The retained latest state, through the outbox."""
        return self._queue([OutgoingMessage("state", self.topics.state, state.to_json(), 1, True)])

    def publish_event(self, event: ShelfEvent) -> bool:
        """One event (QoS 1, never retained), through the outbox."""
        return self._queue(
            [OutgoingMessage("event", self.topics.events, event.to_json(), 1, False)]
        )

    def _queue(self, messages: list[OutgoingMessage]) -> bool:
        """Commit to the outbox and wake the sender. If the outbox cannot be written (disk
        full, card failing) the messages go to paho directly, in memory only: False."""
        try:
            self.outbox.put(messages)
        except OutboxError as error:
            log.error("%s; sending without the outbox", error)
            for m in messages:
                self.client.publish(m.topic, m.payload, qos=m.qos, retain=m.retain)
            return False
        with self._wake:
            self._wake.notify_all()
        return True

    def publish_snapshot(self, snapshot: Snapshot) -> bool:
        """QoS 1, not retained, and not kept in the outbox: an answer nobody waits for any
        more is useless, so it goes only while connected."""
        if not self._connected.is_set():
            return False
        info = self.client.publish(self.topics.snapshot, snapshot.to_json(), qos=1)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def publish_rollout_status(self, status: RolloutStatus) -> bool:
        """The retained outcome of a model announcement (QoS 1); kept and sent again on
        every connect, so a report made while the broker was away still arrives."""
        payload = status.to_json()
        self._rollout_status = payload
        if not self._connected.is_set():
            return False
        info = self.client.publish(self.topics.rollout, payload, qos=1, retain=True)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def publish_health(self, health: Health) -> bool:
        """QoS 0, only while connected: a stale health report is worth nothing."""
        if not self._connected.is_set():
            self.skipped += 1
            return False
        info = self.client.publish(self.topics.health, health.to_json(), qos=0)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self.skipped += 1
            return False
        return True
