"""`Gateway`: wires the database, ingest, the MQTT link, the advice engine and the API.

A bad layout file is logged, naming it, and the others are published; stop order loses
nothing: the advice thread stops first (it publishes through MQTT), then MQTT (no new
messages; the broker queues the rest for our persistent session), then ingest stores
what is already queued, then the head-office feeder puts what ingest handed it into the
uplink's outbox and the uplink sends what it can for a moment (the rest waits in the
outbox file for the next start), then the InfluxDB exporter (when configured) writes what it
still holds for a few seconds, then the database closes. Those last messages were not
acknowledged (the connection was gone), so the broker sends them again after the
restart and de-duplication drops them.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from paho.mqtt.enums import MQTTErrorCode
from pydantic import ValidationError

from edge.contract.messages import SnapshotRequest
from edge.contract.model_rollout import RolloutStatus
from edge.contract.topics import CameraTopic, IncomingTopic, TopicKind
from edge.layout import Layout
from gateway.advice.worker import AdviceService
from gateway.alerts.service import AlertService
from gateway.auth.users import Users
from gateway.config.layouts import read_layouts
from gateway.config.settings import GatewaySettings
from gateway.config.version import package_version
from gateway.export.influx import InfluxExporter
from gateway.export.uplink_feed import STATE_FILE, UplinkFeeder
from gateway.export.uplink_open import open_uplink
from gateway.guidance.pull import GuidancePuller
from gateway.homeassistant.bridge import HomeAssistantBridge
from gateway.live.feed import LiveFeed
from gateway.live.updates import Broadcaster
from gateway.mqtt.ingest import Ingest, describe_validation_error
from gateway.mqtt.link import MqttLink
from gateway.mqtt.snapshots import SnapshotStore, SnapshotUnavailable, StoredSnapshot
from gateway.retail.pos import SaleLine
from gateway.rollout.model_store import ModelStore
from gateway.rollout.rollouts import RolloutService
from gateway.storage.cameras import camera_settings, snapshots_enabled
from gateway.storage.connection import Database
from gateway.storage.layouts import find_layout, list_layouts
from gateway.uplink.outbox import Uplink, UplinkStatus
from gateway.uplink.transport import LocalTransport
from gateway.web.app import create_app

if TYPE_CHECKING:
    from gateway.mqtt.embedded_broker import EmbeddedBroker

log = logging.getLogger(__name__)

STREAM_GRACE_S = 3.0
"""On stop, how long uvicorn waits for open live-update streams before closing them."""
UPLINK_FLUSH_S = 2.0
"""On stop, how long the uplink may keep sending what waits (the rest stays on disk)."""


class Gateway:
    """The store gateway. `start()`/`stop()` (or `with Gateway(...)`), `serve()` for HTTP.

    It is its own web backend (`ApiBackend`): the API reads `db`, `settings`, `advice`,
    `live` and `snapshots` and calls the layout, snapshot and sales methods below."""

    def __init__(
        self,
        settings: GatewaySettings,
        *,
        api_dependencies: Sequence[Any] = (),
        hq_transport: LocalTransport | None = None,
    ) -> None:
        """`hq_transport`: the in-process head office to feed when `hq.url` is `local`
        (the single-machine demo)."""
        if settings.hq.enabled and settings.hq.local and hq_transport is None:
            raise ValueError("hq.url is `local`: give the Gateway the in-process hq_transport")
        self.settings = settings
        self.hq_transport = hq_transport
        self.uplink: Uplink | None = None
        self.feeder: UplinkFeeder | None = None
        self.guidance: GuidancePuller | None = None
        self.db = Database.in_dir(settings.data_dir)
        self.ingest = Ingest(
            self.db,
            prefix=settings.mqtt.topic_prefix,
            max_payload_bytes=settings.max_payload_bytes,
        )
        self.exporter = InfluxExporter(settings.influx) if settings.influx else None
        if self.exporter is not None:
            self.ingest.listeners.append(self.exporter.export_stored)
        self.advice: AdviceService | None = None
        if settings.advice.enabled:
            self.advice = AdviceService(
                self.db,
                settings.advice,
                settings.pos,
                prefix=settings.mqtt.topic_prefix,
                export=self.exporter.export_many if self.exporter is not None else None,
            )
            self.ingest.listeners.append(self.advice.on_stored)
        self.live = Broadcaster()
        live_feed = LiveFeed(self.db, self.live)
        self.ingest.slot_listeners.append(live_feed.slots_changed)
        if self.advice is not None:
            self.advice.listeners.append(live_feed.advice_changed)
        self.alerts: AlertService | None = None
        if settings.alerts.enabled:
            self.alerts = AlertService(self.db, settings.alerts)
            if self.advice is not None:
                self.advice.listeners.append(self.alerts.advice_changed)
        self.link: MqttLink | None = None
        self.homeassistant = self._homeassistant_bridge()
        self.broker: EmbeddedBroker | None = None
        self.snapshots = SnapshotStore()
        self.rollouts = RolloutService(
            self.db, settings.rollouts, ModelStore(self.db, settings.data_dir / "models")
        )
        self.app: FastAPI = create_app(self, dependencies=api_dependencies)
        self._lock = threading.Lock()
        self._running = False

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Open the database, start ingest, publish layouts and connect to the broker.

        Raises DatabaseError before starting anything; a bad layout file is logged.
        The broker may be down: the link keeps retrying in the background.
        """
        with self._lock:
            if self._running:
                return
            files = read_layouts(self.settings)
            for problem in files.problems:  # one bad layout file never stops the others
                log.error("layout not loaded: %s", problem)
            configured = files.layouts
            self.db.open()
            try:
                if self.exporter is not None:
                    self.exporter.start()
                self._start_uplink()
                self.ingest.start()
                self._start_embedded_broker()
                self.link = MqttLink(self.settings.mqtt, self._on_message)
                self.rollouts.attach(self.link.publish_model)
                self.rollouts.republish()
                for record in list_layouts(self.db):
                    key = (record["store"], record["camera"])
                    if key not in configured:
                        layout = Layout.model_validate(record["layout"])
                        self._publish_config(*key, layout)
                for camera in camera_settings(self.db):
                    key = (camera["store"], camera["camera"])
                    if key not in configured and find_layout(self.db, *key) is None:
                        self._publish_config(*key, None)
                for (store, camera), layout in configured.items():
                    self._apply_layout(store, camera, layout, from_config=True)
                if self.homeassistant is not None:
                    self.link.connect_listeners.append(self.homeassistant.reconnected)
                    self.homeassistant.start()
                self.link.start()
                if self.feeder is not None and self.uplink is not None:
                    self.feeder.start()
                    self.uplink.start()
                if self.advice is not None:
                    link = self.link
                    self.advice.attach(self._publish_retained, lambda: link.connects)
                    self.advice.start()
                self._start_guidance()
                if self.alerts is not None:
                    self.alerts.start()
            except BaseException:
                self._shutdown()
                raise
            self._running = True
            log.info(
                "gateway started: broker %s, data %s, %d layout(s)",
                self.settings.mqtt.url,
                self.db.path,
                len(configured),
            )
            if not Users(self.db).all():
                log.warning(
                    "no users yet: nobody can sign in. Make the first admin with "
                    "`shelf-gateway users add admin --role admin --config <this config>`"
                )

    def stop(self) -> None:
        """Disconnect (publishing `offline`), store what is queued, close the database."""
        with self._lock:
            if not self._running:
                return
            self._shutdown()
            self._running = False
            log.info("gateway stopped")

    def _shutdown(self) -> None:
        self.live.close()
        if self.advice is not None:
            self.advice.stop()
        if self.alerts is not None:
            self.alerts.stop()
        if self.homeassistant is not None:
            self.homeassistant.stop()
        if self.link is not None:
            self.link.stop()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
        self.ingest.stop()
        self._stop_uplink()
        if self.guidance is not None:
            self.guidance.stop()
            self.guidance = None
        if self.exporter is not None:
            self.exporter.stop()
        self.db.close()

    def _homeassistant_bridge(self) -> HomeAssistantBridge | None:
        """With `homeassistant:` set: the bridge announcing cameras to Home Assistant,
        told of stored messages and changed advice."""
        settings = self.settings.homeassistant
        if settings is None or not settings.enabled:
            return None
        bridge = HomeAssistantBridge(
            self.db,
            settings,
            prefix=self.settings.mqtt.topic_prefix,
            sw_version=package_version(),
            publish=self._publish_retained,
            connection_epoch=lambda: self.link.connects if self.link is not None else 0,
        )
        self.ingest.listeners.append(bridge.on_stored)
        if self.advice is not None:
            self.advice.listeners.append(bridge.advice_changed)
        return bridge

    def _start_embedded_broker(self) -> None:
        """`broker: embedded`: the single-box store's own broker, on mqtt.url's loopback
        port, up before the link connects (RuntimeError when the port is taken)."""
        if self.settings.broker != "embedded":
            return
        from gateway.mqtt.embedded_broker import EmbeddedBroker  # amqtt only when asked for

        mqtt = self.settings.mqtt
        self.broker = EmbeddedBroker(mqtt.host, mqtt.port)
        self.broker.start()

    def _start_guidance(self) -> None:
        """Pull the head office's guidance for the stores in `hq.stores` when
        `hq.guidance` is set (the first pull at once, in the background)."""
        settings = self.settings.hq.guidance
        if settings is None or not self.settings.hq.stores:
            return
        self.guidance = GuidancePuller(self.db, list(self.settings.hq.stores), settings)
        self.guidance.start()

    def _start_uplink(self) -> None:
        """Open the head office's uplink and its feeder when `hq.enabled` (they start
        once layouts are stored, so the first product facts are current)."""
        hq = self.settings.hq
        if not hq.enabled:
            return
        self.uplink = open_uplink(hq, self.settings.data_dir, list(hq.stores), self.hq_transport)
        self.feeder = UplinkFeeder(
            self.db, hq.stores, self.uplink, self.settings.data_dir / STATE_FILE
        )
        self.ingest.listeners.append(self.feeder.on_stored)

    def _stop_uplink(self) -> None:
        if self.feeder is not None:
            self.feeder.stop()
            if self.feeder.on_stored in self.ingest.listeners:
                self.ingest.listeners.remove(self.feeder.on_stored)
            self.feeder = None
        if self.uplink is not None:
            self.uplink.flush(UPLINK_FLUSH_S)
            self.uplink.stop()
            self.uplink = None

    def __enter__(self) -> Gateway:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._running

    # ---- layouts ---------------------------------------------------------------------

    def set_layout(self, store: str, camera: str, layout: Layout) -> str:
        """Store a camera's layout and publish it as its retained config; returns the version."""
        return self._apply_layout(store, camera, layout, from_config=False)

    def _on_message(
        self,
        topic: IncomingTopic,
        payload: bytes,
        retained: bool,
        ack: Callable[[], None] | None = None,
    ) -> None:
        """From the MQTT thread: snapshots to the snapshot store (in memory, acknowledged at
        once), the rest to ingest (acknowledged once stored)."""
        if isinstance(topic, CameraTopic) and topic.kind is TopicKind.SNAPSHOT:
            self.snapshots.receive(topic.store, topic.camera, payload)
            if ack is not None:
                ack()
            return
        if isinstance(topic, CameraTopic) and topic.kind is TopicKind.ROLLOUT:
            self._rollout_status(topic, payload)
            if ack is not None:
                ack()
            return
        self.ingest.submit(topic, payload, retained, ack)

    def _rollout_status(self, topic: CameraTopic, payload: bytes) -> None:
        """A node's answer to a model announcement, kept on its roll-out; a bad one is a
        dead letter naming the topic and field (an empty retained one is a deletion)."""
        if not payload:
            return
        now = datetime.now(UTC)
        try:
            status = RolloutStatus.model_validate_json(payload)
            if (status.store, status.camera) != (topic.store, topic.camera):
                raise ValueError(
                    f"{topic.text}: payload is about {status.store}/{status.camera}, "
                    f"not {topic.store}/{topic.camera}"
                )
        except (ValidationError, ValueError) as error:
            reason = (
                describe_validation_error(topic.text, error)
                if isinstance(error, ValidationError)
                else str(error)
            )
            log.warning("dead letter: %s", reason)
            with self.db.transaction() as tx:
                tx.record_dead_letter(
                    topic.text, reason, payload, now, self.settings.max_payload_bytes
                )
            return
        self.rollouts.record_status(status)

    def _publish_config(self, store: str, camera: str, layout: Layout | None) -> None:
        if self.link is not None:
            enabled = snapshots_enabled(self.db, store, camera)
            self.link.publish_config(store, camera, layout, snapshots_enabled=enabled)

    def _apply_layout(self, store: str, camera: str, layout: Layout, *, from_config: bool) -> str:
        stored = find_layout(self.db, store, camera)
        if stored is None or stored["version"] != layout.version:
            if stored is not None and from_config:
                log.warning(
                    "layout of %s/%s: the config file's version %s replaces stored version %s",
                    store,
                    camera,
                    layout.version,
                    stored["version"],
                )
            with self.db.transaction() as tx:
                tx.save_layout(store, camera, layout, datetime.now(UTC))
            if self.feeder is not None:
                self.feeder.layout_saved(store, camera)
        self._publish_config(store, camera, layout)
        return layout.version

    # ---- snapshots ---------------------------------------------------------------------

    def set_snapshots_enabled(self, store: str, camera: str, enabled: bool) -> None:
        """Allow (or stop) snapshots of one camera; the camera learns it from its config."""
        with self.db.transaction() as tx:
            tx.set_snapshots_enabled(store, camera, enabled, datetime.now(UTC))
        record = find_layout(self.db, store, camera)
        layout = Layout.model_validate(record["layout"]) if record else None
        self._publish_config(store, camera, layout)

    def request_snapshot(self, store: str, camera: str, timeout: float) -> StoredSnapshot | None:
        """Ask a camera for a snapshot and wait for its answer (None after `timeout`).

        Raises SnapshotUnavailable when the broker is not connected."""
        request = SnapshotRequest()
        if self.link is None or not self.link.publish_snapshot_request(store, camera, request):
            raise SnapshotUnavailable("the gateway is not connected to the broker")
        return self.snapshots.wait(store, camera, request.id, timeout)

    # ---- status ----------------------------------------------------------------------

    @property
    def broker_connected(self) -> bool:
        return self.link is not None and self.link.connected

    def uplink_status(self) -> UplinkStatus | None:
        """The head-office uplink's backlog, drops, lag and errors; None when off."""
        uplink = self.uplink
        return uplink.status() if uplink is not None else None

    @property
    def counters(self) -> dict[str, int]:
        """Ingest totals since start plus the current queue depth."""
        counters = self.ingest.counters.as_dict() | {"queue_depth": self.ingest.queue_depth}
        return counters | (self.exporter.counters if self.exporter is not None else {})

    def sales_stored(self, lines: Sequence[SaleLine]) -> None:
        """Sale lines the API stored (MQTT ones come through ingest): export them and
        let the advice engine look at their store."""
        if self.exporter is not None:
            self.exporter.export_sales(lines)
        if self.advice is not None:
            self.advice.on_sales(lines)

    def camera_removed(self, store: str, camera: str) -> None:
        """A deleted camera: what it sent before is dropped, its retained topics cleared,
        its store's advice redone."""
        self.ingest.forget_camera(store, camera, datetime.now(UTC))
        if self.link is not None:
            self.link.forget_camera(store, camera)
        if self.homeassistant is not None:
            self.homeassistant.camera_removed(store, camera)
        if self.advice is not None:
            self.advice.notify(store)

    def layout_removed(self, store: str, camera: str) -> None:
        """A deleted layout: the camera gets an empty config, advice is redone."""
        self._publish_config(store, camera, None)
        if self.advice is not None:
            self.advice.notify(store)

    def sales_removed(self, stores: Sequence[str]) -> None:
        """Deleted sale lines (an import batch, a store): advice is redone from what is
        left (velocity is read from the stored lines)."""
        if self.advice is not None:
            for store in stores:
                self.advice.notify(store)

    def _publish_retained(self, topic: str, payload: bytes) -> bool:
        """Hand a retained QoS 1 message to the broker (the advice list); False when
        not connected, so the caller tries again later."""
        link = self.link
        if link is None or not link.connected:
            return False
        return link.client.publish(topic, payload, qos=1, retain=True).rc == (
            MQTTErrorCode.MQTT_ERR_SUCCESS
        )

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self.link is not None and self.link.wait_connected(timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once every message received so far is stored or dead-lettered."""
        return self.ingest.wait_idle(timeout)

    # ---- HTTP ------------------------------------------------------------------------

    def serve(self) -> None:
        """Start, serve the API on settings.http until SIGINT/SIGTERM, then stop cleanly."""
        import uvicorn

        from gateway.web.server import GatewayServer

        config = uvicorn.Config(
            self.app,
            host=self.settings.http.host,
            port=self.settings.http.port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=STREAM_GRACE_S,
        )
        server = GatewayServer(config, self.live)

        def request_exit(signum: int, frame: FrameType | None) -> None:
            # uvicorn installs its own handlers while it runs and calls this one again
            # when it is done; before that (during start) this stops it early.
            server.should_exit = True

        previous = {}
        if threading.current_thread() is threading.main_thread():
            previous = {s: signal.signal(s, request_exit) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            log.info(
                "API on http://%s:%d (docs at /docs)",
                self.settings.http.host,
                self.settings.http.port,
            )
            server.run()
        finally:
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
