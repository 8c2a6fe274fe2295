"""When advice is evaluated, and where it goes: a background thread, MQTT and InfluxDB.

Ingest (and the POS API) only mark a store as dirty; the advice thread evaluates a
dirty store `debounce_s` after its first mark (so a burst of states and sales costs
one evaluation) and every store every `interval_s` (minutes empty grow without any
message). Evaluation reads with its own connections and writes its changes in one
short transaction, so ingest never waits on it.

MQTT: the store's advice list (topic and payload are part of the message contract),
republished whenever it changes and after every reconnect. InfluxDB: the `advice`
measurement, open/acknowledged counts per kind and store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from edge.contract.advice import AdviceKind, advice_topic
from edge.contract.messages import Availability, CameraMessage, Health
from gateway.advice import store as advice_store
from gateway.advice.facts import ProfileCache, build_bays
from gateway.advice.model import ActiveAdvice, Resolution
from gateway.advice.ranking import SlotKey
from gateway.advice.rules import candidates, check_resolution
from gateway.config.settings import AdviceSettings, PosSettings
from gateway.export.influx import ADVICE, ExportPoint
from gateway.retail.pos import SaleLine
from gateway.storage.connection import Database
from gateway.storage.layouts import list_layouts

log = logging.getLogger(__name__)

Publisher = Callable[[str, bytes], bool]
"""(topic, payload) -> True when handed to the broker (retained, QoS 1)."""
AdviceListener = Callable[[list[dict[str, Any]]], None]
"""Told of advice records that changed (created, refreshed, resolved, acted on)."""


def advice_points(store: str, counts: dict[str, dict[str, int]], at: datetime) -> list[ExportPoint]:
    return [
        ADVICE.point(at, {"store": store, "kind": kind}, by_status)
        for kind, by_status in sorted(counts.items())
    ]


def _shown_per_slot(
    active: Sequence[ActiveAdvice], resolutions: Sequence[Resolution]
) -> dict[SlotKey, AdviceKind]:
    """The kind of the advice each slot keeps showing after this evaluation's
    resolutions (facings advice is about a bay, not a slot)."""
    closing = {r.advice_id for r in resolutions}
    return {
        (a.camera, a.row, a.slot): a.kind
        for a in active
        if a.id not in closing
        and a.kind != AdviceKind.FACINGS
        and a.row is not None
        and a.slot is not None
    }


class AdviceService:
    """The advice thread; `evaluate()` may also be called directly (tests, tools)."""

    def __init__(
        self,
        db: Database,
        settings: AdviceSettings,
        pos: PosSettings,
        *,
        prefix: str,
        export: Callable[[Sequence[ExportPoint]], None] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.pos = pos
        self.prefix = prefix
        self._export = export
        self._publish: Publisher | None = None
        self._epoch: Callable[[], int] = lambda: 0
        self._published_epoch: int | None = None
        self._cache = ProfileCache()
        self._cond = threading.Condition()
        self._dirty: dict[str, float] = {}  # store -> monotonic time of the first mark
        self._unpublished: set[str] = set()
        self._retry: set[str] = set()  # publishing failed (broker away): retried each sweep
        self._counts: dict[str, dict[str, dict[str, int]]] = {}
        self._eval_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.evaluations = 0
        self.listeners: list[AdviceListener] = []
        """Called (from the advice thread or an API request) with changed records."""
        self.failures = 0

    # ---- wiring ----------------------------------------------------------------------

    def attach(self, publish: Publisher, connection_epoch: Callable[[], int]) -> None:
        """Where to publish, and a number that changes on each broker (re)connect."""
        self._publish = publish
        self._epoch = connection_epoch

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="shelfsense-advice", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("advice thread did not finish within %.0fs", timeout)
        self._thread = None

    # ---- triggers (never block) ------------------------------------------------------

    def notify(self, store: str) -> None:
        with self._cond:
            self._dirty.setdefault(store, time.monotonic())
            self._cond.notify_all()

    def on_stored(self, stored: Sequence[tuple[BaseModel, datetime]]) -> None:
        """Ingest listener: states, events, availability and sale lines (not health) make
        their store dirty."""
        stores = set()
        for message, _ in stored:
            if isinstance(message, Health):
                continue  # says nothing about the shelf
            if isinstance(message, CameraMessage | Availability | SaleLine):
                stores.add(message.store)
        for store in stores:
            self.notify(store)

    def on_sales(self, lines: Sequence[SaleLine]) -> None:
        for store in {line.store for line in lines}:
            self.notify(store)

    # ---- staff actions ---------------------------------------------------------------

    def acknowledge(
        self, advice_id: int, now: datetime | None = None, *, by: str | None = None
    ) -> dict[str, Any]:
        """`now`: when staff acknowledged (default the wall clock; a simulation passes its
        own time); `by`: who."""
        record = advice_store.acknowledge(self.db, advice_id, now, by=by)
        self._republish_soon(record["store"])
        self._tell([record])
        return record

    def dismiss(
        self, advice_id: int, reason: str, now: datetime | None = None, *, by: str | None = None
    ) -> dict[str, Any]:
        record = advice_store.dismiss(self.db, advice_id, reason, now, by=by)
        self._republish_soon(record["store"])
        self._tell([record])
        return record

    def _tell(self, records: list[dict[str, Any]]) -> None:
        for listener in self.listeners:
            try:
                listener(records)
            except Exception:  # a display must never break the advice engine
                log.exception("advice listener failed")

    def _republish_soon(self, store: str) -> None:
        with self._cond:
            self._unpublished.add(store)
            self._cond.notify_all()

    # ---- evaluation ------------------------------------------------------------------

    def stores(self) -> list[str]:
        """Stores with a layout or with advice."""
        known = {r["store"] for r in list_layouts(self.db)}
        return sorted(known | set(advice_store.stores_with_advice(self.db)))

    def evaluate(self, store: str, now: datetime | None = None) -> advice_store.ApplyReport:
        """Resolve what the cameras see fixed, refresh and create advice for one store."""
        now = now or datetime.now(UTC)
        with self._eval_lock:
            bays = build_bays(
                self.db,
                store,
                now,
                self.settings,
                tz=self.pos.zone,
                window_days=self.pos.velocity_window_days,
                cache=self._cache,
            )
            by_camera = {b.camera: b for b in bays}
            active = advice_store.active_advice(self.db, store)
            resolutions = [
                r for a in active if (r := check_resolution(a, by_camera.get(a.camera))) is not None
            ]
            found = candidates(bays, now, self.settings, _shown_per_slot(active, resolutions))
            report = advice_store.apply(self.db, store, found, resolutions, now)
            self.evaluations += 1
        if report.changed:
            with self._cond:
                self._unpublished.add(store)
            if self.listeners:
                ids = report.created + report.refreshed + report.resolved
                self._tell([r for i in ids if (r := advice_store.get_advice(self.db, i))])
        return report

    def publish_pending(self, now: datetime | None = None) -> None:
        """Publish the list of each store whose advice changed (all after a reconnect)."""
        if self._publish is None:
            return
        now = now or datetime.now(UTC)
        epoch = self._epoch()
        with self._cond:
            if epoch != self._published_epoch:
                self._unpublished.update(self.stores())
            pending, self._unpublished = self._unpublished, set()
        failed = set()
        for store in sorted(pending):
            payload = advice_store.store_payload(self.db, store, self.settings.max_published, now)
            if not self._publish(advice_topic(store, self.prefix), payload):
                failed.add(store)
        with self._cond:
            self._retry |= failed
            if not failed:
                self._published_epoch = epoch
        self._export_counts(pending, now)

    def _export_counts(self, stores: set[str], now: datetime, force: bool = False) -> None:
        if self._export is None:
            return
        points: list[ExportPoint] = []
        for store in sorted(stores):
            counts = advice_store.open_counts(self.db, store)
            if force or self._counts.get(store) != counts:
                self._counts[store] = counts
                points.extend(advice_points(store, counts, now))
        if points:
            self._export(points)

    # ---- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        next_sweep = time.monotonic()
        while True:
            with self._cond:
                while not self._stopping:
                    now = time.monotonic()
                    due_dirty = [
                        s for s, t in self._dirty.items() if now - t >= self.settings.debounce_s
                    ]
                    if due_dirty or now >= next_sweep or self._unpublished:
                        break
                    waits = [next_sweep - now]
                    waits += [t + self.settings.debounce_s - now for t in self._dirty.values()]
                    self._cond.wait(max(0.01, min(waits)))
                if self._stopping:
                    return
                now = time.monotonic()
                sweep = now >= next_sweep
                due = [
                    s
                    for s, t in self._dirty.items()
                    if sweep or now - t >= self.settings.debounce_s
                ]
                for store in due:
                    del self._dirty[store]
                if sweep:
                    self._unpublished |= self._retry
                    self._retry = set()
            if sweep:
                next_sweep = now + self.settings.interval_s
                due = sorted(set(due) | set(self.stores()))
            for store in due:
                try:
                    self.evaluate(store)
                except Exception:  # one bad store (or a locked file) must not end the thread
                    self.failures += 1
                    log.exception("advice evaluation failed for store %s", store)
            try:
                self.publish_pending()
                if sweep:
                    self._export_counts(set(due), datetime.now(UTC), force=True)
            except Exception:
                log.exception("publishing advice failed")
