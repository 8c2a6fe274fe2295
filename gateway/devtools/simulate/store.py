"""Running the simulated store for `shelf-gateway simulate`, in simulated time.

Every frame: planted hidden stock-outs, wrong products and messy slots start
(`cases`), every shelf
steps `--interval` seconds, every camera takes its frame (a real `CameraNode` over a
`SimulatorSource` that only renders: the loop steps time), their MQTT payloads go to
the gateway's `Ingest`, the till posts the shelves' sales as POS lines, the advice
engine evaluates when the gateway's advice thread would (`AdviceCadence`), and the
simulated staff act on the advice (`staff`). What each camera saw,
and the truth beside it, is kept in a `CameraRun` for `run` to score.
The run without advice steps the same shelves without cameras: only lost sales count.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
"""Simulated time zero (a Monday morning; the first frame is one interval later); fixed,
so runs repeat exactly."""
STORE = "sim"
SlotKey = tuple[int, ...]
"""(row, slot) of one camera."""


@dataclass
class CameraRun:
    """What one simulated camera saw and said, frame by frame."""

    camera: str
    times: list[datetime] = field(default_factory=list)
    truth: list[dict[SlotKey, str]] = field(default_factory=list)
    hidden: list[set[SlotKey]] = field(default_factory=list)  # by a shopper
    short: list[set[SlotKey]] = field(default_factory=list)  # fewer units than facings in front
    out_of_reach: list[set[SlotKey]] = field(default_factory=list)  # hidden stock-outs
    misplaced: list[set[SlotKey]] = field(default_factory=list)  # another product, not empty
    node_scores: list[float | None] = field(default_factory=list)
    detector_ms: list[float] = field(default_factory=list)
    stage_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class SimCamera:
    """One simulated camera: its shelf, the node watching it, and what it saw."""

    shelf: Any
    node: Any
    topics: Any
    run: CameraRun


@contextmanager
def gateway_store(data_dir: Path | None) -> Iterator[tuple[Any, Any]]:
    """The gateway's database and ingest (writer thread), in `data_dir` or a temp folder."""
    from gateway.mqtt.ingest import Ingest
    from gateway.storage.connection import Database

    with tempfile.TemporaryDirectory(prefix="shelfsense-simulate-") as tmp:
        db = Database.in_dir(data_dir or Path(tmp))
        db.open()
        ingest = Ingest(db)
        ingest.start()
        try:
            yield db, ingest
        finally:
            ingest.stop()
            db.close()


def make_shelves(args: argparse.Namespace) -> list[Any]:
    """The store's shelves, one per camera, the same for a seed in every run."""
    from models.synth import SimulatedShelf

    return [
        SimulatedShelf(
            seed=args.seed * 1000 + i, store=STORE, camera=f"cam-{i + 1}", size=tuple(args.size)
        )
        for i in range(args.cameras)
    ]


def _node(shelf: Any, detector: Any, threads: int) -> Any:
    """A camera node on the shelf; its source only renders (the store loop steps time)."""
    from edge.node import CameraNode
    from edge.settings import NodeSettings
    from edge.sources.simulator import SimulatorSource

    settings = NodeSettings.model_validate(
        {
            "store": shelf.store,
            "camera": shelf.camera,
            "mqtt": {"url": "mqtt://127.0.0.1:1"},  # never connected: ingest is called directly
            "source": {"kind": "simulator", "seed": shelf.seed},
            "detector": {"threads": threads, "warmup_runs": 1},
        }
    )
    source = SimulatorSource(shelf, speedup=1.0, clock=lambda: 0.0)
    return CameraNode(settings, source=source, detector=detector)


def _camera(shelf: Any, db: Any, ingest: Any, detector: Any, threads: int) -> SimCamera:
    """Store the shelf's layout, configure a node with it as the gateway would, and
    announce the camera online."""
    from edge.contract.messages import Availability, NodeConfig
    from edge.contract.topics import CameraTopics
    from gateway.storage.layouts import find_layout
    from gateway.web.backend import DatabaseBackend

    DatabaseBackend(db).set_layout(STORE, shelf.camera, shelf.layout)
    record = find_layout(db, STORE, shelf.camera)
    config = NodeConfig(version=record["version"], layout=record["layout"])
    node = _node(shelf, detector, threads)
    node.configure(NodeConfig.model_validate_json(config.to_json()))
    topics = CameraTopics(STORE, shelf.camera)
    online = Availability(store=STORE, camera=shelf.camera, ts=START, state="online")
    ingest.submit(topics.availability, online.to_json(), retained=True, received_at=START)
    return SimCamera(shelf, node, topics, CameraRun(shelf.camera))


