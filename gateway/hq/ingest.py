"""The head office's ingest: take batches off the stream, store them once, then ack.

Any number of ingest processes share one durable consumer, so ingest scales out by
starting more of them; a process that dies (SIGKILL included) leaves its un-acked batch
to be redelivered to the others after the consumer's ack wait (short, so that wait is
short). A batch that takes longer to store than a third of the ack wait is marked in
progress every third of it (`Heartbeat`), so a slow but alive process keeps its batch
instead of having it stored twice, once by another process. A batch is acked only
after `HqStore.write` committed it, so nothing acked is ever lost, and the store's id
index makes the redelivered copies of what was stored but not acked harmless.

A message whose body does not fit its kind is logged with its id and subject and acked
away (it would fail the same way every time); one the store cannot write (disk full) is
nak'ed for a later try.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.hq.store import HqStore
from gateway.uplink.transport import Consumer, Delivery

log = logging.getLogger(__name__)

RETRY_DELAY_S = 5.0
DEFAULT_BATCH = 2000
"""Messages fetched and stored at most per batch. A batch writes a Parquet file per table,
day and shard it touches whatever its size, so big batches drain a backlog (after a
broker's leader election) about 1.4 x faster than 500 did; with the stream keeping up,
a fetch returns only what is there, so batches stay small and quick."""


@dataclass
class IngestCounters:
    """What one ingest process has done, for its log line and the load test."""

    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    batches: int = 0
    failed_batches: int = 0
    lags_ms: list[float] = field(default_factory=list)
    """Transport-stored to written, per stored message (bounded to the newest 100k)."""


class Heartbeat:
    """While open, marks `deliveries` in progress every `every_s`, from its own thread:
    the store's write blocks the ingest's thread for as long as it takes."""

    def __init__(self, deliveries: list[Delivery], every_s: float) -> None:
        self.deliveries = deliveries
        self.every_s = every_s
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="ingest-heartbeat", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.every_s):
            for delivery in self.deliveries:
                delivery.in_progress()
            self.beats += 1

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


class HqIngest:
    """One ingest worker: a consumer and the store it writes into."""

    def __init__(
        self,
        consumer: Consumer,
        store: HqStore,
        *,
        batch: int = DEFAULT_BATCH,
        on_stored: Callable[[list[Delivery]], None] | None = None,
    ) -> None:
        self.consumer = consumer
        self.store = store
        self.batch = batch
        self.on_stored = on_stored
        self.counters = IngestCounters()

    def run_once(self, timeout_s: float = 1.0) -> int:
        """Fetch one batch, store it, ack it; how many messages were newly stored."""
        deliveries = self.consumer.fetch(self.batch, timeout_s)
        if not deliveries:
            return 0
        try:
            with Heartbeat(deliveries, self.consumer.ack_wait_s / 3):
                result = self.store.write([d.envelope for d in deliveries])
        except Exception:
            log.exception(
                "hq ingest: cannot store a batch of %d; it will come again", len(deliveries)
            )
            self.counters.failed_batches += 1
            for delivery in deliveries:
                delivery.nak(RETRY_DELAY_S)
            return 0
        for msg_id in result.rejected:
            subject = next(d.subject for d in deliveries if d.envelope.id == msg_id)
            log.warning(
                "hq ingest: message %s on %s does not fit its kind; dropped", msg_id, subject
            )
        for delivery in deliveries:
            delivery.ack()
        self._count(deliveries, result.stored, result.duplicates, len(result.rejected))
        if self.on_stored is not None:
            self.on_stored(deliveries)
        return result.stored

    def _count(
        self, deliveries: list[Delivery], stored: int, duplicates: int, rejected: int
    ) -> None:
        counters = self.counters
        counters.batches += 1
        counters.stored += stored
        counters.duplicates += duplicates
        counters.rejected += rejected
        now = datetime.now(UTC)
        counters.lags_ms.extend(
            (now - d.stored_at).total_seconds() * 1e3 for d in deliveries if d.stored_at
        )
        del counters.lags_ms[:-100_000]

    def run(self, stop: threading.Event, report_every_s: float = 30.0) -> None:
        """Ingest until `stop` is set; a log line every `report_every_s`."""
        last = time.monotonic()
        while not stop.is_set():
            self.run_once()
            if time.monotonic() - last >= report_every_s:
                c = self.counters
                log.info(
                    "hq ingest: %d stored, %d duplicates, %d rejected in %d batches",
                    c.stored,
                    c.duplicates,
                    c.rejected,
                    c.batches,
                )
                last = time.monotonic()
