"""The store-to-head-office transport on a real 3-node NATS JetStream cluster on loopback:
acknowledged publishes, de-duplication by id, per-store credentials, a node killed
mid-stream, ingest processes sharing a durable consumer (one SIGKILLed), and the store's
outbox through a whole-cluster outage."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import nats
import pytest
from nats.js import api

from gateway.devtools.nats_cluster import (
    INGEST_PASSWORD,
    INGEST_USER,
    NatsCluster,
    store_inbox,
    store_password,
)
from gateway.uplink.contract import Envelope, Kind
from gateway.uplink.jetstream import STREAM, JetStreamAdmin, JetStreamConsumer, JetStreamPublisher
from gateway.uplink.outbox import Uplink, UplinkOutbox
from gateway.uplink.transport import Delivery, TransportError
from tests.support.hq_messages import make
from tests.support.nats_cluster import running_nats_cluster
from tests.support.paths import REPO

ACK_WAIT_S = 2.0
T = TypeVar("T")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsCluster]:
    with running_nats_cluster(tmp_path_factory.mktemp("nats"), stores=("s1", "s2")) as nodes:
        yield nodes


@dataclass
class HeadOffice:
    """The cluster with this test's own stream, and clients of it."""

    cluster: NatsCluster
    admin: JetStreamAdmin
    stream: str

    def info(self) -> api.StreamInfo:
        return self.admin.stream_info(self.stream)

    def publisher(
        self, store: str = "s1", timeout_s: float = 5.0, publish_timeout_s: float = 20.0
    ) -> JetStreamPublisher:
        """A store's publisher with its own credential."""
        return JetStreamPublisher(
            self.cluster.urls,
            user=f"store-{store}",
            password=store_password(store),
            inbox_prefix=store_inbox(store),
            name=f"uplink-{store}",
            timeout_s=timeout_s,
            publish_timeout_s=publish_timeout_s,
            stream=self.stream,
        )

    def consumer(self, durable: str = "ingest") -> JetStreamConsumer:
        """An ingest process's consumer, with a short ack_wait."""
        return JetStreamConsumer(
            self.cluster.urls,
            INGEST_USER,
            INGEST_PASSWORD,
            durable=durable,
            ack_wait_s=ACK_WAIT_S,
            stream=self.stream,
        )


_streams = itertools.count(1)


@pytest.fixture
def hq(cluster: NatsCluster) -> Iterator[HeadOffice]:
    """A fresh stream with 3 replicas (and no consumers) for each test, under a new name:
    nats-server 2.9 cannot recover a stream re-created under a name it deleted once the
    whole cluster restarts, which one test does."""
    for index, node in enumerate(cluster.nodes):
        if not node.running:
            cluster.restart(index)
    admin = JetStreamAdmin(cluster.urls, INGEST_USER, INGEST_PASSWORD, name="admin")
    stream = f"{STREAM}_{next(_streams)}"
    info = admin.ensure_stream(replicas=3, stream=stream)
    assert info.config.num_replicas == 3
    yield HeadOffice(cluster, admin, stream)
    cluster.start()  # a test that failed with the cluster down must not fail the next one
    admin.delete_stream(stream)
    admin.close()


def wait_for(read: Callable[[], T], done: Callable[[T], bool], timeout_s: float) -> T:
    """Read until `done` holds or the time is up; the last reading either way."""
    deadline = time.monotonic() + timeout_s
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.05)
        value = read()
    return value


def drain(
    consumer: JetStreamConsumer,
    want: int,
    timeout_s: float = 10.0,
    until: list[str] | None = None,
) -> list[Delivery]:
    """Fetch and ack until `want` distinct ids came, and every id in `until` among them
    (or the time is up)."""
    got: list[Delivery] = []
    ids: set[str] = set()
    deadline = time.monotonic() + timeout_s

    def done() -> bool:
        return len(ids) >= want and set(until or ()) <= ids

    while not done() and time.monotonic() < deadline:
        for delivery in consumer.fetch(100, 0.5):
            got.append(delivery)
            ids.add(delivery.envelope.id)
            delivery.ack()
    return got


