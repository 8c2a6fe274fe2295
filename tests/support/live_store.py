"""A small live store for calibration tests (no tests here): a real Mosquitto, the gateway
serving its API on a free port, and a real camera node on a simulated shelf."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from edge.node import CameraNode
from edge.settings import NodeSettings
from edge.sources.simulator import SimulatorSource
from gateway.app import Gateway
from models.synth import SimulatedShelf
from tests.support.auth_support import bearer, make_user
from tests.support.gateway_store import settings_for, wait_until
from tests.support.services import Mosquitto, free_port

STORE, CAMERA = "store-1", "cam-1"


@dataclass
class LiveStore:
    gateway: Gateway
    node: CameraNode
    shelf: SimulatedShelf
    base_url: str
    login: tuple[str, str, str]
    """An installer's (name, password, API token): calibration is an installer's job."""

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.login[2])

    def get(self, path: str, **kwargs: Any) -> Any:
        response = httpx.get(self.base_url + path, timeout=30, headers=self.headers, **kwargs)
        response.raise_for_status()
        return response.json()

    def http(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.base_url + path, headers=self.headers, **kwargs)


def node_settings(url: str, **changes: Any) -> NodeSettings:
    data: dict[str, Any] = {
        "store": STORE,
        "camera": CAMERA,
        "interval_s": 0.3,
        "health_interval_s": 2,
        "mqtt": {"url": url, "keepalive_s": 5},
        "source": {"kind": "simulator", "seed": 5, "speedup": 60},
        "detector": {"threads": 1, "warmup_runs": 1},
        "snapshots": {"allowed": True},
    }
    data.update(changes)
    return NodeSettings.model_validate(data)


@contextmanager
def live_store(broker: Mosquitto, data_dir: Path, **node_changes: Any) -> Iterator[LiveStore]:
    """Gateway + API server + one simulated camera node, all stopped on exit."""
    port = free_port()
    settings = settings_for(broker.url, data_dir, http={"host": "127.0.0.1", "port": port})
    gateway = Gateway(settings)
    gateway.start()
    server = uvicorn.Server(
        uvicorn.Config(gateway.app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    server_thread = threading.Thread(target=server.run, daemon=True)
    server_thread.start()
    shelf = SimulatedShelf(seed=5, store=STORE, camera=CAMERA, shopper_rate=0)
    node = CameraNode(
        node_settings(broker.url, **node_changes), source=SimulatorSource(shelf, speedup=60)
    )
    stop = threading.Event()
    node_thread = threading.Thread(target=node.run, args=(stop,), daemon=True)
    node_thread.start()
    try:
        assert gateway.wait_connected(10), "gateway did not connect"
        wait_until(lambda: server.started, 10, "the API server to start")
        wait_until(lambda: node.publisher.connected and node.seq > 0, 30, "the node's first frame")
        login = make_user(gateway.db, "installer", name="installer")
        yield LiveStore(gateway, node, shelf, f"http://127.0.0.1:{port}", login)
    finally:
        stop.set()
        node_thread.join(15)
        server.should_exit = True
        server_thread.join(10)
        gateway.stop()
