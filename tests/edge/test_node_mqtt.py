"""The camera node against a real Mosquitto: availability, Last Will, state, config, events.

Uses the real shipped ONNX model on frames of the simulated shelf (skips, saying why,
when either is absent), and the real `shelf-node` program for the crash test.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from edge.contract.messages import Availability, Health, NodeConfig, ShelfEvent, ShelfState
from edge.contract.topics import CameraTopics
from edge.detector import OnnxDetector
from edge.layout import Layout
from edge.node import CameraNode
from edge.settings import NodeSettings
from edge.sources.simulator import SimulatorSource
from tests.support.edge_nodes import (
    MqttRecorder,
    constant_model,
    retained,
    shelf_with_gaps,
    synthetic_model,
    wait_for,
    yolo_output,
)
from tests.support.services import Mosquitto

TOPICS = CameraTopics("s1", "c1")


def node_settings(url: str, data_dir: Path, **extra) -> NodeSettings:
    data = {
        "data_dir": str(data_dir),
        "store": "s1",
        "camera": "c1",
        "interval_s": 0.1,
        "health_interval_s": 0.5,
        "mqtt": {"url": url, "keepalive_s": 2, "reconnect_min_s": 0.2, "reconnect_max_s": 1},
        "source": {"kind": "simulator"},
        "analysis": {"confirm_frames": 1},
    }
    data.update(extra)
    return NodeSettings.model_validate(data)


@contextmanager
def running(node: CameraNode) -> Iterator[threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=node.run, args=(stop,), name="node")
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(15)
        assert not thread.is_alive(), "the node did not stop"


def states(recorder: MqttRecorder) -> list[ShelfState]:
    return [ShelfState.model_validate_json(m.payload) for m in recorder.on(TOPICS.state)]


def test_node_publishes_state_events_health_and_follows_config(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    model = synthetic_model()
    # Some slots are sold out when the node starts: their first sight is an event.
    shelf = shelf_with_gaps(seed=5, store="s1", camera="c1")
    source = SimulatorSource(shelf, speedup=1.0)
    node = CameraNode(
        node_settings(mosquitto.url, tmp_path / "data"),
        source=source,
        detector=OnnxDetector(model, threads=1, confidence=0.25),
    )
    recorder = MqttRecorder(mosquitto.url, f"{TOPICS.prefix}/s1/c1/#")
    caplog.set_level(logging.INFO)

    with running(node) as stop:
        # Online, retained, as a fresh subscriber (e.g. the gateway restarting) sees it.
        online = wait_for(lambda: retained(mosquitto.url, TOPICS.availability))
        assert Availability.model_validate_json(online.payload).state == "online"

        # Before any config the node runs the simulated shelf's own layout.
        first = wait_for(lambda: states(recorder))[0]
        assert first.layout_version == shelf.layout.version
        assert len(first.slots) == len(shelf.layout.slot_boxes())

        # The gateway sends a layout (here: the shelf without its bottom row).
        layout = Layout(rows=shelf.layout.rows[:-1])
        config = NodeConfig(version=layout.version, layout=layout)
        recorder.publish(TOPICS.config, config.to_json(), retain=True)
        echoed = wait_for(
            lambda: [s for s in states(recorder) if s.layout_version == config.version]
        )[0]
        expected = {(r.index, s.index) for r, s, _ in layout.slot_boxes()}
        assert {(s.row, s.slot) for s in echoed.slots} == expected
        assert echoed.model == model.stem and echoed.seq > first.seq

        # A bad config is logged with its topic and ignored: the layout stays.
        recorder.publish(TOPICS.config, b'{"version": "x", "layout": {"rows": 5}}')
        wait_for(lambda: "invalid config ignored" in caplog.text)
        assert TOPICS.config in caplog.text
        count = len(states(recorder))
        wait_for(lambda: len(states(recorder)) > count + 2)
        assert states(recorder)[-1].layout_version == config.version

        kept = retained(mosquitto.url, TOPICS.state)
        assert kept is not None
        assert ShelfState.model_validate_json(kept.payload).layout_version == config.version

        # Health, periodically.
        wait_for(lambda: len(recorder.on(TOPICS.health)) >= 2)
        health = Health.model_validate_json(recorder.on(TOPICS.health)[-1].payload)
        assert health.frames_processed > 0 and health.camera_ok
        assert health.inference_ms is not None and health.inference_ms > 0
        assert health.model == model.stem

        # Events: QoS 1, never retained, each with its own id.
        events = wait_for(lambda: recorder.on(TOPICS.events))
        assert all(m.qos == 1 and not m.retain for m in events)
        parsed = [ShelfEvent.model_validate_json(m.payload) for m in events]
        assert len({e.id for e in parsed}) == len(parsed)
        assert {e.type.value for e in parsed} & {"gap_opened", "low_stock"}
        assert stop is not None

    # A clean stop leaves a retained offline.
    gone = retained(mosquitto.url, TOPICS.availability)
    assert Availability.model_validate_json(gone.payload).state == "offline"
    recorder.close()


def shelf_node_command() -> list[str]:
    script = Path(sys.executable).parent / "shelf-node"
    return [str(script)] if script.exists() else [sys.executable, "-m", "edge.cli"]


def start_node_process(tmp_path: Path, url: str) -> subprocess.Popen[str]:
    frames = tmp_path / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "shelf.png"), np.full((120, 160, 3), 90, np.uint8))
    model = constant_model(tmp_path / "m.onnx", yolo_output([(5, 5, 2, 2)], [[0.0, 0.0]]))
    config = {
        "store": "s1",
        "camera": "c1",
        "interval_s": 0.2,
        "mqtt": {"url": url, "keepalive_s": 1},
        "source": {"kind": "folder", "path": "frames"},
        "detector": {"model": model.name, "threads": 1, "warmup_runs": 0},
    }
    (tmp_path / "node.yaml").write_text(yaml.safe_dump(config))
    return subprocess.Popen(
        [*shelf_node_command(), "--config", str(tmp_path / "node.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def availability(url: str) -> str | None:
    message = retained(url, TOPICS.availability, timeout=0.5)
    return json.loads(message.payload)["state"] if message else None


def test_killed_node_process_leaves_offline_by_last_will(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    process = start_node_process(tmp_path, mosquitto.url)
    try:
        wait_for(lambda: availability(mosquitto.url) == "online", timeout=30)
        wait_for(lambda: retained(mosquitto.url, TOPICS.state, timeout=0.5), timeout=10)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        # The broker notices the silence after 1.5 x keepalive and publishes the will.
        wait_for(lambda: availability(mosquitto.url) == "offline", timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sigterm_stops_the_node_process_cleanly(mosquitto: Mosquitto, tmp_path: Path) -> None:
    process = start_node_process(tmp_path, mosquitto.url)
    try:
        wait_for(lambda: availability(mosquitto.url) == "online", timeout=30)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
        assert process.returncode == 0, output
        assert "SIGTERM: stopping" in output
        # Offline is retained at once, not after a keepalive timeout.
        assert availability(mosquitto.url) == "offline"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_node_reconnects_after_a_broker_restart(mosquitto: Mosquitto, tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "shelf.png"), np.full((120, 160, 3), 90, np.uint8))
    model = constant_model(tmp_path / "m.onnx", yolo_output([(5, 5, 2, 2)], [[0.0, 0.0]]))
    settings = node_settings(
        mosquitto.url,
        tmp_path / "data",
        source={"kind": "folder", "path": str(frames)},
        detector={"model": str(model), "threads": 1, "warmup_runs": 0},
    )
    node = CameraNode(settings)

    def state_seq() -> int | None:
        message = retained(mosquitto.url, TOPICS.state, timeout=0.5)
        return ShelfState.model_validate_json(message.payload).seq if message else None

    with running(node):
        assert node.publisher.wait_connected(10)
        before = wait_for(state_seq)
        mosquitto.stop()
        wait_for(lambda: not node.publisher.connected)
        mosquitto.start()  # same port, persistent retained messages
        assert wait_for(lambda: node.publisher.connected, timeout=15)
        wait_for(lambda: (state_seq() or 0) > before + 2, timeout=10)
        assert availability(mosquitto.url) == "online"
    assert node.health.frames_failed == 0
