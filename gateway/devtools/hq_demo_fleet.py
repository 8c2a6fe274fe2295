"""The head-office demo's stores: simulated fleet -> real uplink outboxes -> HQ ingest.

Each simulated store (`gateway.devtools.hq_fleet`) sends through its own `Uplink`, the
store gateway's real durable outbox (a SQLite file per store) and forwarder, built from
an `hq:` section with `url: local`; every forwarder publishes with its store's own
credential on the in-process `LocalTransport`, and one `HqIngest` worker stores what
arrives in the head office's Parquet store. Single machine only: the local transport
lives in this process (a deployment puts a NATS JetStream cluster there, unchanged
code on both ends).

The fleet first sends `hours` of history ending at the current hour, as fast as the
outboxes take it, and waits until the head office has stored all of it; after that one
simulated hour every `3600 / speedup` seconds. One store's link is cut for the last
hours of the history and stays cut (`OUTAGE_HOURS`): its outbox fills, as a real store's
does in an outage, and the chain page lists its uplink as quiet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.devtools.hq_fleet import SimStore, fleet_hours, make_fleet
from gateway.hq.ingest import HqIngest
from gateway.hq.store import HqStore
from gateway.uplink.contract import Envelope
from gateway.uplink.outbox import Uplink, UplinkOutbox
from gateway.uplink.settings import HqUplinkSettings
from gateway.uplink.transport import LocalTransport, Publisher, TransportError

log = logging.getLogger(__name__)

OUTAGE_HOURS = 3
"""The cut store's link goes down this many simulated hours before the history ends."""
LIVE_HOURS = 24 * 365
"""How far the live phase may run (a year of simulated hours)."""


class CutPublisher:
    """A store's real publisher behind a switch: while cut, every send fails as a dead
    link does, and the store's outbox keeps what waits (the demo's outage)."""

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher
        self.cut = False

    def publish(self, envelopes: Sequence[Envelope]) -> None:
        if self.cut:
            raise TransportError("link to the head office is down (the demo's outage)")
        self._publisher.publish(envelopes)

    def close(self) -> None:
        self._publisher.close()


class DemoFleet:
    """`count` simulated stores feeding one in-process head office under `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        count: int,
        hours: int,
        *,
        seed: int = 1,
        speedup: float = 60.0,
        outage: bool = True,
    ) -> None:
        if count < 1 or hours < 1:
            raise ValueError("the demo needs at least one store and one hour")
        self.data_dir = data_dir
        self.hq_root = data_dir / "hq"
        self.hours = hours
        self.hour_every_s = 3600.0 / speedup
        self.stores: list[SimStore] = make_fleet(count, seed)
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        self.start_at = now - timedelta(hours=hours - 1)
        """The first simulated hour: the history's last hour is the current one."""
        self._batches: Iterator[list[Envelope]] = fleet_hours(
            self.stores, self.start_at, hours + LIVE_HOURS, seed
        )
        self.transport = LocalTransport()
        self.cut_store = self.stores[-1].id if outage and count > 1 else None
        self._links: dict[str, CutPublisher] = {}
        self.uplinks = {store.id: self._uplink(store.id) for store in self.stores}
        self.hq = HqStore(self.hq_root)
        self.ingest = HqIngest(self.transport.consumer("ingest"), self.hq)
        self.sent_hours = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _uplink(self, store: str) -> Uplink:
        settings = HqUplinkSettings(
            enabled=True, url="local", path=self.data_dir / "stores" / store / "hq-outbox.db"
        )
        link = CutPublisher(self.transport.publisher(store))
        self._links[store] = link
        return Uplink(
            UplinkOutbox(settings.path or "", settings.max_messages),
            link,
            batch=settings.batch,
            flush_interval_s=settings.flush_interval_s,
        )

    def start(self, wait_s: float = 900.0) -> None:
        """Start ingest and the uplinks, send the history and wait until the head office
        has stored it (all but the cut store's outbox)."""
        self._spawn(self.ingest.run, "hq-demo-ingest")
        for uplink in self.uplinks.values():
            uplink.start()
        started = time.monotonic()
        for hour in range(self.hours):
            if self.cut_store and hour == max(1, self.hours - OUTAGE_HOURS):
                self._cut(self.cut_store, started + wait_s)
            self._send_next()
        self._wait_ingested(started + wait_s)
        log.info(
            "hq demo: %d stores x %d hours stored (%d messages) in %.1f s",
            len(self.stores),
            self.hours,
            self.hq.stored_count(),
            time.monotonic() - started,
        )

    def _cut(self, store: str, deadline: float) -> None:
        """Deliver what the store sent so far, then cut its link."""
        if not self.uplinks[store].flush(max(1.0, deadline - time.monotonic())):
            raise TimeoutError(f"store {store}'s uplink did not drain its outbox in time")
        self._links[store].cut = True

    def start_live(self) -> None:
        """From now on one simulated hour every `hour_every_s` seconds."""
        self._spawn(self._live, "hq-demo-clock")

    def _spawn(self, target: object, name: str) -> None:
        thread = threading.Thread(target=target, args=(self._stop,), name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _live(self, stop: threading.Event) -> None:
        while not stop.wait(self.hour_every_s):
            self._send_next()

    def _send_next(self) -> None:
        by_store: dict[str, list[Envelope]] = defaultdict(list)
        for env in next(self._batches):
            by_store[env.store].append(env)
        for store, envelopes in by_store.items():
            self.uplinks[store].send(envelopes)
        self.sent_hours += 1

    def _wait_ingested(self, deadline: float) -> None:
        for store, uplink in self.uplinks.items():
            if store != self.cut_store and not uplink.flush(max(1.0, deadline - time.monotonic())):
                raise TimeoutError(f"store {store}'s uplink did not drain its outbox in time")
        while self.transport.stored:
            if time.monotonic() > deadline:
                raise TimeoutError(f"hq ingest left {self.transport.stored} messages unstored")
            time.sleep(0.2)

    @property
    def cut_backlog(self) -> int:
        """Messages waiting in the cut store's outbox (0 without an outage)."""
        return self.uplinks[self.cut_store].backlog if self.cut_store else 0

    def stop(self) -> None:
        """Stop the clock and ingest, then the uplinks (their outboxes keep what waits)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)
        for uplink in self.uplinks.values():
            uplink.stop(timeout_s=5)
        self.hq.close()
