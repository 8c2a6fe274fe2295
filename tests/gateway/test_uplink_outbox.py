"""The head-office uplink without a server: the in-process transport, the outbox and its
drop policy, the forwarder, and the `hq:` settings."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from edge.contract.config_file import ConfigError, parse_config
from gateway.uplink.contract import Kind
from gateway.uplink.outbox import Uplink, UplinkOutbox
from gateway.uplink.settings import HqUplinkSettings
from gateway.uplink.transport import Consumer, Delivery, LocalTransport, TransportError, decode
from tests.support.hq_messages import make


def drain(consumer: Consumer, want: int, timeout_s: float = 5.0) -> list[Delivery]:
    got: list[Delivery] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < want and time.monotonic() < deadline:
        got += consumer.fetch(100, 0.2)
    return got


# --- LocalTransport ---------------------------------------------------------------------


def test_local_round_trip_in_order_and_acked_messages_are_forgotten() -> None:
    transport = LocalTransport()
    consumer = transport.consumer("ingest")
    sent = [make(Kind.EVENT, f"e{i}") for i in range(5)]
    transport.publisher("s1").publish(sent)

    got = consumer.fetch(10, 1.0)
    assert [d.envelope for d in got] == sent
    assert all(d.subject == "shelfsense.s1.event" and d.delivered == 1 for d in got)
    assert all(d.stored_at is not None for d in got)
    for delivery in got:
        delivery.ack()
    assert consumer.fetch(10, 0.1) == []
    assert transport.stored == 0


def test_local_drops_a_duplicate_id_within_the_window_only() -> None:
    transport = LocalTransport(duplicate_window_s=0.2)
    consumer = transport.consumer()
    publisher = transport.publisher()
    one = make(Kind.HEALTH, "h1")
    publisher.publish([one, one])
    publisher.publish([one])
    assert transport.duplicates == 2
    assert len(drain(consumer, 2, 0.5)) == 1

    time.sleep(0.25)
    publisher.publish([one])  # the window is over: the transport takes it again
    assert len(consumer.fetch(10, 0.5)) == 1


def test_local_store_publisher_may_publish_only_its_own_subjects() -> None:
    transport = LocalTransport()
    consumer = transport.consumer()
    with pytest.raises(TransportError, match=r"shelfsense\.s2\.event"):
        transport.publisher("s1").publish([make(Kind.EVENT, "e1"), make(Kind.EVENT, "x", "s2")])
    assert consumer.fetch(10, 0.1) == []  # nothing of a refused batch is stored


def test_local_consumers_share_a_durable_and_unacked_messages_go_to_the_other() -> None:
    transport = LocalTransport(ack_wait_s=0.3)
    first, second = transport.consumer("ingest"), transport.consumer("ingest")
    transport.publisher().publish([make(Kind.EVENT, f"e{i}") for i in range(6)])

    taken_by_first = first.fetch(3, 1.0)  # then "dies" without acking
    taken_by_second = second.fetch(10, 1.0)
    assert len(taken_by_first) == 3 and len(taken_by_second) == 3
    assert {d.envelope.id for d in taken_by_first}.isdisjoint(
        d.envelope.id for d in taken_by_second
    )
    for delivery in taken_by_second:
        delivery.ack()

    redelivered = drain(second, 3, 2.0)
    assert {d.envelope.id for d in redelivered} == {d.envelope.id for d in taken_by_first}
    assert all(d.delivered == 2 for d in redelivered)


def test_local_nak_hands_the_message_out_again_after_the_delay() -> None:
    transport = LocalTransport()
    consumer = transport.consumer()
    transport.publisher().publish([make(Kind.SALES, "h9")])
    (delivery,) = consumer.fetch(1, 1.0)
    delivery.nak(0.2)
    assert consumer.fetch(1, 0.05) == []
    (again,) = consumer.fetch(1, 1.0)
    assert again.envelope == delivery.envelope and again.delivered == 2


def test_local_durables_each_get_every_message() -> None:
    transport = LocalTransport()
    ingest, audit = transport.consumer("ingest"), transport.consumer("audit")
    transport.publisher().publish([make(Kind.EVENT, "e1"), make(Kind.EVENT, "e2")])
    for consumer in (ingest, audit):
        got = consumer.fetch(10, 1.0)
        assert [d.envelope.id for d in got] == ["s1:event:e1", "s1:event:e2"]
        for delivery in got:
            delivery.ack()
    assert transport.stored == 0


def test_local_is_thread_safe_each_message_once() -> None:
    transport = LocalTransport()
    consumers = [transport.consumer(), transport.consumer()]
    seen: list[str] = []
    lock = threading.Lock()

    def publish(store: str) -> None:
        publisher = transport.publisher(store)
        for i in range(200):
            publisher.publish([make(Kind.EVENT, f"e{i}", store)])

    def consume(consumer: Consumer) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(seen) < 800:
            for delivery in consumer.fetch(50, 0.1):
                with lock:
                    seen.append(delivery.envelope.id)
                delivery.ack()

    threads = [threading.Thread(target=publish, args=(f"s{n}",)) for n in range(4)]
    threads += [threading.Thread(target=consume, args=(c,)) for c in consumers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert len(seen) == 800 and len(set(seen)) == 800


def test_a_malformed_message_is_logged_naming_its_subject(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        assert decode("shelfsense.s1.event", b"{not json") is None
        assert decode("shelfsense.s1.event", make(Kind.EVENT, "e1", "s2").to_bytes()) is None
    assert caplog.text.count("shelfsense.s1.event") == 2
    assert decode("shelfsense.s1.event", make(Kind.EVENT, "e1").to_bytes()) is not None


# --- The outbox ---------------------------------------------------------------------------


def test_outbox_keeps_rows_oldest_first_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "hq-outbox.db"
    outbox = UplinkOutbox(path)
    sent = [make(Kind.EVENT, f"e{i}") for i in range(4)]
    assert outbox.put(sent) == 4
    assert outbox.put(sent[:2]) == 0  # an id already waiting is not stored twice
    outbox.close()

    reopened = UplinkOutbox(path)
    assert reopened.backlog == 4
    rows = reopened.oldest(10)
    assert [e for _, e in rows] == sent
    assert reopened.lag_s >= 0.0
    reopened.remove([seq for seq, _ in rows[:3]])
    assert [e.id for _, e in reopened.oldest(10)] == ["s1:event:e3"]
    assert reopened.backlog == 1
    reopened.remove([seq for seq, _ in rows])  # already gone: fine
    assert reopened.backlog == 0 and reopened.lag_s == 0.0


def test_outbox_drop_policy_health_then_rollup_then_event_then_sales(tmp_path: Path) -> None:
    outbox = UplinkOutbox(tmp_path / "o.db", max_messages=6)
    outbox.put([make(Kind.PROFILE, "p"), make(Kind.PRODUCTS, "cam-1:v1")])
    outbox.put([make(Kind.SALES, f"s{i}") for i in range(2)])
    outbox.put([make(Kind.EVENT, f"e{i}") for i in range(2)])
    outbox.put([make(Kind.ROLLUP, f"r{i}") for i in range(2)])
    outbox.put([make(Kind.HEALTH, f"h{i}") for i in range(3)])
    # 11 rows for 6 places: both rollups went when the bound was first passed, then all
    # 3 health rows; the oldest of a kind goes first.
    assert outbox.dropped_by_kind == {"health": 3, "rollup": 2}
    assert [e.kind for _, e in outbox.oldest(10)] == [
        Kind.PROFILE,
        Kind.PRODUCTS,
        Kind.SALES,
        Kind.SALES,
        Kind.EVENT,
        Kind.EVENT,
    ]
    outbox.put([make(Kind.SALES, "s9"), make(Kind.EVENT, "e9")])
    # Then the oldest events before any sales...
    assert outbox.dropped_by_kind == {"health": 3, "rollup": 2, "event": 2}
    assert [e.id for _, e in outbox.oldest(10)] == [
        "s1:profile:p",
        "s1:products:cam-1:v1",
        "s1:sales:s0",
        "s1:sales:s1",
        "s1:sales:s9",
        "s1:event:e9",
    ]
    # ...then the oldest sales, and products/profile last.
    outbox.put([make(Kind.SALES, "s10"), make(Kind.SALES, "s11")])
    assert outbox.dropped_by_kind == {"health": 3, "rollup": 2, "event": 3, "sales": 1}
    assert [e.id for _, e in outbox.oldest(10)][:3] == [
        "s1:profile:p",
        "s1:products:cam-1:v1",
        "s1:sales:s1",
    ]
    assert outbox.backlog == 6
    outbox.close()
    assert UplinkOutbox(tmp_path / "o.db").dropped == 9  # the count survives a restart


# --- The forwarder ------------------------------------------------------------------------


def test_uplink_delivers_everything_in_order_through_the_local_transport(tmp_path: Path) -> None:
    transport = LocalTransport()
    consumer = transport.consumer()
    uplink = Uplink(UplinkOutbox(tmp_path / "o.db"), transport.publisher("s1"), batch=7)
    uplink.start()
    try:
        sent = [make(Kind.EVENT, f"e{i}") for i in range(30)]
        for start in range(0, 30, 4):
            uplink.send(sent[start : start + 4])
        assert uplink.flush(5.0)
        assert uplink.backlog == 0 and uplink.status().sent == 30
        assert uplink.last_sent_at is not None and uplink.status().last_error is None
    finally:
        uplink.stop()
    assert [d.envelope for d in drain(consumer, 30)] == sent


def test_uplink_keeps_rows_while_the_transport_refuses(tmp_path: Path) -> None:
    transport = LocalTransport()
    # A store credential that does not match the envelopes: every publish is refused.
    uplink = Uplink(
        UplinkOutbox(tmp_path / "o.db"),
        transport.publisher("other-store"),
        flush_interval_s=0.05,
        backoff_max_s=0.1,
    )
    uplink.start()
    try:
        uplink.send([make(Kind.EVENT, "e1"), make(Kind.SALES, "s1")])
        assert not uplink.flush(0.5)
        status = uplink.status()
        assert status.backlog == 2 and status.sent == 0 and status.last_sent_at is None
        assert "shelfsense.s1.event" in (status.last_error or "")
        assert status.lag_s > 0.3
    finally:
        uplink.stop()
    assert UplinkOutbox(tmp_path / "o.db").backlog == 2


def test_uplink_from_settings_local_needs_the_in_process_head_office(tmp_path: Path) -> None:
    settings = HqUplinkSettings(enabled=True, url="local", flush_interval_s=0.05)
    with pytest.raises(ValueError, match="local"):
        Uplink.from_settings(settings, tmp_path, "s1")
    transport = LocalTransport()
    uplink = Uplink.from_settings(settings, tmp_path, "s1", local=transport)
    assert uplink.outbox.path == tmp_path / "hq-outbox.db"
    uplink.stop()


# --- Settings -----------------------------------------------------------------------------


def test_settings_are_strict_and_read_the_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HQ_PASSWORD", "s3cret")
    settings = parse_config(
        {
            "enabled": True,
            "url": "nats://hq-1:4222, nats://hq-2:4222",
            "user": "store-s1",
            "password": "${HQ_PASSWORD}",
        },
        HqUplinkSettings,
        "gateway.yaml: hq",
    )
    assert settings.url == ["nats://hq-1:4222", "nats://hq-2:4222"]
    assert settings.password is not None and settings.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert not settings.local and HqUplinkSettings().local and not HqUplinkSettings().enabled

    with pytest.raises(ConfigError, match="urls: unknown key"):
        parse_config({"urls": ["nats://hq:4222"]}, HqUplinkSettings, "gateway.yaml: hq")
    with pytest.raises(ConfigError, match="want nats://host:port"):
        parse_config({"url": ["http://hq:4222"]}, HqUplinkSettings, "gateway.yaml: hq")
