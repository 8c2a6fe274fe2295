"""Live state never lies, in a real Chromium against a real `shelf-gateway run` process:
a camera that stops reporting shows "stale" (not "online"); when the gateway stops,
every open page says so at once (a banner with the time of the last data, counting up),
cameras show as unknown and action buttons are disabled; when it is back, the pages
reconnect by themselves. Screenshots go to artifacts/ for people to look at."""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.contract import Availability, CameraTopics, Health, ShelfState, SlotReading, SlotStatus
from tests.support.browser import ARTIFACTS, DESKTOP
from tests.support.faults import BIN, GatewayProcess
from tests.support.gateway_store import MqttClient, sample_layout, wait_until
from tests.support.services import Mosquitto

pytestmark = pytest.mark.slow
STORE = "store-1"
PASSWORD = "field-test-pass-1"


class FakeCamera:
    """A node on the broker: availability, health (1 frame/s) and a state each second
    until `stop` (then it stays `online` on the retained topic, but silent)."""

    def __init__(self, url: str, camera: str) -> None:
        self.camera = camera
        self.topics = CameraTopics(STORE, camera)
        self.client = MqttClient(url, f"fake-{camera}")
        self.client.publish(
            self.topics.availability,
            Availability(store=STORE, camera=camera, state="online"),
            retain=True,
        )
        self._stop = threading.Event()
        self._seq = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> FakeCamera:
        self._thread.start()
        return self

    def publish_once(self) -> None:
        self._seq += 1
        layout = sample_layout()
        slots = [
            SlotReading(row=0, slot=s.index, sku=s.sku, status=SlotStatus.STOCKED)
            for s in layout.rows[0].slots
        ]
        state = ShelfState(
            store=STORE,
            camera=self.camera,
            ts=datetime.now(UTC),
            seq=self._seq,
            slots=slots,
            layout_version=layout.version,
        )
        self.client.publish(self.topics.state, state, retain=True)
        health = Health(
            store=STORE, camera=self.camera, uptime_s=self._seq, frames_processed=self._seq, fps=1.0
        )
        self.client.publish(self.topics.health, health)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            with contextlib.suppress(AssertionError, OSError):  # the next second tries again
                self.publish_once()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.client.close()


@dataclass
class Field:
    gateway: GatewayProcess
    cameras: list[FakeCamera]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.port}"


def add_user(config: Path, name: str, role: str) -> None:
    done = subprocess.run(
        [
            *(str(BIN / "shelf-gateway"), "users", "add", name, "--role", role),
            *("--password", PASSWORD, "--config", str(config)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def field(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Field]:
    gateway = GatewayProcess(tmp_path / "gw", mosquitto.url)
    add_user(gateway.config, "staff-1", f"staff:{STORE}")
    add_user(gateway.config, "admin-1", "admin")
    gateway.start()
    cameras: list[FakeCamera] = []
    try:
        gateway.wait_ready()
        live = FakeCamera(mosquitto.url, "cam-1")
        silent = FakeCamera(mosquitto.url, "cam-2")
        cameras = [live, silent]
        silent.publish_once()  # one state, then nothing: it goes stale
        live.start()
        body = sample_layout().model_dump(mode="json")
        for cam in cameras:
            wait_until(lambda c=cam: gateway.camera(c.camera), 10, f"{cam.camera} known")
            httpx.put(
                f"http://127.0.0.1:{gateway.port}/api/layouts/{STORE}/{cam.camera}",
                json=body,
                params={"create": "true"},
                headers=gateway.headers,
                timeout=10,
            ).raise_for_status()
        yield Field(gateway, cameras)
    finally:
        for cam in cameras:
            cam.stop()
        gateway.cleanup()


def signed_in(browser: Any, field: Field, name: str, path: str) -> Any:
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.goto(field.base_url + path)
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    return page


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def badge(page: Any, camera: str) -> str:
    return page.locator(f"[data-camera='{camera}'] [data-camera-status]").inner_text().strip()


def banner_seconds(page: Any) -> int:
    text = page.locator("#connection-banner").inner_text()
    found = re.search(r"updated (\d+) ?(?:s|sec) ago", text)
    assert found, text
    return int(found.group(1))


def test_a_silent_camera_is_stale_and_a_stopped_gateway_is_said_at_once(
    browser: Any, field: Field
) -> None:
    store = signed_in(browser, field, "staff-1", "/store")
    calibrate = signed_in(browser, field, "admin-1", f"/calibrate?store={STORE}&camera=cam-1")
    devices = signed_in(browser, field, "admin-1", "/devices")

    # The silent camera's retained availability still says online: its state is old.
    store.wait_for_function(
        "document.querySelector(\"[data-camera='cam-2'] [data-camera-status]\")"
        ".dataset.cameraStatus === 'stale'",
        timeout=30_000,
    )
    assert badge(store, "cam-1") == "online"
    assert badge(store, "cam-2") == "stale"
    assert store.locator("#cams-online").inner_text() == "1 / 2"
    assert "stale" in store.locator("#cams-hint").inner_text()
    assert not store.locator("#connection-banner").is_visible()
    screenshot(store, "ui-live-stale-camera.png")

    field.gateway.stop()
    for page in (store, calibrate, devices):
        page.wait_for_selector("#connection-banner", state="visible", timeout=10_000)
        assert "cannot reach the gateway" in page.locator("#connection-banner").inner_text()
    # The cameras' state is unknown while the gateway cannot be asked.
    assert badge(store, "cam-1") == "unknown"
    assert store.locator("#cams-online").inner_text() == "? / 2"
    # Actions wait for the connection.
    assert calibrate.locator("#save").is_disabled()
    assert calibrate.locator("#snapshot").is_disabled()
    first = banner_seconds(store)
    store.wait_for_timeout(3_000)
    assert banner_seconds(store) >= first + 2, "the age of the last data counts up"
    screenshot(store, "ui-live-gateway-lost-store.png")
    screenshot(calibrate, "ui-live-gateway-lost-calibrate.png")

    field.gateway.start()
    field.gateway.wait_ready()
    for page in (store, calibrate, devices):
        page.wait_for_selector("#connection-banner", state="hidden", timeout=30_000)
    store.wait_for_function(
        "document.querySelector(\"[data-camera='cam-1'] [data-camera-status]\")"
        ".dataset.cameraStatus === 'online'",
        timeout=15_000,
    )
    assert calibrate.locator("#save").is_enabled()
    assert store.locator("#cams-online").inner_text() == "1 / 2"
    screenshot(store, "ui-live-gateway-back-store.png")
