"""The Home Assistant bridge thread: announces cameras and keeps their summaries current.

Ingest, the advice engine and the API only mark a camera as changed (never blocking);
the thread publishes, retained: the gateway's and each camera's discovery configs, and
each camera's `CameraSummary`. After every broker (re)connect it sends everything again,
so a broker that lost its retained messages still serves Home Assistant. A deleted
camera's configs and summary are cleared with empty retained messages, which is how
Home Assistant's discovery removes an entity. What could not be handed to the broker
(disconnected) is tried again with a growing delay.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from edge.contract.camera_summary import camera_summary_topic
from edge.contract.messages import CameraMessage
from gateway.config.homeassistant import HomeAssistantSettings
from gateway.homeassistant.discovery import Discovery
from gateway.homeassistant.summary import camera_summary
from gateway.storage.cameras import known_cameras
from gateway.storage.connection import Database

log = logging.getLogger(__name__)

Publisher = Callable[[str, bytes], bool]
"""(topic, payload) -> True when handed to the broker (retained, QoS 1)."""

Camera = tuple[str, str]

COALESCE_S = 0.2
"""Changes within this long are published together (a burst of states costs one)."""
RETRY_MIN_S = 1.0
RETRY_MAX_S = 30.0


class HomeAssistantBridge:
    """`start()`/`stop()`; the `on_*` methods are the triggers (cheap, thread-safe)."""

    def __init__(
        self,
        db: Database,
        settings: HomeAssistantSettings,
        *,
        prefix: str,
        sw_version: str,
        publish: Publisher,
        connection_epoch: Callable[[], int],
    ) -> None:
        self.db = db
        self.discovery = Discovery(settings, prefix, sw_version)
        self.prefix = prefix
        self._publish = publish
        self._epoch = connection_epoch
        self._published_epoch: int | None = None
        self._announced: dict[Camera, str | None] = {}
        """Cameras whose discovery configs went out, with the node software they named."""
        self._dirty: set[Camera] = set()
        self._removed: set[Camera] = set()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._wake = threading.Event()
        """Ends a coalescing or retry wait early: on stop and on a reconnect."""
        self._retry_s = 0.0
        self.published = 0

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        self._published_epoch = None  # a new link counts its connects from 1 again
        self._wake.clear()
        self._thread = threading.Thread(
            target=self._run, name="shelfsense-homeassistant", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._wake.set()
        self._thread.join(timeout)
        self._thread = None

    # ---- triggers (never block) ------------------------------------------------------

    def changed(self, store: str, camera: str) -> None:
        with self._cond:
            self._removed.discard((store, camera))
            self._dirty.add((store, camera))
            self._cond.notify_all()

    def on_stored(self, stored: Sequence[tuple[BaseModel, datetime]]) -> None:
        """Ingest listener: a camera's state, availability or health changed."""
        for camera in {(m.store, m.camera) for m, _ in stored if isinstance(m, CameraMessage)}:
            self.changed(*camera)

    def advice_changed(self, records: list[dict[str, Any]]) -> None:
        """Advice listener: the open advice count of these cameras may have changed."""
        for camera in {(r["store"], r["camera"]) for r in records if r.get("camera")}:
            self.changed(*camera)

    def camera_removed(self, store: str, camera: str) -> None:
        with self._cond:
            self._dirty.discard((store, camera))
            self._removed.add((store, camera))
            self._cond.notify_all()

    def reconnected(self) -> None:
        """MQTT link listener (paho's thread): send everything again now, not after the
        retry delay."""
        self._retry_s = 0.0
        self._wake.set()
        with self._cond:
            self._cond.notify_all()

    # ---- publishing ------------------------------------------------------------------

    def publish_pending(self) -> bool:
        """Publish what changed (everything after a reconnect); False when something
        could not be handed to the broker and must be tried again."""
        epoch = self._epoch()
        with self._cond:
            removed, self._removed = self._removed, set()
            dirty, self._dirty = self._dirty, set()
        full = epoch != self._published_epoch
        if full:
            dirty |= known_cameras(self.db)
        gateway_ok = not full or self._send_all(self.discovery.gateway_configs())
        failed_removed = {c for c in sorted(removed) if not self._clear(*c)}
        failed = {c for c in sorted(dirty) if not self._publish_camera(*c, full=full)}
        ok = gateway_ok and not failed and not failed_removed
        with self._cond:
            self._removed |= failed_removed
            self._dirty |= failed
            if ok:
                self._published_epoch = epoch
        return ok

    def _publish_camera(self, store: str, camera: str, *, full: bool) -> bool:
        summary = camera_summary(self.db, store, camera)
        key = (store, camera)
        if summary is None:
            # Deleted meanwhile: a change marked after the removal (advice redone for its
            # store, say) must not keep its entities alive, so clear what was announced.
            return self._clear(store, camera) if key in self._announced else True
        if full or key not in self._announced or self._announced[key] != summary.software:
            configs = self.discovery.camera_configs(store, camera, summary.software)
            if not self._send_all(configs):
                return False
            self._announced[key] = summary.software
        return self._send(camera_summary_topic(store, camera, self.prefix), summary.to_json())

    def _clear(self, store: str, camera: str) -> bool:
        self._announced.pop((store, camera), None)
        topics = [*self.discovery.camera_config_topics(store, camera)]
        topics.append(camera_summary_topic(store, camera, self.prefix))
        return self._send_all(dict.fromkeys(topics, b""))

    def _send_all(self, messages: dict[str, bytes]) -> bool:
        return all([self._send(topic, payload) for topic, payload in messages.items()])

    def _send(self, topic: str, payload: bytes) -> bool:
        if self._publish(topic, payload):
            self.published += 1
            return True
        return False

    # ---- the thread ------------------------------------------------------------------

    def _due(self) -> bool:
        return bool(self._dirty or self._removed) or self._epoch() != self._published_epoch

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and not self._due():
                    self._cond.wait(RETRY_MAX_S)
                if self._stopping:
                    return
            self._wake.wait(max(COALESCE_S, self._retry_s))
            self._wake.clear()
            if self._stopping:
                return
            try:
                ok = self.publish_pending()
            except Exception:  # a bad row must not end the thread
                log.exception("Home Assistant discovery: publishing failed")
                ok = False
            self._retry_s = 0.0 if ok else min(RETRY_MAX_S, max(RETRY_MIN_S, 2 * self._retry_s))
