"""Real `shelf-node` and `shelf-gateway` processes for the fault tests (no tests here).

Each process writes its log to a file in the test's folder, so a failing test can show
it and nothing blocks on a full pipe. A node logs every event id once the event is in its
outbox (`... event <id>`): that is the list of what must reach the gateway's store.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.gateway_store import wait_until
from tests.support.services import free_port

BIN = Path(sys.executable).parent
EVENT_LOGGED = re.compile(r"\bevent ([0-9a-f]{32})\b")


class Program:
    """One `shelf-node` or `shelf-gateway` process, restartable with the same config."""

    def __init__(self, command: str, config: Path) -> None:
        self.command = command
        self.config = config
        self.log = config.with_suffix(".log")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / self.command), "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=os.environ | {"PYTHONUNBUFFERED": "1"},
            )

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as with a power cut of the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"{self.command} did not stop on SIGTERM:\n{self.output()}"
            ) from None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def cleanup(self) -> None:
        if self.running:
            assert self.process is not None
            self.process.kill()
            self.process.wait()


class Node(Program):
    """A camera node process: its logged event ids and its outbox file."""

    def __init__(self, folder: Path, config: dict[str, Any]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "node.yaml"
        path.write_text(yaml.safe_dump(config))
        super().__init__("shelf-node", path)
        self.camera = config["camera"]
        self.outbox = folder / "data" / f"outbox-{config['store']}-{config['camera']}.db"

    def logged_events(self) -> list[str]:
        return EVENT_LOGGED.findall(self.output())

    def outbox_events(self) -> list[str]:
        """Event ids waiting in the outbox file (read beside the node, or after it died)."""
        if not self.outbox.exists():
            return []
        with sqlite3.connect(f"file:{self.outbox}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT payload FROM outbox WHERE kind = 'event'").fetchall()
        return [re.search(rb'"id":"([0-9a-f]+)"', r[0]).group(1).decode() for r in rows]

    def outbox_pending(self) -> int:
        if not self.outbox.exists():
            return 0
        with sqlite3.connect(f"file:{self.outbox}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT count(*) FROM outbox").fetchone()[0]


def simulated_node(folder: Path, broker_url: str, camera: str, seed: int) -> Node:
    """A node on a fast simulated shelf: sales and restocks make a few events a second."""
    return Node(
        folder,
        {
            "store": "store-1",
            "camera": camera,
            "interval_s": 0.3,
            "health_interval_s": 1,
            "mqtt": {
                "url": broker_url,
                "keepalive_s": 2,
                "reconnect_min_s": 0.2,
                "reconnect_max_s": 1,
            },
            "source": {"kind": "simulator", "seed": seed, "speedup": 3000, "size": [320, 240]},
            "detector": {"threads": 1, "warmup_runs": 0},
            "analysis": {"confirm_frames": 1},
        },
    )


def cli_user(config: Path, name: str, role: str) -> str:
    """Create a user with `shelf-gateway users add` (the bootstrap a person follows);
    returns the API token it prints."""
    done = subprocess.run(
        [str(BIN / "shelf-gateway"), "users", "add", name, "--role", role, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    token = re.search(r"^API token (\S+)$", done.stdout, re.MULTILINE)
    assert token, done.stdout
    return token.group(1)


class GatewayProcess(Program):
    """`shelf-gateway run` with its own data folder and HTTP port."""

    def __init__(self, folder: Path, broker_url: str, client_id: str = "gw-faults") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.db = folder / "data" / "shelfsense.db"
        path = folder / "gateway.yaml"
        path.write_text(
            yaml.safe_dump(
                {
                    "mqtt": {"url": broker_url, "client_id": client_id, "keepalive_s": 2},
                    "data_dir": "data",
                    "http": {"host": "127.0.0.1", "port": self.port},
                }
            )
        )
        super().__init__("shelf-gateway", path)
        self.headers = {"Authorization": f"Bearer {cli_user(path, 'faults-admin', 'admin')}"}

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(
            f"http://127.0.0.1:{self.port}{path}", params=params, headers=self.headers, timeout=5
        )
        response.raise_for_status()
        return response.json()

    def health(self) -> dict[str, Any] | None:
        try:
            return self.api("/api/health")
        except httpx.HTTPError:
            return None

    def wait_ready(self, timeout: float = 30) -> None:
        wait_until(
            lambda: (h := self.health()) is not None and h["broker_connected"],
            timeout,
            f"the gateway's API and broker connection\n{self.output()[-3000:]}",
        )

    def stored_events(self) -> dict[str, list[str]]:
        """Stored event ids per camera, read from the database file."""
        if not self.db.exists():
            return {}
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10) as conn:
            rows = conn.execute("SELECT camera, id FROM events").fetchall()
        stored: dict[str, list[str]] = {}
        for camera, event_id in rows:
            stored.setdefault(camera, []).append(event_id)
        return stored

    def camera(self, camera: str) -> dict[str, Any] | None:
        try:
            return self.api(f"/api/cameras/store-1/{camera}")
        except httpx.HTTPError:
            return None
