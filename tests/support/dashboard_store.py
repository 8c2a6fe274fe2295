"""A live store for the dashboard tests (no tests here): a real Mosquitto, the Gateway
with its advice engine and HTTP server on a free port, and the report story
(`report_store`) arriving as MQTT messages from node-like clients, ending
three hours later than it began: now. Two restocks are open at the end (Acme
Lemonade and Zest Chips in s1). One user per role signs in (`users`)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from edge.contract import Availability, CameraTopics, Health
from gateway.advice import store as advice_store
from gateway.app import Gateway
from gateway.retail import catalogue, pos
from tests.support.auth_support import make_user
from tests.support.gateway_store import MqttClient, settings_for, wait_until
from tests.support.report_store import (
    catalogue_products,
    layouts,
    steady_sales,
    story_messages,
    story_sales,
)
from tests.support.services import Mosquitto, free_port, running_mosquitto

ROLES = {
    "admin": "admin",
    "installer": "installer",
    "staff": "staff:s1",
    "staff-s2": "staff:s2",
    "merchandiser": "merchandiser",
    "brand-acme": "brand:Acme",
    "brand-zest": "brand:Zest",
}
"""User name -> role of the store's users."""


@dataclass(frozen=True)
class Login:
    name: str
    password: str
    token: str


@dataclass
class DashboardStore:
    gateway: Gateway
    node: MqttClient
    base_url: str
    t0: datetime
    users: dict[str, Login]

    def bearer(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.users[user].token}"}

    def open_advice(self, store: str = "s1") -> list[dict[str, Any]]:
        return advice_store.list_advice(self.gateway.db, store=store, status=("open",))

    def all_advice(self, store: str = "s1") -> list[dict[str, Any]]:
        """Every advice of the store, whatever its status."""
        statuses = ("open", "acknowledged", "resolved", "dismissed")
        return advice_store.list_advice(self.gateway.db, store=store, status=statuses)


@contextmanager
def dashboard_store(broker: Mosquitto, data_dir: Path) -> Iterator[DashboardStore]:
    port = free_port()
    settings = settings_for(
        broker.url,
        data_dir,
        http={"host": "127.0.0.1", "port": port},
        advice={"interval_s": 1.0, "debounce_s": 0.1, "restock_grace_min": 0},
    )
    gateway = Gateway(settings)
    gateway.start()
    server = uvicorn.Server(
        uvicorn.Config(
            gateway.app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    node = MqttClient(broker.url, "dashboard-nodes")
    now = datetime.now(UTC)
    t0 = now - timedelta(hours=3)
    try:
        assert gateway.wait_connected(10), "gateway did not connect"
        wait_until(lambda: server.started, 10, "the API server to start")
        for (store, camera), layout in layouts().items():
            gateway.set_layout(store, camera, layout)
        catalogue.store_products(gateway.db, list(enumerate(catalogue_products())), [])
        sales = steady_sales(now) + story_sales(t0)
        pos.store_lines(
            gateway.db, list(enumerate(sales)), [], source="api", on_stored=gateway.sales_stored
        )
        for n, (store, camera) in enumerate(layouts()):
            topics = CameraTopics(store, camera)
            node.publish(
                topics.availability,
                Availability(store=store, camera=camera, state="online"),
                retain=True,
            )
            node.publish(
                topics.health,
                Health(
                    store=store,
                    camera=camera,
                    uptime_s=3 * 3600,
                    frames_processed=5400,
                    inference_ms=42.5 + 9 * n,
                    fps=0.5,
                    cpu_temp_c=58.0 + 6 * n,
                    outbox_pending=n * 3,
                    software="shelfsense 0.6",
                    model="shelf-yolo-int8",
                ),
            )
        for topic, payload in story_messages(t0, ongoing=True):
            node.publish(topic, payload)
        wait_until(
            lambda: (
                len(
                    [
                        a
                        for a in advice_store.list_advice(gateway.db, store="s1")
                        if a["kind"] == "restock"
                    ]
                )
                >= 2
            ),
            30,
            "restock advice for Lemonade and Chips",
        )
        users = {name: Login(*make_user(gateway.db, role, name)) for name, role in ROLES.items()}
        yield DashboardStore(gateway, node, f"http://127.0.0.1:{port}", t0, users)
    finally:
        node.close()
        gateway.live.close()  # end open streams, so the server can stop at once
        server.should_exit = True
        thread.join(10)
        gateway.stop()


@contextmanager
def module_dashboard_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardStore]:
    """A live store on a broker of its own, for a module's browser tests to share: starting
    one takes seconds, and those tests each look at or change their own part of it."""
    with (
        running_mosquitto(tmp_path_factory.mktemp("broker")) as broker,
        dashboard_store(broker, tmp_path_factory.mktemp("data")) as live,
    ):
        yield live
