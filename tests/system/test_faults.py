"""Faults with real processes and a real Mosquitto: nothing a camera detects is lost.

Every test compares the event ids the nodes logged (each logged once it is in the node's
outbox) with the ids in the gateway's SQLite store: each must be there, exactly once.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.settings import SimulatorConfig
from tests.support.edge_nodes import constant_model, yolo_output
from tests.support.faults import GatewayProcess, Node, Program, simulated_node
from tests.support.gateway_store import wait_until
from tests.support.services import Mosquitto, TcpProxy


@pytest.fixture
def programs() -> Iterator[list[Program]]:
    """Every process a test starts; killed at the end whatever happened."""
    started: list[Program] = []
    yield started
    for program in started:
        program.cleanup()


def assert_exactly_once(
    nodes: list[Node], gateway: GatewayProcess, timeout: float = 60, unlogged_at_most: int = 0
) -> None:
    """Each node's logged events are all stored, once each, and nothing else is.

    A node logs an event right after committing it to its outbox: one SIGKILLed between
    the two sends (and the gateway stores) events it never logged. `unlogged_at_most`
    allows that many for nodes that were killed."""

    def missing() -> dict[str, int]:
        stored = gateway.stored_events()
        return {
            n.camera: len(set(n.logged_events()) - set(stored.get(n.camera, [])))
            for n in nodes
            if set(n.logged_events()) - set(stored.get(n.camera, []))
        }

    try:
        wait_until(lambda: not missing(), timeout, "every logged event in the store")
    except AssertionError:
        raise AssertionError(f"events missing per camera: {missing()}") from None
    stored = gateway.stored_events()
    for node in nodes:
        logged = node.logged_events()
        assert len(logged) == len(set(logged)), f"{node.camera}: an event id logged twice"
        ids = stored.get(node.camera, [])
        assert len(ids) == len(set(ids))  # the primary key; stated for the reader
        unlogged = set(ids) - set(logged)
        assert len(unlogged) <= unlogged_at_most, f"{node.camera}: stored events nobody logged"


@pytest.mark.slow
def test_broker_down_for_60s_while_five_nodes_detect(
    mosquitto: Mosquitto, tmp_path: Path, programs: list[Program]
) -> None:
    gateway = GatewayProcess(tmp_path / "gateway", mosquitto.url)
    nodes = [
        simulated_node(tmp_path / f"cam-{i}", mosquitto.url, f"cam-{i}", seed=i)
        for i in range(1, 6)
    ]
    programs += [gateway, *nodes]
    gateway.start()
    gateway.wait_ready()
    for node in nodes:
        node.start()
    wait_until(lambda: len(gateway.stored_events()) == 5, 90, "stored events from all five cameras")

    mosquitto.stop()
    outage_started = time.monotonic()
    time.sleep(60)
    waiting = {n.camera: n.outbox_pending() for n in nodes}
    queued_events = sum(len(n.outbox_events()) for n in nodes)
    assert all(running.running for running in programs), "a process died during the outage"
    assert all(count > 0 for count in waiting.values()), waiting
    assert queued_events >= 25, f"only {queued_events} events made during the outage"
    mosquitto.start()  # same port and persistence: the gateway's session is back too
    assert time.monotonic() - outage_started >= 60

    wait_until(lambda: all(n.outbox_pending() < 10 for n in nodes), 60, "the outboxes drained")
    for node in nodes:
        assert node.stop() == 0, node.output()[-3000:]
        assert node.outbox_pending() == 0, f"{node.camera} stopped with messages left"
    assert_exactly_once(nodes, gateway)
    counters = gateway.health()["counters"]
    assert counters["dead_letters"] == 0


def test_node_killed_mid_burst_and_during_a_network_cut_loses_nothing(
    mosquitto: Mosquitto, tmp_path: Path, programs: list[Program]
) -> None:
    proxy = TcpProxy(mosquitto.port)
    gateway = GatewayProcess(tmp_path / "gateway", mosquitto.url)
    node = simulated_node(tmp_path / "cam-1", proxy.url, "cam-1", seed=11)
    programs += [gateway, node]
    try:
        gateway.start()
        gateway.wait_ready()
        node.start()
        # 1: SIGKILL while it detects and publishes several events a second.
        wait_until(lambda: len(node.logged_events()) >= 10, 60, "ten events")
        node.kill()
        node.start()
        # 2: the link goes dead (no reset), a burst waits, and the node is killed.
        wait_until(lambda: len(node.logged_events()) >= 20, 60, "more events")
        proxy.cut()
        wait_until(lambda: len(node.outbox_events()) >= 10, 60, "ten events stuck in the outbox")
        node.kill()
        stuck = node.outbox_events()
        proxy.restore()
        node.start()
        wait_until(lambda: node.outbox_pending() < 5, 60, "the outbox sent after the restart")
        assert node.stop() == 0, node.output()[-3000:]
        stored = gateway.stored_events()["cam-1"]
        assert set(stuck) <= set(stored), "events left in the killed node's outbox were lost"
        # Two kills: at most one frame's events each (a frame has one per slot at most).
        slots = (
            SimulatorConfig(kind="simulator").rows * SimulatorConfig(kind="simulator").slots_per_row
        )
        assert_exactly_once([node], gateway, unlogged_at_most=2 * slots)
        assert "message(s) from before the restart will be sent first" in node.output()
    finally:
        proxy.close()


def test_gateway_killed_with_unstored_messages_loses_nothing(
    mosquitto: Mosquitto, tmp_path: Path, programs: list[Program]
) -> None:
    gateway = GatewayProcess(tmp_path / "gateway", mosquitto.url)
    node = simulated_node(tmp_path / "cam-1", mosquitto.url, "cam-1", seed=21)
    programs += [gateway, node]
    gateway.start()
    gateway.wait_ready()
    node.start()
    wait_until(lambda: gateway.stored_events().get("cam-1"), 60, "the first stored events")

    # Hold SQLite's write lock: the gateway keeps receiving, but cannot commit.
    blocker = sqlite3.connect(gateway.db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        start = gateway.health()["counters"]
        logged_before = len(node.logged_events())

        def unstored() -> int:
            now = gateway.health()["counters"]
            return now["received"] - start["received"]

        wait_until(lambda: unstored() >= 10, 8, "ten messages received and not stored")
        gateway.kill()  # with those messages in its memory only
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    gateway.start()
    gateway.wait_ready()
    wait_until(lambda: len(node.logged_events()) >= logged_before + 10, 30, "more events")
    assert node.stop() == 0, node.output()[-3000:]
    assert_exactly_once([node], gateway)
    assert "session resumed" in gateway.output()


def write_frames(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        cv2.imwrite(str(folder / f"frame-{i}.png"), np.full((120, 160, 3), 40 * i, np.uint8))


def test_corrupt_frames_and_an_unplugged_camera_show_in_health(
    mosquitto: Mosquitto, tmp_path: Path, programs: list[Program]
) -> None:
    gateway = GatewayProcess(tmp_path / "gateway", mosquitto.url)
    folder = tmp_path / "cam-1" / "frames"
    write_frames(folder)
    (folder / "frame-1b.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    model = constant_model(tmp_path / "m.onnx", yolo_output([(5, 5, 2, 2)], [[0.0, 0.0]]))
    node = Node(
        tmp_path / "cam-1",
        {
            "store": "store-1",
            "camera": "cam-1",
            "interval_s": 0.2,
            "health_interval_s": 0.5,
            "mqtt": {"url": mosquitto.url, "keepalive_s": 2},
            "source": {"kind": "folder", "path": "frames"},
            "detector": {"model": str(model), "threads": 1, "warmup_runs": 0},
        },
    )
    programs += [gateway, node]
    gateway.start()
    gateway.wait_ready()
    node.start()

    def health() -> dict | None:
        camera = gateway.camera("cam-1")
        return camera["health"] if camera and camera["online"] else None

    corrupt = wait_until(
        lambda: (h := health()) and h["frames_failed"] >= 2 and h, 60, "failed frames in health"
    )
    assert corrupt["camera_ok"] and "frame-1b.png" in corrupt["last_error"]
    assert corrupt["frames_processed"] > corrupt["frames_failed"]

    shutil.rmtree(folder)  # the camera is unplugged
    gone = wait_until(lambda: (h := health()) and not h["camera_ok"] and h, 30, "camera lost")
    assert "does not exist" in gone["last_error"]
    time.sleep(1.5)
    assert node.running and gateway.camera("cam-1")["online"]

    write_frames(folder)  # and plugged in again
    wait_until(
        lambda: (
            (h := health()) and h["camera_ok"] and h["frames_processed"] > gone["frames_processed"]
        ),
        60,
        "the camera back in health",
    )
    assert node.stop() == 0
    assert "Traceback" not in node.output()
