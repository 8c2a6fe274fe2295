"""`shelf-node smoke-test` and firmware_config/smoke-test.sh, as an installer runs them on a
Pi: here the camera is the fake `picamera2` (tests/support/fake_picamera2, on PYTHONPATH of
the subprocess), the model the shipped one and the broker a real Mosquitto."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from edge.detector import DEFAULT_MODEL_NAME
from tests.support.edge_nodes import shipped_model
from tests.support.paths import REPO
from tests.support.services import Mosquitto, free_port

FAKE = REPO / "tests" / "support" / "fake_picamera2"
SHELF_NODE = Path(sys.executable).parent / "shelf-node"


def node_config(tmp_path: Path, broker_url: str) -> Path:
    path = tmp_path / "node.yaml"
    config = {
        "store": "store-1",
        "camera": "cam-1",
        "mqtt": {"url": broker_url},
        "data_dir": str(tmp_path / "data"),
        "source": {"kind": "picamera2", "size": [640, 480]},
        "detector": {"model": str(shipped_model()), "threads": 1, "warmup_runs": 0},
    }
    path.write_text(yaml.safe_dump(config))
    return path


def run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": f"{FAKE}{os.pathsep}{REPO}", **env}
    return subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=120, check=False
    )


def lines(output: str) -> dict[str, str]:
    """'camera:    ok   picamera2, ...' -> {'camera': 'ok   picamera2, ...'}."""
    found = {}
    for line in output.splitlines():
        name, sep, rest = line.partition(":")
        if sep and " " not in name:
            found[name] = rest.strip()
    return found


def test_the_script_passes_on_a_working_node(tmp_path: Path, mosquitto: Mosquitto) -> None:
    config = node_config(tmp_path, mosquitto.url)
    script = REPO / "firmware_config" / "smoke-test.sh"
    done = run(["sh", str(script), str(config)], SHELF_NODE=str(SHELF_NODE), RUNS="3")
    assert done.returncode == 0, done.stdout + done.stderr
    report = lines(done.stdout)
    assert report["camera"].startswith("ok")
    assert "picamera2, frame 640x480" in report["camera"] and "sensor imx708" in report["camera"]
    assert DEFAULT_MODEL_NAME in report["model"] and "input " in report["model"]
    assert report["inference"].startswith("ok") and "over 3 runs" in report["inference"]
    median_ms = float(report["inference"].split("median ")[1].split(" ms")[0])
    assert median_ms > 0
    assert report["broker"].startswith("ok") and f"{mosquitto.url} reachable" in report["broker"]
    assert report["result"] == "PASS"


def test_it_names_each_failure_and_exits_1(tmp_path: Path) -> None:
    """No camera attached and nothing listening on the broker's port."""
    config = node_config(tmp_path, f"mqtt://127.0.0.1:{free_port()}")
    done = run(
        [str(SHELF_NODE), "smoke-test", "--config", str(config), "--timeout", "1"],
        FAKE_PICAMERA2_CAMERAS="0",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    report = lines(done.stdout)
    assert report["camera"].startswith("FAIL") and "no camera found" in report["camera"]
    assert report["model"].startswith("ok")
    assert report["inference"].startswith("FAIL")
    assert report["broker"].startswith("FAIL") and "unreachable" in report["broker"]
    assert report["result"] == "FAIL"


def test_a_broker_that_refuses_the_credentials_fails(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "broker", "allow_anonymous false\n")
    broker.start()
    try:
        done = run(
            [
                str(SHELF_NODE),
                "smoke-test",
                "--config",
                str(node_config(tmp_path, broker.url)),
                "--runs",
                "1",
            ]
        )
    finally:
        broker.stop()
    assert done.returncode == 1, done.stdout + done.stderr
    report = lines(done.stdout)
    assert report["camera"].startswith("ok")
    assert report["broker"].startswith("FAIL") and "refused the connection" in report["broker"]
