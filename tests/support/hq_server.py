"""The head office's web app served by a real uvicorn on a free loopback port, over a
real analysed dataset (`tests.support.hq_dataset`), for the page tests that drive it
with Chromium; each test signs in as a new user of the role it needs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import uvicorn

from gateway.hq.web import create_hq_app
from gateway.storage.connection import Database
from tests.support import hq_dataset as data
from tests.support.gateway_store import wait_until
from tests.support.services import free_port


@dataclass
class HqServer:
    url: str
    db: Database


@contextmanager
def served_hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HqServer]:
    """The HQ app over a freshly built dataset, its users in a database of its own."""
    root = data.build(tmp_path_factory.mktemp("hq"))
    db = Database.in_dir(tmp_path_factory.mktemp("hq-users"))
    db.open()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_hq_app(root, db), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, 10, "the HQ web server to start")
        yield HqServer(f"http://127.0.0.1:{port}", db)
    finally:
        server.should_exit = True
        thread.join(10)
        db.close()
