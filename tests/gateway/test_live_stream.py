"""`GET /api/stream` end to end: a real Mosquitto, the Gateway and its HTTP server; a
server-sent-events client sees slot changes as the camera reports them and advice as
it is created and acknowledged, without asking again."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.contract import CameraTopics, ShelfState, SlotReading, SlotStatus
from tests.support.dashboard_store import DashboardStore, dashboard_store
from tests.support.gateway_store import wait_until
from tests.support.report_store import (
    CHIPS,
    COLA,
    DIP,
    LEMONADE,
    WATER,
    store_1_layout,
    store_2_layout,
)
from tests.support.services import Mosquitto

pytestmark = pytest.mark.slow


class EventStreamReader:
    """Reads a server-sent-event stream over a plain socket in a thread; keeps (event,
    data) pairs. A socket (not an HTTP library) so `close` really hangs up at once,
    as a browser tab does when it is closed."""

    def __init__(self, base_url: str, path: str, headers: dict[str, str] | None = None) -> None:
        self.events: list[tuple[str, Any]] = []
        self.comments = 0
        host, port = base_url.removeprefix("http://").split(":")
        self._sock = socket.create_connection((host, int(port)), timeout=10)
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._file = self._sock.makefile("rb")
        self.status = int(self._file.readline().split()[1])
        self.headers: dict[str, str] = {}
        while (line := self._file.readline().decode().strip()) != "":
            key, _, value = line.partition(":")
            self.headers[key.lower()] = value.strip()
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event = "message"
        try:
            for raw in self._file:
                line = raw.decode().rstrip("\r\n")
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    self.events.append((event, json.loads(line.removeprefix("data: "))))
                    event = "message"
        except (OSError, ValueError):
            pass  # closed by close()

    def of(self, kind: str) -> list[Any]:
        return [data for event, data in list(self.events) if event == kind]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(5)


@pytest.fixture
def store(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[DashboardStore]:
    with dashboard_store(mosquitto, tmp_path / "data") as live:
        yield live


def restock_of(store: DashboardStore, sku: str) -> dict[str, Any]:
    return next(a for a in store.open_advice() if a["sku"] == sku and a["kind"] == "restock")


def test_the_stream_carries_slot_changes_and_advice_as_they_happen(store: DashboardStore) -> None:
    reader = EventStreamReader(store.base_url, "/api/stream", store.bearer("admin"))
    try:
        assert reader.status == 200
        assert reader.headers["content-type"].startswith("text/event-stream")
        wait_until(lambda: reader.comments >= 1, 10, "the stream's opening comment")
        # The camera sees the Lemonade restocked (the Chips still empty): the slot change
        # arrives on the stream.
        layout = store_1_layout()
        readings = [
            SlotReading(
                row=r.index,
                slot=s.index,
                sku=s.sku,
                status=SlotStatus.EMPTY if s.sku == CHIPS.gtin else SlotStatus.STOCKED,
            )
            for r, s, _ in layout.slot_boxes()
        ]
        state = ShelfState(
            store="s1",
            camera="c1",
            ts=datetime.now(UTC),
            seq=99,
            slots=readings,
            layout_version=layout.version,
        )
        store.node.publish(CameraTopics("s1", "c1").state, state)
        update = wait_until(
            lambda: next(
                (
                    u
                    for u in reader.of("slots")
                    if any(s["sku"] == LEMONADE.gtin for s in u["slots"])
                ),
                None,
            ),
            15,
            "the Lemonade's slot change on the stream",
        )
        lemonade = next(s for s in update["slots"] if s["sku"] == LEMONADE.gtin)
        assert (lemonade["status"], lemonade["brand"], lemonade["name"]) == (
            "stocked",
            "Acme",
            LEMONADE.name,
        )
        # ... and the engine resolves the Lemonade restock it verified: that comes too.
        wait_until(
            lambda: any(
                a["sku"] == LEMONADE.gtin and a["status"] == "resolved" for a in reader.of("advice")
            ),
            20,
            "the resolved restock on the stream",
        )
        # Staff acknowledge the Chips restock through the API: the stream says so.
        chips = restock_of(store, CHIPS.gtin)
        answer = httpx.post(
            f"{store.base_url}/api/advice/{chips['id']}/acknowledge",
            headers=store.bearer("staff"),
            timeout=10,
        )
        assert answer.status_code == 200
        wait_until(
            lambda: any(
                a["id"] == chips["id"] and a["status"] == "acknowledged"
                for a in reader.of("advice")
            ),
            10,
            "the acknowledged advice on the stream",
        )
    finally:
        reader.close()
    # The server notices the client went away and drops its subscription.
    wait_until(lambda: store.gateway.live.subscribers == 0, 10, "the subscription to end")


def test_each_stream_carries_only_what_its_user_may_see(store: DashboardStore) -> None:
    for headers, status in ((None, 401), (store.bearer("installer"), 403)):
        denied = EventStreamReader(store.base_url, "/api/stream", headers)
        denied.close()
        assert denied.status == status
    readers = {
        user: EventStreamReader(store.base_url, "/api/stream", store.bearer(user))
        for user in ("staff", "staff-s2", "brand-acme", "brand-zest")
    }
    try:
        for reader in readers.values():
            wait_until(lambda r=reader: r.comments >= 1, 10, "the stream to open")
        # Store s1: Acme Cola and Zest Water go low at once (Lemonade, Chips still empty).
        layout = store_1_layout()
        status = {COLA.gtin: SlotStatus.LOW, WATER.gtin: SlotStatus.LOW}
        status |= {LEMONADE.gtin: SlotStatus.EMPTY, CHIPS.gtin: SlotStatus.EMPTY}
        readings = [
            SlotReading(
                row=r.index, slot=s.index, sku=s.sku, status=status.get(s.sku, SlotStatus.STOCKED)
            )
            for r, s, _ in layout.slot_boxes()
        ]
        store.node.publish(
            CameraTopics("s1", "c1").state,
            ShelfState(
                store="s1",
                camera="c1",
                ts=datetime.now(UTC),
                seq=77,
                slots=readings,
                layout_version=layout.version,
            ),
        )

        def skus(user: str) -> set[str]:
            return {s["sku"] for u in readers[user].of("slots") for s in u["slots"]}

        wait_until(lambda: COLA.gtin in skus("brand-acme"), 15, "Acme's slot change")
        wait_until(lambda: WATER.gtin in skus("brand-zest"), 15, "Zest's slot change")
        wait_until(lambda: {COLA.gtin, WATER.gtin} <= skus("staff"), 15, "s1's slot changes")
        # Staff of s2 hear of their own store only: a change in s2 comes, s1's did not.
        two = store_2_layout()
        store.node.publish(
            CameraTopics("s2", "c2").state,
            ShelfState(
                store="s2",
                camera="c2",
                ts=datetime.now(UTC),
                seq=78,
                layout_version=two.version,
                slots=[SlotReading(row=0, slot=0, sku=COLA.gtin, status=SlotStatus.EMPTY)],
            ),
        )
        wait_until(lambda: readers["staff-s2"].of("slots"), 15, "s2's slot change")
        assert {u["store"] for u in readers["staff-s2"].of("slots")} == {"s2"}
        assert {u["store"] for u in readers["staff"].of("slots")} == {"s1"}
        brand_acme = json.dumps(readers["brand-acme"].events)
        for other in (CHIPS, DIP, WATER):
            assert other.gtin not in brand_acme and other.name not in brand_acme
        assert "Zest" not in brand_acme
        assert all("score" not in u for u in readers["brand-acme"].of("slots"))
        # Zest's advice acknowledged: Zest hears of it, Acme does not.
        chips = restock_of(store, CHIPS.gtin)
        httpx.post(
            f"{store.base_url}/api/advice/{chips['id']}/acknowledge",
            headers=store.bearer("staff"),
            timeout=10,
        ).raise_for_status()
        wait_until(
            lambda: any(a["id"] == chips["id"] for a in readers["brand-zest"].of("advice")),
            10,
            "Zest's advice on its stream",
        )
        assert not any(a["sku"] == CHIPS.gtin for a in readers["brand-acme"].of("advice"))
        assert {a["store"] for a in readers["staff-s2"].of("advice")} <= {"s2"}
        assert {a["store"] for a in readers["staff"].of("advice")} == {"s1"}
    finally:
        for reader in readers.values():
            reader.close()