def test_publish_and_consume_round_trip(hq: HeadOffice) -> None:
    kinds = [Kind.EVENT, Kind.ROLLUP, Kind.SALES, Kind.PRODUCTS, Kind.HEALTH, Kind.PROFILE]
    sent = [make(kind, f"k{i}") for i in range(5) for kind in kinds]
    publisher, consumer = hq.publisher(), hq.consumer()
    try:
        publisher.publish(sent)
        got = drain(consumer, len(sent))
        assert [d.envelope for d in got] == sent
        assert all(d.subject == d.envelope.subject and d.delivered == 1 for d in got)
        assert all(d.stored_at is not None for d in got)
        assert consumer.fetch(10, 0.5) == []  # all acked
    finally:
        publisher.close()
        consumer.close()


def test_the_same_id_twice_is_stored_once(hq: HeadOffice) -> None:
    first, second = hq.publisher(), hq.publisher()
    try:
        one = make(Kind.EVENT, "gap-1")
        first.publish([one])
        second.publish([one, make(Kind.EVENT, "gap-2")])  # a retry from another connection
        first.publish([one])
        assert hq.info().state.messages == 2
        assert first.duplicates + second.duplicates == 2
    finally:
        first.close()
        second.close()


def test_a_store_may_not_publish_another_stores_subjects(hq: HeadOffice) -> None:
    publisher = hq.publisher("s1")
    try:
        started = time.monotonic()
        with pytest.raises(TransportError, match=r"shelfsense\.s2\.event"):
            publisher.publish([make(Kind.EVENT, "spoof", store="s2")])
        assert time.monotonic() - started < publisher.publish_timeout_s  # refused, not timed out
        publisher.publish([make(Kind.EVENT, "own")])  # its own subjects still work
        assert hq.info().state.messages == 1
    finally:
        publisher.close()


def test_a_malformed_message_is_acked_away_and_the_consumer_goes_on(
    hq: HeadOffice, caplog: pytest.LogCaptureFixture
) -> None:
    async def publish_junk() -> None:
        nc = await nats.connect(
            hq.cluster.urls,
            user="store-s1",
            password=store_password("s1"),
            inbox_prefix=store_inbox("s1").encode(),
        )
        await nc.jetstream().publish("shelfsense.s1.event", b"{not an envelope")
        await nc.close()

    asyncio.run(publish_junk())
    publisher, consumer = hq.publisher(), hq.consumer()
    try:
        publisher.publish([make(Kind.EVENT, "after")])
        got = drain(consumer, 1)
        assert [d.envelope.id for d in got] == ["s1:event:after"]
        assert "shelfsense.s1.event" in caplog.text
        time.sleep(ACK_WAIT_S + 0.5)
        assert consumer.fetch(10, 0.5) == []  # the junk was acked, not left to come back
    finally:
        publisher.close()
        consumer.close()


def test_a_node_killed_mid_stream_loses_nothing(hq: HeadOffice) -> None:
    leader = hq.info().cluster.leader  # the hardest node to lose
    victim = next(i for i, node in enumerate(hq.cluster.nodes) if node.name == leader)
    # A request caught on the dying node is given up after 2 s and sent again.
    publisher, consumer = hq.publisher(timeout_s=2.0), hq.consumer()
    sent: list[Envelope] = []
    errors: list[BaseException] = []

    def publish() -> None:
        try:
            for batch in range(60):
                envelopes = [make(Kind.EVENT, f"b{batch}-{i}") for i in range(10)]
                publisher.publish(envelopes)
                sent.extend(envelopes)
                time.sleep(0.05)
        except BaseException as error:  # reported by the test
            errors.append(error)

    thread = threading.Thread(target=publish)
    try:
        thread.start()
        while len(sent) < 100:
            time.sleep(0.02)
        hq.cluster.kill(victim)
        thread.join(60)
        assert not errors, errors
        assert len(sent) == 600
        got = drain(consumer, 600, timeout_s=15)
        assert {d.envelope.id for d in got} == {e.id for e in sent}
        assert hq.info().state.messages == 600  # stored once each
    finally:
        thread.join(60)
        publisher.close()
        consumer.close()
        hq.cluster.restart(victim)


WORKER = """
import sys, time
from gateway.uplink.jetstream import JetStreamConsumer
consumer = JetStreamConsumer(
    sys.argv[1].split(","), sys.argv[2], sys.argv[3], durable="ingest", stream=sys.argv[4]
)
taken = consumer.fetch(20, 5.0)
print(" ".join(d.envelope.id for d in taken), flush=True)
time.sleep(60)
"""


