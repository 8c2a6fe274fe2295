"""Snapshots: only when asked, only with both switches on, people blurred; the answer
carries the camera's layout proposal. Real broker, gateway, API server and node."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.motion import MotionGate
from edge.settings import OcclusionSettings
from edge.snapshot import blur_people
from models.synth import SimulatedShelf
from models.synth.shopper import Shopper
from tests.support.gateway_store import wait_until
from tests.support.live_store import CAMERA, STORE, LiveStore, live_store
from tests.support.services import Mosquitto

pytestmark = pytest.mark.slow
CAM = f"/api/cameras/{STORE}/{CAMERA}"


def take(store: LiveStore) -> dict:
    response = store.http("POST", f"{CAM}/snapshot", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def enable(store: LiveStore, enabled: bool = True) -> None:
    response = store.http("PUT", f"{CAM}/snapshots", json={"enabled": enabled}, timeout=10)
    assert response.json()["snapshots_enabled"] is enabled


def test_a_snapshot_needs_the_gateway_and_the_node_to_allow_it(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    with live_store(mosquitto, tmp_path / "data") as store:
        assert store.http("GET", f"{CAM}/snapshot.jpg").status_code == 404
        refused = take(store)
        assert "not enabled for this camera at the gateway" in refused["error"]
        assert refused["image_url"] is None

        enable(store)
        wait_until(lambda: store.node.snapshots_enabled, 10, "the node to learn it")
        snap = take(store)
        assert snap["error"] is None and (snap["width"], snap["height"]) == (640, 480)
        image = store.http("GET", snap["image_url"])
        assert image.headers["content-type"] == "image/jpeg"
        assert image.headers["cache-control"] == "no-store"
        decoded = cv2.imdecode(np.frombuffer(image.content, np.uint8), cv2.IMREAD_COLOR)
        assert decoded.shape == (480, 640, 3)
        # The proposal carries the products of the layout the node runs.
        assert snap["proposal"]["rows"] and any(
            s["sku"] for r in snap["proposal"]["rows"] for s in r["slots"]
        )
        assert store.get(f"{CAM}/snapshot")["request_id"] == snap["request_id"]
        # The node says in its health whether its own config allows snapshots.
        wait_until(
            lambda: (store.get(CAM)["health"] or {}).get("snapshots_allowed") is True,
            15,
            "health with snapshots_allowed",
        )
        enable(store, False)
        wait_until(lambda: not store.node.snapshots_enabled, 10, "the node to learn it")
        assert "not enabled" in take(store)["error"]


def test_a_node_whose_config_forbids_snapshots_never_sends_one(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    with live_store(mosquitto, tmp_path / "data", snapshots={"allowed": False}) as store:
        enable(store)
        wait_until(lambda: store.node.snapshots_enabled, 10, "the node to learn it")
        refused = take(store)
        assert "this node's config does not allow snapshots" in refused["error"]
        assert store.http("GET", f"{CAM}/snapshot.jpg").status_code == 404


def test_people_in_front_of_the_shelf_are_blurred_and_the_shelf_is_not() -> None:
    shelf = SimulatedShelf(seed=41, shopper_rate=0)
    rows = [(r.y0, r.y1) for r in shelf.layout.rows]
    gate = MotionGate(OcclusionSettings(person_detector="none"))
    gate.update(shelf.render().image, 0.0, rows)
    shopper = Shopper(
        x=0.3, width=0.3, top=0.1, shirt=(200, 60, 40), skin=(80, 110, 160), hair=(10, 10, 10)
    )
    shelf.plant_shopper(shopper, stay_s=60)
    frame = shelf.render()
    motion = gate.update(frame.image, 10.0, rows)
    blurred, regions = blur_people(frame.image, motion, None)
    assert regions >= 1
    # Where the shopper is in the picture: drawn alone, seen through the same camera.
    person = shelf.camera_look.pose.warp(shopper.draw(np.zeros_like(frame.image))) > 0

    def detail(image: np.ndarray) -> np.ndarray:
        return np.abs(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_32F))

    # No edge of the person survives (their outline, face, hair, the sensor's grain) ...
    assert detail(blurred)[person].mean() < 0.2 * detail(frame.image)[person].mean()
    diff = np.abs(blurred.astype(int) - frame.image.astype(int)).max(axis=2)
    far = cv2.dilate(person.astype(np.uint8), np.ones((61, 61), np.uint8)) == 0
    assert (diff[far] == 0).mean() > 0.99  # the shelf away from them is untouched
