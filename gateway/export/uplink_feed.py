"""The feeder thread that hands the head office's uplink what the store gateway stores.

What it sends (builders in `gateway.export.uplink_facts`), to an `UplinkSink` (the
`gateway.uplink.outbox.Uplink`, which stores each envelope durably before sending):

- slot events, as ingest stores them (`on_stored`, an ingest listener: it only queues);
- every hour, once the hour has closed (plus `grace_s` for late messages): per camera the
  hourly rollup, per store the hourly sales;
- product facts at start, whenever a layout is saved (`layout_saved`), and when a check
  every `health_interval_s` finds a stored layout it has not sent (one saved elsewhere);
- device health every `health_interval_s`; each store's profile at start when it changed.

Catch-up: a small state file remembers up to which hour rollups and sales are in the
outbox (which then delivers them whatever happens to the network). On start the feeder
rebuilds every closed hour since then, at most `catch_up` back (7 days by default). A
crash between the outbox commit and the marker rebuilds an hour once more: the same ids,
so the head office stores it once. The same file remembers each store's profile hash and
since when it holds, so a changed profile is a new fact and an unchanged one is not.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from edge.contract.messages import ShelfEvent
from edge.layout import Layout
from gateway.export.uplink_facts import (
    HOUR,
    closed_hours,
    event_envelope,
    health_envelopes,
    hour_start,
    products_envelope,
    profile_envelope,
    profile_hash,
    rollup_envelopes,
    sales_envelope,
)
from gateway.storage.connection import Database
from gateway.storage.layouts import find_layout, list_layouts
from gateway.uplink.contract import Envelope, StoreProfile

log = logging.getLogger(__name__)

STATE_FILE = "hq-feed.json"
CATCH_UP = timedelta(days=7)
EVENT_QUEUE_MAX = 100_000


class UplinkSink(Protocol):
    """Where envelopes go: `send` returns once they are stored durably."""

    def send(self, envelopes: Sequence[Envelope]) -> None: ...

    @property
    def backlog(self) -> int: ...


class FeedState:
    """The feeder's small JSON state file: hours done and each store's profile."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rolled_up_to: datetime | None = None
        """End of the last hour whose rollups and sales are in the outbox."""
        self.profiles: dict[str, dict[str, str]] = {}  # store -> {"hash", "since"}
        try:
            data = json.loads(path.read_text())
            done = data.get("rolled_up_to")
            self.rolled_up_to = datetime.fromisoformat(done) if done else None
            self.profiles = dict(data.get("profiles", {}))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, AttributeError) as error:
            log.warning("%s: unreadable uplink feed state (%s); starting afresh", path, error)

    def save(self) -> None:
        data = {
            "rolled_up_to": self.rolled_up_to.isoformat() if self.rolled_up_to else None,
            "profiles": self.profiles,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        part = self.path.with_name(self.path.name + ".part")
        part.write_text(json.dumps(data, indent=1))
        part.replace(self.path)


class UplinkFeeder:
    """Builds the head office's envelopes for the `stores` it feeds and sends them."""

    def __init__(
        self,
        db: Database,
        stores: Mapping[str, StoreProfile],
        sink: UplinkSink,
        state_path: Path,
        *,
        health_interval_s: float = 300.0,
        grace_s: float = 120.0,
        catch_up: timedelta = CATCH_UP,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.stores = dict(stores)
        self.sink = sink
        self.state = FeedState(state_path)
        self.health_interval_s = health_interval_s
        self.grace = timedelta(seconds=grace_s)
        self.catch_up_window = catch_up
        self.clock = clock
        self.dropped_events = 0
        """Events not queued because the queue was full (logged)."""
        self._queue: queue.Queue[ShelfEvent | tuple[str, str]] = queue.Queue(EVENT_QUEUE_MAX)
        self._products_sent: dict[tuple[str, str], str] = {}  # (store, camera) -> envelope id
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- what others tell it (never blocks) ------------------------------------------

    def on_stored(self, stored: Sequence[tuple[BaseModel, datetime]]) -> None:
        """Ingest listener: queue the slot events of the stores fed."""
        for message, _ in stored:
            if isinstance(message, ShelfEvent) and message.store in self.stores:
                self._enqueue(message)

    def layout_saved(self, store: str, camera: str) -> None:
        """A camera's layout was saved: send its product facts."""
        if store in self.stores:
            self._enqueue((store, camera))

    def _enqueue(self, item: ShelfEvent | tuple[str, str]) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped_events += 1
            log.error("uplink feed queue full: dropped %r", item)
            return
        self._wake.set()

    # ---- the thread ------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="hq-feed", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Send what is queued, then end the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.error("uplink feeder did not finish within %.0fs", timeout_s)
            self._thread = None
        self._safely(self.drain)

    def _run(self) -> None:
        self._safely(self.send_start)
        next_health = self.clock() + timedelta(seconds=self.health_interval_s)
        while not self._stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            self._safely(self.drain)
            now = self.clock()
            self._safely(self.catch_up, now)
            if now >= next_health:
                self._safely(self.send_health, now)
                self._safely(self.send_new_products)
                next_health = now + timedelta(seconds=self.health_interval_s)

    @staticmethod
    def _safely(step: Callable[..., Any], *args: Any) -> None:
        """A step that fails (the outbox file, a query) is logged and tried again on the
        next round; the feeder outlives it."""
        try:
            step(*args)
        except Exception:
            log.exception("uplink feeder: %s failed", getattr(step, "__name__", "a step"))

    # ---- what it sends ---------------------------------------------------------------

    def send_start(self) -> None:
        """At start: changed profiles, every layout's products, health, then catch-up."""
        now = self.clock()
        self.send_profiles(now)
        self.send_new_products()
        self.send_health(now)
        self.catch_up(now)

    def drain(self) -> int:
        """Send the queued events and the products of layouts saved; how many envelopes."""
        events: list[ShelfEvent] = []
        saved: set[tuple[str, str]] = set()
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, ShelfEvent):
                events.append(item)
            else:
                saved.add(item)
        layouts: dict[tuple[str, str], Layout | None] = {}
        envelopes = []
        for event in events:
            key = (event.store, event.camera)
            if key not in layouts:
                record = find_layout(self.db, *key)
                layouts[key] = Layout.model_validate(record["layout"]) if record else None
            built = event_envelope(event, layouts[key])
            if built is not None:
                envelopes.append(built)
        for store, camera in sorted(saved):
            record = find_layout(self.db, store, camera)
            if record is not None:
                envelopes.append(self._products(record))
        if envelopes:
            self.sink.send(envelopes)
        return len(envelopes)

    def _products(self, record: Mapping[str, Any]) -> Envelope:
        built = products_envelope(self.db, record)
        self._products_sent[(record["store"], record["camera"])] = built.id
        return built

    def send_new_products(self) -> int:
        """Product facts of every stored layout of the stores fed that has not been sent
        since start (at start: all of them; the ids make a resend harmless)."""
        envelopes = []
        for record in list_layouts(self.db):
            if record["store"] not in self.stores:
                continue
            built = products_envelope(self.db, record)
            if self._products_sent.get((record["store"], record["camera"])) != built.id:
                self._products_sent[(record["store"], record["camera"])] = built.id
                envelopes.append(built)
        if envelopes:
            self.sink.send(envelopes)
        return len(envelopes)

    def send_profiles(self, now: datetime) -> int:
        """Each store's profile, kept as of when its content last changed."""
        envelopes = []
        for store, profile in sorted(self.stores.items()):
            digest = profile_hash(profile)
            known = self.state.profiles.get(store)
            if known is None or known.get("hash") != digest:
                known = {"hash": digest, "since": now.astimezone(UTC).isoformat()}
                self.state.profiles[store] = known
            since = datetime.fromisoformat(known["since"])
            envelopes.append(profile_envelope(store, profile, since))
        self.sink.send(envelopes)
        self.state.save()
        return len(envelopes)

    def send_health(self, now: datetime) -> int:
        envelopes = [
            e
            for store in sorted(self.stores)
            for e in health_envelopes(self.db, store, now, self.sink.backlog)
        ]
        if envelopes:
            self.sink.send(envelopes)
        return len(envelopes)

    def roll_up(self, hour: datetime) -> int:
        """Send the rollups and sales of the hour starting at `hour`, for every store."""
        envelopes = []
        for store, profile in sorted(self.stores.items()):
            envelopes += rollup_envelopes(self.db, store, hour)
            sales = sales_envelope(self.db, store, hour, profile.currency)
            if sales is not None:
                envelopes.append(sales)
        if envelopes:
            self.sink.send(envelopes)
        return len(envelopes)

    def catch_up(self, now: datetime) -> int:
        """Roll up every hour closed (with grace) since the last one done, at most
        `catch_up` back; the marker moves after each hour is in the outbox."""
        end = hour_start(now - self.grace)
        oldest = end - self.catch_up_window
        done = self.state.rolled_up_to
        start = max(done, oldest) if done is not None else oldest
        hours = 0
        for hour in closed_hours(start, end):
            self.roll_up(hour)
            self.state.rolled_up_to = hour + HOUR
            self.state.save()
            hours += 1
        if hours > 1:
            log.info("uplink feed: caught up %d hours up to %s", hours, end.isoformat())
        return hours
