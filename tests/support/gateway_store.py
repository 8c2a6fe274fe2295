"""Helpers shared by the gateway tests (no tests here): a paho test client, sample
payloads, and polling that fails with a message instead of hanging."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.contract import (
    Availability,
    CameraTopics,
    EventType,
    Health,
    ShelfEvent,
    ShelfState,
    SlotReading,
    SlotStatus,
)
from edge.layout import Layout, RowSpec, SlotSpec, with_check_digit
from gateway.app import Gateway
from gateway.config.settings import GatewaySettings

T = TypeVar("T")

STORE = "store-1"
CAMERA = "cam-1"
TOPICS = CameraTopics(STORE, CAMERA)


def wait_until(check: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy; fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def settings_for(url: str, data_dir: Path, **changes: Any) -> GatewaySettings:
    """Gateway settings for a test broker; the client id is unique per data_dir."""
    data: dict[str, Any] = {
        "mqtt": {"url": url, "client_id": f"gw-test-{abs(hash(str(data_dir))) % 10**8}"},
        "data_dir": str(data_dir),
    }
    data.update(changes)
    return GatewaySettings.model_validate(data)


@contextmanager
def running_gateway(settings: GatewaySettings) -> Iterator[Gateway]:
    gateway = Gateway(settings)
    gateway.start()
    try:
        assert gateway.wait_connected(10), "gateway did not connect to the broker"
        yield gateway
    finally:
        gateway.stop()


def settle(gateway: Gateway, received: int, timeout: float = 10.0) -> None:
    """Wait until the gateway has received `received` messages and stored or rejected them."""
    wait_until(
        lambda: gateway.counters["received"] >= received,
        timeout,
        f"{received} messages at the gateway (counters {gateway.counters})",
    )
    assert gateway.wait_idle(timeout), f"ingest did not drain: {gateway.counters}"


class MqttClient:
    """A paho client for tests: publishes and waits for the broker's PUBACK; records what
    it receives on its subscriptions."""

    def __init__(
        self,
        url: str,
        client_id: str,
        *,
        will: tuple[str, bytes] | None = None,
        clean_session: bool = True,
    ) -> None:
        host, port = url.removeprefix("mqtt://").split(":")
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean_session
        )
        if will is not None:
            self.client.will_set(will[0], will[1], qos=1, retain=True)
        self.messages: list[mqtt.MQTTMessage] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: self._connected.set()
        self.client.on_message = self._on_message
        self.client.connect(host, int(port), keepalive=5)
        self.client.loop_start()
        assert self._connected.wait(10), f"test client could not connect to {url}"

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(message)

    def publish(
        self, topic: str, payload: bytes | Any, *, qos: int = 1, retain: bool = False
    ) -> None:
        data = payload if isinstance(payload, bytes) else payload.to_json()
        info = self.client.publish(topic, data, qos=qos, retain=retain)
        info.wait_for_publish(10)
        assert info.is_published(), f"broker did not acknowledge {topic}"

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *a: done.set()
        self.client.subscribe(topic, qos=1)
        assert done.wait(10), f"no SUBACK for {topic}"

    def received(self, topic: str) -> list[mqtt.MQTTMessage]:
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def kill(self) -> None:
        """Drop the TCP connection without DISCONNECT, so the broker sends the Last Will."""
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def sample_layout(facings: int = 2) -> Layout:
    return Layout(
        rows=[
            RowSpec(
                index=0,
                y0=0.0,
                y1=0.5,
                slots=[
                    SlotSpec(index=0, x0=0.0, x1=0.5, sku=with_check_digit("400638133393")),
                    SlotSpec(
                        index=1,
                        x0=0.5,
                        x1=1.0,
                        sku=with_check_digit("500011200001"),
                        facings=facings,
                    ),
                ],
            )
        ]
    )


def availability(state: str = "online", store: str = STORE, camera: str = CAMERA) -> Availability:
    return Availability(store=store, camera=camera, state=state)


def shelf_state(
    seq: int = 1,
    statuses: tuple[SlotStatus, SlotStatus] = (SlotStatus.STOCKED, SlotStatus.EMPTY),
    *,
    ts: datetime | None = None,
    store: str = STORE,
    camera: str = CAMERA,
) -> ShelfState:
    layout = sample_layout()
    return ShelfState(
        store=store,
        camera=camera,
        ts=ts or datetime.now(UTC),
        seq=seq,
        layout_version=layout.version,
        score=0.5,
        slots=[
            SlotReading(
                row=0, slot=i, sku=spec.sku, status=status, confidence=0.9, gap_fraction=0.1 * i
            )
            for i, (spec, status) in enumerate(zip(layout.rows[0].slots, statuses, strict=True))
        ],
    )


def shelf_event(
    event_id: str = "evt-00000001",
    *,
    type: EventType = EventType.GAP_OPENED,
    slot: int = 1,
    ago_s: float = 0.0,
) -> ShelfEvent:
    return ShelfEvent(
        store=STORE,
        camera=CAMERA,
        id=event_id,
        ts=datetime.now(UTC) - timedelta(seconds=ago_s),
        type=type,
        row=0,
        slot=slot,
        sku=sample_layout().rows[0].slots[slot].sku,
        previous=SlotStatus.STOCKED,
        status=SlotStatus.EMPTY,
    )


def health() -> Health:
    return Health(
        store=STORE,
        camera=CAMERA,
        uptime_s=12.5,
        frames_processed=340,
        camera_ok=True,
        inference_ms=41.5,
        fps=2.0,
        cpu_temp_c=55.2,
    )
