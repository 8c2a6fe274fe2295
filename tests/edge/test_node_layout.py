"""A camera node takes a new layout the moment the gateway's config arrives (issue 21,
item 10): the real `shelf-node` program against a real Mosquitto, with a capture
interval far longer than the test waits, so only an immediate switch can pass."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import yaml

from edge.contract.messages import NodeConfig, ShelfState
from edge.contract.topics import CameraTopics
from tests.support.edge_nodes import MqttRecorder, constant_model, wait_for, yolo_output
from tests.support.gateway_store import sample_layout
from tests.support.services import Mosquitto

TOPICS = CameraTopics("s1", "c1")
INTERVAL_S = 60.0
"""The node's capture interval: the old node took up to this long to use a new layout."""
SWITCH_WITHIN_S = 8.0


def start_node(tmp_path: Path, url: str) -> subprocess.Popen[str]:
    """`shelf-node` on a folder of one photo, no layout of its own, capturing every minute."""
    frames = tmp_path / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "shelf.png"), np.full((120, 160, 3), 90, np.uint8))
    model = constant_model(tmp_path / "m.onnx", yolo_output([(5, 5, 2, 2)], [[0.0, 0.0]]))
    config = {
        "store": "s1",
        "camera": "c1",
        "interval_s": INTERVAL_S,
        "mqtt": {"url": url, "keepalive_s": 5},
        "source": {"kind": "folder", "path": "frames"},
        "detector": {"model": model.name, "threads": 1, "warmup_runs": 0},
        "data_dir": str(tmp_path / "data"),
    }
    (tmp_path / "node.yaml").write_text(yaml.safe_dump(config))
    script = Path(sys.executable).parent / "shelf-node"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "edge.cli"]
    return subprocess.Popen(
        [*command, "--config", str(tmp_path / "node.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def states(recorder: MqttRecorder) -> list[ShelfState]:
    return [ShelfState.model_validate_json(m.payload) for m in recorder.on(TOPICS.state)]


def test_a_config_arriving_between_captures_applies_at_once(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    recorder = MqttRecorder(mosquitto.url, f"{TOPICS.prefix}/s1/c1/#")
    process = start_node(tmp_path, mosquitto.url)
    try:
        # The first capture: no layout yet, so the state carries no slots.
        first = wait_for(lambda: states(recorder), timeout=60)[0]
        assert first.layout_version is None and first.slots == []

        layout = sample_layout()
        config = NodeConfig(version=layout.version, layout=layout)
        sent = time.monotonic()
        recorder.publish(TOPICS.config, config.to_json(), retain=True)
        echoed = wait_for(
            lambda: [s for s in states(recorder) if s.layout_version == layout.version],
            timeout=SWITCH_WITHIN_S,
        )[0]
        took = time.monotonic() - sent
        assert took < SWITCH_WITHIN_S < INTERVAL_S
        # Its very first state under the new layout has every slot of it.
        assert {(s.row, s.slot) for s in echoed.slots} == {(0, 0), (0, 1)}
        assert all(s.sku is not None for s in echoed.slots)
        # The capture rhythm goes on from the switch: no burst of extra frames.
        time.sleep(1.0)
        assert len(states(recorder)) == 2
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        recorder.close()
