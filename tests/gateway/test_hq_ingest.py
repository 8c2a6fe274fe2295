"""The head office's ingest over the in-process transport: stored once, acked after."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gateway.devtools.hq_fleet import fleet_hours, make_fleet
from gateway.hq.ingest import HqIngest
from gateway.hq.store import HqStore, WriteResult
from gateway.uplink.transport import LocalTransport

START = datetime(2026, 11, 2, tzinfo=UTC)


def test_two_ingest_workers_store_a_fleet_once_even_when_it_is_sent_twice(tmp_path: Path) -> None:
    transport = LocalTransport(ack_wait_s=0.5, duplicate_window_s=0.0)  # let duplicates through
    batches = list(fleet_hours(make_fleet(5, seed=2), START, 3, seed=2))
    sent = {env.id for batch in batches for env in batch}
    publisher = transport.publisher()
    for batch in batches:
        publisher.publish(batch)
        publisher.publish(batch[: len(batch) // 2])  # a store resending after an outage
    store = HqStore(tmp_path)
    workers = [HqIngest(transport.consumer("ingest"), store, batch=50) for _ in range(2)]
    idle_rounds = 0
    while idle_rounds < 3:  # take turns until three rounds in a row find nothing
        before = sum(w.counters.batches for w in workers)
        for worker in workers:
            worker.run_once(timeout_s=0.05)
        idle_rounds = idle_rounds + 1 if sum(w.counters.batches for w in workers) == before else 0
    assert store.has(sent) == sent
    assert store.stored_count() == len(sent)
    assert sum(w.counters.stored for w in workers) == len(sent)
    assert sum(w.counters.duplicates for w in workers) > 0
    assert all(w.counters.batches for w in workers)  # the consumer was shared


def test_a_batch_the_store_cannot_write_comes_back_later(tmp_path: Path) -> None:
    transport = LocalTransport(ack_wait_s=30.0)
    batch = next(fleet_hours(make_fleet(1), START, 1))
    transport.publisher().publish(batch)

    class FullDisk(HqStore):
        def write(self, envelopes: list) -> None:  # a disk that is full
            raise OSError("No space left on device")

    broken = HqIngest(transport.consumer(), FullDisk(tmp_path / "full"), batch=1000)
    assert broken.run_once(timeout_s=0.1) == 0 and broken.counters.failed_batches == 1
    healthy = HqIngest(transport.consumer(), HqStore(tmp_path / "ok"), batch=1000)
    stored = 0
    for _ in range(100):  # nak'ed with a delay: it comes back after RETRY_DELAY_S
        stored += healthy.run_once(timeout_s=0.1)
        if stored:
            break
    assert stored == len({env.id for env in batch})


def test_a_slow_but_alive_ingest_keeps_its_batch_past_the_ack_wait(tmp_path: Path) -> None:
    transport = LocalTransport(ack_wait_s=0.3)
    batch = next(fleet_hours(make_fleet(1), START, 1))
    transport.publisher().publish(batch)
    other = transport.consumer()

    class SlowDisk(HqStore):
        def write(self, envelopes: list) -> WriteResult:  # a write 4 ack waits long
            assert other.fetch(1000, 1.2) == []  # meanwhile, nothing goes to another process
            return super().write(envelopes)

    slow = HqIngest(transport.consumer(), SlowDisk(tmp_path), batch=1000)
    assert slow.run_once(timeout_s=0.1) == len({env.id for env in batch})
    assert other.fetch(1000, 0.5) == []  # acked: never handed out again
