"""The whole path, as users run it: camera node process -> broker -> gateway -> API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.app import Gateway
from gateway.config.settings import GatewaySettings
from models.synth import SimulatedShelf
from tests.support.auth_support import admin_client
from tests.support.services import Mosquitto, free_port

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except (httpx.HTTPError, KeyError, IndexError, TypeError) as error:
            last = error
        else:
            if result:
                return result
            last = result
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def age_s(iso: str) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(iso)).total_seconds()


def test_headless_demo_serves_three_live_cameras(tmp_path: Path) -> None:
    """The foundation issue's own check, with the embedded broker."""
    port = free_port()
    users_file = tmp_path / "users.json"
    demo = subprocess.Popen(
        [
            *(str(BIN / "shelf-gateway"), "demo", "--cameras", "3", "--port", str(port)),
            *("--users-file", str(users_file)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        logins = wait_until(lambda: users_file.exists() and users_file.read_text(), 90, "users")
        admin = next(u for u in json.loads(logins) if u["role"] == "admin")
        headers = {"Authorization": f"Bearer {admin['token']}"}

        def three_live_cameras() -> list[dict[str, Any]] | None:
            cameras = httpx.get(
                f"http://127.0.0.1:{port}/api/cameras", headers=headers, timeout=5
            ).json()
            live = [
                c
                for c in cameras
                if c["online"]
                and c["state"]
                and c["state"]["slots"]
                and age_s(c["state"]["updated_at"]) < 15
                and all(s["status"] for s in c["state"]["slots"])
            ]
            return cameras if len(live) == 3 else None

        cameras = wait_until(three_live_cameras, 90, "3 online cameras with fresh slot states")
        assert {c["camera"] for c in cameras} == {"cam-1", "cam-2", "cam-3"}
        health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).json()
        assert health["counters"]["stored"] > 0
    finally:
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, output
    assert f"http://127.0.0.1:{port}" in output
    # The demo makes its users before the gateway starts, and nothing fails on the way.
    assert "no users yet" not in output, output
    assert "Traceback" not in output, output


def write_node_config(path: Path, broker: Mosquitto, shelf_seed: int, keepalive_s: int = 2) -> Path:
    config = {
        "store": "store-1",
        "camera": "cam-1",
        "interval_s": 0.5,
        "health_interval_s": 2,
        "mqtt": {"url": broker.url, "keepalive_s": keepalive_s},
        "source": {"kind": "simulator", "seed": shelf_seed, "speedup": 1200},
        "detector": {"threads": 1},
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_node_process_to_gateway_api_then_last_will(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """A real `shelf-node` feeds the gateway over Mosquitto; SIGKILL shows it offline."""
    settings = GatewaySettings.model_validate(
        {"mqtt": {"url": mosquitto.url}, "data_dir": str(tmp_path / "data")}
    )
    shelf = SimulatedShelf(seed=7, store="store-1", camera="cam-1")
    with Gateway(settings) as gateway:
        version = gateway.set_layout("store-1", "cam-1", shelf.layout)
        api = admin_client(gateway.app)
        config = write_node_config(tmp_path / "node.yaml", mosquitto, shelf_seed=7)
        node = subprocess.Popen(
            [str(BIN / "shelf-node"), "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:

            def camera_runs_layout() -> dict[str, Any] | None:
                camera = api.get("/api/cameras/store-1/cam-1").json()
                state = camera["state"]
                ok = camera["online"] and state and state["layout_version"] == version
                return camera if ok and state["slots"] else None

            camera = wait_until(camera_runs_layout, 60, "the node to run the gateway's layout")
            expected = sum(len(row.slots) for row in shelf.layout.rows)
            assert len(camera["state"]["slots"]) == expected
            wait_until(lambda: api.get("/api/cameras/store-1/cam-1").json()["health"], 30, "health")
        finally:
            node.send_signal(signal.SIGKILL)
            node.wait(timeout=10)
        wait_until(
            lambda: not api.get("/api/cameras/store-1/cam-1").json()["online"],
            20,
            "the Last Will to mark the killed node offline",
        )
        assert node.returncode == -signal.SIGKILL, node.stdout.read() if node.stdout else ""


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_clean_node_stop_publishes_offline(mosquitto: Mosquitto, tmp_path: Path) -> None:
    settings = GatewaySettings.model_validate(
        {"mqtt": {"url": mosquitto.url}, "data_dir": str(tmp_path / "data")}
    )
    with Gateway(settings) as gateway:
        api = admin_client(gateway.app)
        # A long keepalive: only a clean `offline` can arrive within the 5 s below.
        config = write_node_config(tmp_path / "node.yaml", mosquitto, shelf_seed=3, keepalive_s=30)
        node = subprocess.Popen([str(BIN / "shelf-node"), "--config", str(config)])
        wait_until(
            lambda: api.get("/api/cameras/store-1/cam-1").json()["online"], 60, "node online"
        )
        node.send_signal(signal.SIGTERM)
        assert node.wait(timeout=20) == 0
        wait_until(
            lambda: not api.get("/api/cameras/store-1/cam-1").json()["online"],
            5,
            "offline after a clean stop (well before any keepalive could expire)",
        )