def test_consumers_share_the_durable_and_a_killed_ones_messages_go_to_the_other(
    hq: HeadOffice,
) -> None:
    publisher, survivor = hq.publisher(), hq.consumer()
    assert survivor.fetch(1, 0.2) == []  # creates the durable consumer with a short ack_wait
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            WORKER,
            ",".join(hq.cluster.urls),
            INGEST_USER,
            INGEST_PASSWORD,
            hq.stream,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        start_new_session=True,
    )
    try:
        sent = [make(Kind.SALES, f"h{i}") for i in range(40)]
        publisher.publish(sent)
        assert worker.stdout is not None
        taken_by_worker = set(worker.stdout.readline().decode().split())
        assert len(taken_by_worker) == 20
        os.kill(worker.pid, signal.SIGKILL)  # dies holding 20 unacked messages

        got = drain(survivor, 40, timeout_s=ACK_WAIT_S + 8)
        first_time = {d.envelope.id for d in got if d.delivered == 1}
        again = {d.envelope.id for d in got if d.delivered > 1}
        assert first_time.isdisjoint(taken_by_worker)  # shared: never handed out twice at once
        assert again == taken_by_worker  # redelivered after ack_wait to the survivor
        assert first_time | again == {e.id for e in sent}
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()
        publisher.close()
        survivor.close()


def test_the_outbox_survives_a_head_office_outage_and_drops_by_policy(
    hq: HeadOffice, tmp_path: Path
) -> None:
    consumer = hq.consumer()
    assert consumer.fetch(1, 0.2) == []
    publisher = hq.publisher(publish_timeout_s=2.0, timeout_s=1.0)
    outbox = UplinkOutbox(tmp_path / "hq-outbox.db", max_messages=10)
    # batch=1: each envelope is its own publish, so the stream order is the outbox order.
    uplink = Uplink(outbox, publisher, batch=1, flush_interval_s=0.1, backoff_max_s=1.0)
    uplink.start()
    try:
        uplink.send([make(Kind.PROFILE, "profile")])
        assert uplink.flush(10)
        assert [d.envelope.id for d in drain(consumer, 1)] == ["s1:profile:profile"]

        for index in range(len(hq.cluster.nodes)):
            hq.cluster.kill(index)  # the whole head office is down
        waiting = (
            [make(Kind.HEALTH, f"h{i}") for i in range(4)]
            + [make(Kind.ROLLUP, f"r{i}") for i in range(4)]
            + [make(Kind.EVENT, f"e{i}") for i in range(4)]
            + [make(Kind.SALES, f"s{i}") for i in range(3)]
            + [make(Kind.PRODUCTS, "cam-1:v2")]
        )
        for envelope in waiting:
            uplink.send([envelope])
        assert not uplink.flush(2.0)
        # The first failed publish ends when its 2 s acknowledgement wait does: wait for it.
        status = wait_for(uplink.status, lambda s: s.last_error is not None, timeout_s=10)
        assert status.backlog == 10 and status.last_error is not None
        # 16 waiting for 10 places: all health rows, then the two oldest rollups went.
        assert status.dropped_by_kind == {"health": 4, "rollup": 2}

        hq.cluster.start()  # back, with the stream on disk
        assert uplink.flush(30)
        kept = [e.id for e in waiting[6:]]
        got = [d.envelope.id for d in drain(consumer, len(kept), timeout_s=10, until=kept)]
        # Delivery is at least once: an ack the crash swallowed brings the profile back, and
        # the client sends on reconnect what it buffered while the cluster was down: a row
        # taken for sending (the first health row) before the outbox dropped it.
        assert [i for i in dict.fromkeys(got) if i in kept] == kept
        assert set(got) - set(kept) <= {"s1:profile:profile", *(e.id for e in waiting[:6])}
        assert uplink.status().last_error is None and uplink.lag_s == 0.0
    finally:
        uplink.stop()
        consumer.close()


def test_a_delivery_marked_in_progress_stays_with_its_consumer(hq: HeadOffice) -> None:
    publisher, slow, other = hq.publisher(), hq.consumer(), hq.consumer()
    try:
        publisher.publish([make(Kind.SALES, "slow")])
        taken = wait_for(lambda: slow.fetch(1, 0.5), lambda got: len(got) == 1, 10)
        assert len(taken) == 1
        until = time.monotonic() + ACK_WAIT_S * 2.5  # well past the ack wait
        while time.monotonic() < until:
            taken[0].in_progress()  # a live process still storing it
            assert other.fetch(1, ACK_WAIT_S / 3) == []
        taken[0].ack()
        assert other.fetch(1, ACK_WAIT_S + 1.0) == []  # acked: never handed out again
    finally:
        publisher.close()
        slow.close()
        other.close()