def take_frame(cam: SimCamera, now: datetime, ingest: Any) -> None:
    """The camera sees its shelf at `now`; its payloads go to ingest, the truth to its run."""
    image = cam.node.source.read()
    rendered = cam.node.source.last_render
    state, events = cam.node.process(image, now=now)
    ingest.submit(cam.topics.state, state.to_json(), received_at=now)
    for event in events:
        ingest.submit(cam.topics.events, event.to_json(), received_at=now)
    run = cam.run
    run.times.append(now)
    run.truth.append(dict(rendered.truth))
    run.hidden.append(set(rendered.occluded))
    run.short.append({k for k, st in cam.shelf.slots.items() if st.visible < st.facings})
    run.out_of_reach.append(cam.shelf.hidden_slots())
    run.misplaced.append(
        {k for k, st in cam.shelf.slots.items() if st.shown is not None and st.visible > 0}
    )
    run.node_scores.append(state.score)
    timing = getattr(cam.node.detector, "timing", None)
    run.detector_ms.append(getattr(timing, "total_ms", 0.0))
    result = cam.node.last_result
    for stage in ("analysis_ms", "motion_ms", "appearance_ms", "tracking_ms"):
        run.stage_ms[stage].append(getattr(result.timing, stage))


class AdviceCadence:
    """When the gateway's advice thread would evaluate a store (`AdviceService._run`):
    `debounce_s` after the first message that made it dirty, and every `interval_s`."""

    def __init__(self, debounce_s: float, interval_s: float, start: datetime) -> None:
        self.debounce = timedelta(seconds=debounce_s)
        self.interval = timedelta(seconds=interval_s)
        self.next_sweep = start
        self.dirty_since: datetime | None = None

    def mark(self, at: datetime) -> None:
        if self.dirty_since is None:
            self.dirty_since = at

    def due(self, before: datetime) -> list[datetime]:
        """The evaluation times earlier than `before`, in order."""
        times = []
        while True:
            at = self.next_sweep
            if self.dirty_since is not None:
                at = min(at, self.dirty_since + self.debounce)
            if at >= before:
                return times
            times.append(at)
            self.dirty_since = None
            if at >= self.next_sweep:
                self.next_sweep = at + self.interval


@dataclass
class StoreRun:
    """The advice run: what each camera saw, the shelves, the planted cases, the staff."""

    cameras: list[SimCamera]
    cases: list[Any]
    staff: Any
    planted: list[Any] = field(default_factory=list)
    """(DisplayCase, slot) of each planted wrong-product and messy case."""


def run_store(args: argparse.Namespace, db: Any, ingest: Any, detector: Any) -> StoreRun:
    """Run the whole store for `args.hours`: shelves, cameras, till, advice, staff."""
    from edge.contract.topics import DEFAULT_PREFIX
    from gateway.advice.worker import AdviceService
    from gateway.config.settings import AdviceSettings, PosSettings
    from gateway.devtools.demo_till import DemoTill, TillShelf
    from gateway.devtools.simulate.cases import (
        plan_display_cases,
        plan_hidden_cases,
        plant_display_due,
        plant_due,
    )
    from gateway.devtools.simulate.staff import AdviceFollowingStaff

    shelves = make_shelves(args)
    cases = plan_hidden_cases(shelves, args.hours, args.interval, args.seed)
    display = plan_display_cases(shelves, args.hours, args.interval, args.seed)
    planted = []
    cameras = [_camera(shelf, db, ingest, detector, args.threads) for shelf in shelves]
    till = DemoTill(
        db, [TillShelf(STORE, s.camera, s) for s in shelves], speedup=1.0, seed=args.seed
    )
    till.register_products()
    till.seed_history(START)
    service = AdviceService(db, AdviceSettings(), PosSettings(), prefix=DEFAULT_PREFIX)
    staff = AdviceFollowingStaff(service, STORE, {s.camera: s for s in shelves}, args.seed)
    cadence = AdviceCadence(service.settings.debounce_s, service.settings.interval_s, START)
    step = timedelta(seconds=args.interval)
    frames = frame_count(args)
    for i in range(frames):
        plant_due(cases, i, shelves)
        planted += plant_display_due(display, i, shelves, args.seed)
        for shelf in shelves:
            shelf.step(args.interval)
        now = START + timedelta(seconds=shelves[0].clock_s)
        for cam in cameras:
            take_frame(cam, now, ingest)
        till.post_sales(now)
        cadence.mark(now)
        ingest.wait_idle(120)
        for at in cadence.due(before=now + step):
            service.evaluate(STORE, at)
        staff.act(now)
        if i % 500 == 499:
            log.info("%d/%d frames", i + 1, frames)
    return StoreRun(cameras, cases, staff, planted)


def lost_units_without_advice(args: argparse.Namespace) -> int:
    """The same shelves, cases and demand with routine rounds only; nothing rendered."""
    from gateway.devtools.simulate.cases import (
        plan_display_cases,
        plan_hidden_cases,
        plant_display_due,
        plant_due,
    )

    shelves = make_shelves(args)
    cases = plan_hidden_cases(shelves, args.hours, args.interval, args.seed)
    display = plan_display_cases(shelves, args.hours, args.interval, args.seed)
    for i in range(frame_count(args)):
        plant_due(cases, i, shelves)
        plant_display_due(display, i, shelves, args.seed)
        for shelf in shelves:
            shelf.step(args.interval)
    return sum(shelf.lost_units for shelf in shelves)


def frame_count(args: argparse.Namespace) -> int:
    return round(args.hours * 3600 / args.interval)
