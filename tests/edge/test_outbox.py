"""The node's durable outbox: order, persistence, the bound and its drop policy, and the
publisher sending through it to a real Mosquitto across a broker outage."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.contract.messages import EventType, Health, ShelfEvent, ShelfState
from edge.contract.topics import CameraTopics
from edge.node import CameraNode
from edge.outbox import Outbox, OutboxError, OutgoingMessage
from edge.publisher import SEND_WINDOW, NodePublisher
from edge.settings import NodeSettings
from tests.support.edge_nodes import MqttRecorder, constant_model, wait_for, yolo_output
from tests.support.paths import REPO
from tests.support.services import Mosquitto, TcpProxy, free_port

TOPICS = CameraTopics("s1", "c1")


def state(n: int) -> OutgoingMessage:
    return OutgoingMessage("state", TOPICS.state, f"state-{n}".encode(), 1, True)


def event(n: int) -> OutgoingMessage:
    return OutgoingMessage("event", TOPICS.events, f"event-{n}".encode(), 1, False)


def payloads(outbox: Outbox) -> list[str]:
    return [p.message.payload.decode() for p in outbox.after(0, 10_000)]


def test_messages_come_back_in_order_and_survive_a_reopen(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", max_messages=100)
    ids = outbox.put([state(1), event(1), event(2)])
    ids += outbox.put([state(2)])
    assert ids == sorted(ids) and outbox.pending == 4
    first = outbox.after(0, 2)
    assert [p.message for p in first] == [state(1), event(1)]
    assert [p.message.retain for p in outbox.after(0, 10)] == [True, False, False, True]
    outbox.remove([first[0].id])
    outbox.remove([first[0].id])  # a second ack for the same row changes nothing
    assert outbox.pending == 3
    outbox.close()

    reopened = Outbox(tmp_path / "o.db", max_messages=100)
    assert reopened.pending == 3
    assert payloads(reopened) == ["event-1", "event-2", "state-2"]
    # Ids keep growing after deletes, so "after the last one sent" never skips a new row.
    reopened.remove([p.id for p in reopened.after(0, 10)])
    [new_id] = reopened.put([event(3)])
    assert new_id > max(ids)


def test_when_full_the_oldest_states_go_first_then_the_oldest_events(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", max_messages=4)
    outbox.put([state(1), event(1), state(2), event(2)])
    outbox.put([event(3)])
    assert payloads(outbox) == ["event-1", "state-2", "event-2", "event-3"]
    outbox.put([event(4), event(5)])
    assert payloads(outbox) == ["event-2", "event-3", "event-4", "event-5"]
    assert outbox.dropped == 3 and outbox.pending == 4


def test_rows_in_pahos_hands_are_not_dropped(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.db", max_messages=3)
    ids = outbox.put([state(1), state(2), event(1)])
    outbox.protected_through = ids[0]  # state-1 was handed to paho
    outbox.put([event(2)])
    assert payloads(outbox) == ["state-1", "event-1", "event-2"]


def test_an_unwritable_outbox_is_an_error_naming_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutboxError, match=r"file/sub/o\.db: cannot open the outbox"):
        Outbox(blocker / "sub" / "o.db")


def test_outbox_settings_are_strict_and_default_under_the_data_dir(tmp_path: Path) -> None:
    base = {"store": "s1", "camera": "c1", "source": {"kind": "simulator"}}
    settings = NodeSettings.model_validate(base | {"data_dir": str(tmp_path)})
    assert settings.outbox_path == tmp_path / "outbox-s1-c1.db"
    assert settings.outbox.max_messages == 10_000
    custom = NodeSettings.model_validate(base | {"outbox": {"path": "/x/o.db"}})
    assert custom.outbox_path == Path("/x/o.db")
    for bad in ({"max_messages": 10}, {"size": 5}):
        with pytest.raises(ValueError, match="outbox"):
            NodeSettings.model_validate(base | {"outbox": bad})


def node_settings(url: str, data_dir: Path) -> NodeSettings:
    return NodeSettings.model_validate(
        {
            "store": "s1",
            "camera": "c1",
            "mqtt": {"url": url, "keepalive_s": 2, "reconnect_min_s": 0.1, "reconnect_max_s": 0.5},
            "source": {"kind": "simulator"},
            "data_dir": str(data_dir),
        }
    )


def frame(seq: int) -> tuple[ShelfState, list[ShelfEvent]]:
    events = [
        ShelfEvent(store="s1", camera="c1", id=f"evt-{seq:04d}-{i}", type=EventType.GAP_OPENED)
        for i in range(2)
    ]
    return ShelfState(store="s1", camera="c1", seq=seq), events


def sent_sequence(recorder: MqttRecorder, first_seq: int = 0) -> list[str]:
    """What the broker delivered, in order: state seqs and event ids of frames from
    `first_seq` on (the broker may deliver the recorder's older messages again after its
    own restart: QoS 1 to the recorder, whose PUBACKs it had not saved yet)."""
    out = []
    for m in list(recorder.messages):
        if m.retain:
            continue  # a retained copy handed to a new subscription, not a delivery
        body = json.loads(m.payload)
        if m.topic == TOPICS.state and body["seq"] >= first_seq:
            out.append(f"state {body['seq']}")
        elif m.topic == TOPICS.events and int(body["id"].split("-")[1]) >= first_seq:
            out.append(f"event {body['id']}")  # ids are evt-<frame seq>-<n>
    return out


def expected_sequence(seqs: range) -> list[str]:
    return [
        item for seq in seqs for item in [f"state {seq}", *(f"event {e.id}" for e in frame(seq)[1])]
    ]


def test_the_publisher_keeps_everything_through_an_outage_and_sends_it_in_order(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    recorder = MqttRecorder(mosquitto.url, "shelfsense/s1/c1/#", clean_session=False)
    publisher = NodePublisher(node_settings(mosquitto.url, tmp_path / "data"))
    publisher.start()
    try:
        assert publisher.wait_connected(10)
        for seq in range(1, 6):
            assert publisher.publish_frame(*frame(seq))
        assert publisher.wait_sent(10), f"{publisher.outbox.pending} not acknowledged"
        wait_for(lambda: len(sent_sequence(recorder)) == 15)
        recorder.messages.clear()

        mosquitto.stop()
        wait_for(lambda: not publisher.connected)
        for seq in range(6, 56):
            assert publisher.publish_frame(*frame(seq))
        assert publisher.outbox.pending == 150  # 50 states and 100 events wait on disk
        assert not publisher.publish_health(
            Health(store="s1", camera="c1", uptime_s=1, frames_processed=1)
        )

        mosquitto.start()  # same port, sessions restored: the recorder gets all of it
        assert publisher.wait_connected(15)
        assert publisher.wait_sent(15), f"{publisher.outbox.pending} not acknowledged"
        wait_for(lambda: len(sent_sequence(recorder, first_seq=6)) >= 150)
        # Nothing lost, nothing reordered (a resent duplicate would show here too).
        assert sent_sequence(recorder, first_seq=6) == expected_sequence(range(6, 56))
        assert publisher.outbox.dropped == 0
    finally:
        publisher.stop()
        recorder.close()
    with sqlite3.connect(tmp_path / "data" / "outbox-s1-c1.db") as conn:
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_messages_lost_in_a_network_cut_are_resent_in_order(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """A black-holed link: paho has sent a window of messages that never arrive; after
    the link is back they are sent again, before anything newer."""
    proxy = TcpProxy(mosquitto.port)
    recorder = MqttRecorder(mosquitto.url, "shelfsense/s1/c1/#")
    publisher = NodePublisher(node_settings(proxy.url, tmp_path / "data"))
    publisher.start()
    try:
        assert publisher.wait_connected(10)
        proxy.cut()
        for seq in range(1, 31):
            assert publisher.publish_frame(*frame(seq))
        # paho wrote a window into the void; the rest waits; none is acknowledged.
        wait_for(lambda: len(publisher._in_flight) == SEND_WINDOW)
        assert publisher.outbox.pending == 90
        wait_for(lambda: not publisher.connected, timeout=15)  # keepalive noticed the cut
        proxy.restore()
        assert publisher.wait_connected(15)
        assert publisher.wait_sent(15), f"{publisher.outbox.pending} not acknowledged"
        wait_for(lambda: len(sent_sequence(recorder)) >= 90)
        assert sent_sequence(recorder) == expected_sequence(range(1, 31))
    finally:
        publisher.stop()
        recorder.close()
        proxy.close()


def test_a_node_cut_off_from_its_broker_reports_its_outbox_in_health(tmp_path: Path) -> None:
    """No broker at all: every frame's state and events wait on disk, up to the bound;
    states are dropped first, and health says how many wait and how many were dropped."""
    frames = tmp_path / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "a.png"), np.full((120, 160, 3), 90, np.uint8))
    # A gap over the whole frame: the first frame opens a gap in every slot (events).
    model = constant_model(tmp_path / "m.onnx", yolo_output([(96, 64, 192, 128)], [[0.9, 0.0]]))
    settings = NodeSettings.model_validate(
        {
            "store": "store-1",
            "camera": "cam-1",
            "mqtt": {"url": f"mqtt://127.0.0.1:{free_port()}"},  # nobody listens there
            "source": {"kind": "folder", "path": str(frames)},
            "detector": {"model": str(model), "threads": 1, "warmup_runs": 0},
            "analysis": {"confirm_frames": 1},
            "layout_file": str(REPO / "firmware_config" / "layouts" / "store-1-cam-1.yaml"),
            "data_dir": str(tmp_path / "data"),
            "outbox": {"max_messages": 100},
        }
    )
    node = CameraNode(settings)
    assert node.tick()
    events = node.publisher.outbox.pending - 1  # one state, the rest are events
    assert events > 0
    for _ in range(120):
        assert node.tick()
    report = node.health_report()
    assert report.outbox_pending == 100
    assert report.outbox_dropped == 1 + 120 + events - 100
    kinds = [p.message.kind for p in node.publisher.outbox.after(0, 1000)]
    assert kinds.count("event") == events  # no event was dropped while states were left
    node.publisher.stop()
