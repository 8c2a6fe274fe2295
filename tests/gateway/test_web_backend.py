"""The web layer's backend: the running Gateway and a bare database both serve the whole
`ApiBackend` protocol, and routes take it through the `get_backend` dependency."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from edge.layout import with_check_digit
from gateway.app import Gateway
from gateway.config.settings import GatewaySettings
from gateway.retail.pos import SaleLine
from gateway.storage.connection import Database
from gateway.web.app import create_app
from gateway.web.backend import ApiBackend, DatabaseBackend, get_backend
from tests.support.auth_support import admin_client
from tests.support.services import free_port


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path / "data")
    database.open()
    yield database
    database.close()


def test_a_gateway_and_a_bare_database_serve_every_member_of_the_protocol(
    tmp_path: Path, db: Database
) -> None:
    settings = GatewaySettings.model_validate(
        {"mqtt": {"url": f"mqtt://127.0.0.1:{free_port()}"}, "data_dir": str(tmp_path / "gw")}
    )
    gateway = Gateway(settings)  # not started: nothing connects
    assert isinstance(gateway, ApiBackend)
    assert gateway.app.state.backend is gateway
    assert gateway.live is not None and not gateway.broker_connected

    bare = DatabaseBackend(db)
    assert isinstance(bare, ApiBackend)
    assert bare.advice is None and bare.live is None and not bare.broker_connected
    assert bare.settings.pos.timezone == "UTC"
    assert create_app(db).state.backend.db is db


def test_routes_take_the_backend_from_the_dependency(db: Database) -> None:
    class Connected(DatabaseBackend):
        @property
        def broker_connected(self) -> bool:
            return True

    app = create_app(db)
    assert TestClient(app).get("/api/health").json()["status"] == "degraded"
    app.dependency_overrides[get_backend] = lambda: Connected(db)
    health = TestClient(app).get("/api/health").json()
    assert health["status"] == "ok" and health["broker_connected"] is True


def test_sale_lines_the_api_stores_are_handed_to_the_backend(db: Database) -> None:
    class Told(DatabaseBackend):
        def __init__(self, db: Database) -> None:
            super().__init__(db)
            self.batches: list[list[SaleLine]] = []

        def sales_stored(self, lines: Sequence[SaleLine]) -> None:
            self.batches.append(list(lines))

    backend = Told(db)
    api = admin_client(create_app(backend))
    sale = {
        "id": "R1-1",
        "time": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "store": "store-1",
        "sku": with_check_digit("400638133393"),
        "quantity": 2,
        "unit_price": "1.49",
    }
    for _ in range(2):  # the second time it is a duplicate: nothing new to tell
        assert api.post("/api/pos/sales", json={"sales": [sale]}).status_code == 200
    assert [[line.id for line in batch] for batch in backend.batches] == [["R1-1"]]
