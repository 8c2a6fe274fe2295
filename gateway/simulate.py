"""`shelf-gateway simulate`: measure the shelf pipeline on the simulated store, where the
truth is known.

Each simulated camera is a real `CameraNode` (ONNX detector -> motion gate -> slot states
-> wrong-product check -> smoothing -> events -> compliance) reading a `SimulatorSource`
whose clock is advanced by `--interval` simulated seconds per frame: no sleeping, no
broker, no web server. The node's state and event payloads go, as the exact bytes MQTT
would carry, through the gateway's real `Ingest` (validation, de-duplication, batching)
into a real SQLite database; the layouts are stored there first and handed to the nodes
as the `NodeConfig` the gateway publishes. Every figure is then computed from what the
gateway stored, against the simulator's truth:

- slot_accuracy: share of (frame, slot) pairs whose stored status equals the truth; the
  truth of a slot a shopper hides (more than 30% covered) is `occluded`.
  slot_accuracy_visible leaves those pairs out.
- gap_events: a gap episode is a run of frames in which a slot is truly empty. A
  `gap_opened` event of that slot from the episode's first frame to two frames after its
  last matches it (the first such event; more are false). precision = matched events /
  events, recall = matched episodes / episodes, median_delay_frames = event frame -
  episode's first frame, over matched episodes.
- occlusion_false_empty: unmatched `gap_opened` events of a slot a shopper hid in the
  frames that confirmed it (the event's frame and the `confirm_frames` - 1 before).
- wrong_product, messy: the same as gap_events for runs of truth `wrong_product`
  (a slot refilled with its neighbour's product) and `messy`, with their events.
- compliance: the node's score per frame against the gateway's reproduction from the
  stored slot states and layout (`gateway.compliance`); they must agree.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.cli import Command

log = logging.getLogger(__name__)

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
"""Simulated time of the first frame (a Monday morning); fixed, so runs repeat exactly."""
STORE = "sim"
MATCH_AFTER_FRAMES = 2
"""An event up to this many frames after an episode's last frame still belongs to it."""

SlotKey = tuple[int, ...]
"""(row, slot) of one camera, or (camera index, row, slot) across cameras."""


@dataclass
class CameraRun:
    """What one simulated camera saw and said, frame by frame."""

    camera: str
    times: list[datetime] = field(default_factory=list)
    truth: list[dict[SlotKey, str]] = field(default_factory=list)
    hidden: list[set[SlotKey]] = field(default_factory=list)
    node_scores: list[float | None] = field(default_factory=list)
    detector_ms: list[float] = field(default_factory=list)
    stage_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


@dataclass(frozen=True)
class Episode:
    slot: SlotKey
    start: int  # frame index
    end: int  # last frame index, inclusive


# ---- running the store -------------------------------------------------------------


class SimClock:
    """The simulated clock the sources read: advanced by hand, never by waiting."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@contextmanager
def _gateway_store(data_dir: Path | None) -> Iterator[tuple[Any, Any]]:
    """The gateway's database and ingest (writer thread), in `data_dir` or a temp folder."""
    from gateway.database import Database
    from gateway.ingest import Ingest

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


def _node(shelf: Any, clock: SimClock, detector: Any, threads: int) -> Any:
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
    source = SimulatorSource(shelf, speedup=1.0, clock=clock)
    return CameraNode(settings, source=source, detector=detector)


def run_camera(
    index: int, args: argparse.Namespace, db: Any, ingest: Any, detector: Any
) -> CameraRun:
    """Run one simulated camera for `args.hours`, feeding the gateway's ingest."""
    from edge.contract.messages import NodeConfig
    from edge.contract.topics import CameraTopics
    from gateway.api import DatabaseBackend
    from models.synth import SimulatedShelf

    camera = f"cam-{index + 1}"
    shelf = SimulatedShelf(
        seed=args.seed * 1000 + index, store=STORE, camera=camera, size=tuple(args.size)
    )
    DatabaseBackend(db).set_layout(STORE, camera, shelf.layout)
    record = db.layout(STORE, camera)
    config = NodeConfig(version=record["version"], layout=record["layout"])
    clock = SimClock()
    node = _node(shelf, clock, detector, args.threads)
    node.configure(NodeConfig.model_validate_json(config.to_json()))
    topics = CameraTopics(STORE, camera)
    run = CameraRun(camera)
    frames = round(args.hours * 3600 / args.interval)
    for i in range(frames):
        clock.t += args.interval
        now = START + timedelta(seconds=clock.t)
        image = node.source.read()
        rendered = node.source.last_render
        state, events = node.process(image, now=now)
        ingest.submit(topics.state, state.to_json(), received_at=now)
        for event in events:
            ingest.submit(topics.events, event.to_json(), received_at=now)
        run.times.append(now)
        run.truth.append(dict(rendered.truth))
        run.hidden.append(set(rendered.occluded))
        run.node_scores.append(state.score)
        timing = getattr(node.detector, "timing", None)
        run.detector_ms.append(getattr(timing, "total_ms", 0.0))
        result = node.last_result
        for stage in ("analysis_ms", "motion_ms", "appearance_ms", "tracking_ms"):
            run.stage_ms[stage].append(getattr(result.timing, stage))
        if i % 500 == 499:
            ingest.wait_idle(60)
            log.info("%s: %d/%d frames", camera, i + 1, frames)
    ingest.wait_idle(120)
    return run


# ---- measuring ---------------------------------------------------------------------


def episodes(truth: Sequence[dict[SlotKey, str]], status: str) -> list[Episode]:
    """Maximal runs of frames in which a slot's truth is `status`."""
    found: list[Episode] = []
    start: dict[SlotKey, int] = {}
    for i, frame in enumerate([*truth, {}]):
        for key in set(start) | set(frame):
            if frame.get(key) == status:
                start.setdefault(key, i)
            elif key in start:
                found.append(Episode(key, start.pop(key), i - 1))
    return found


def match_events(
    found: list[Episode], event_frames: list[tuple[SlotKey, int]]
) -> tuple[list[tuple[Episode, int]], list[tuple[SlotKey, int]]]:
    """(matched episode and event frame, unmatched events): each episode takes the first
    event of its slot from its first frame to MATCH_AFTER_FRAMES after its last."""
    by_slot: dict[SlotKey, list[Episode]] = defaultdict(list)
    for episode in found:
        by_slot[episode.slot].append(episode)
    taken: set[Episode] = set()
    matched, unmatched = [], []
    for slot, frame in sorted(event_frames, key=lambda e: e[1]):
        hit = next(
            (
                e
                for e in by_slot[slot]
                if e not in taken and e.start <= frame <= e.end + MATCH_AFTER_FRAMES
            ),
            None,
        )
        if hit is None:
            unmatched.append((slot, frame))
        else:
            taken.add(hit)
            matched.append((hit, frame))
    return matched, unmatched


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def event_scores(found: list[Episode], event_frames: list[tuple[SlotKey, int]]) -> dict[str, Any]:
    matched, _ = match_events(found, event_frames)
    delays = [frame - episode.start for episode, frame in matched]
    return {
        "precision": _ratio(len(matched), len(event_frames)),
        "recall": _ratio(len(matched), len(found)),
        "median_delay_frames": statistics.median(delays) if delays else None,
        "events": len(event_frames),
        "episodes": len(found),
    }


def stored_statuses(db: Any, camera: str, times: list[datetime]) -> list[dict[SlotKey, str]]:
    """What the gateway stored for each slot at each frame's time (from the change log)."""
    from gateway.database import db_time

    history = db.slot_history(STORE, camera)
    current: dict[SlotKey, str] = {}
    out, j = [], 0
    for t in times:
        limit = db_time(t)
        while j < len(history) and history[j]["ts"] <= limit:
            current[(history[j]["row"], history[j]["slot"])] = history[j]["status"]
            j += 1
        out.append(dict(current))
    return out


def stored_event_frames(
    db: Any, camera: str, kind: str, times: list[datetime]
) -> list[tuple[SlotKey, int]]:
    """(slot, frame index) of every stored event of `kind` of a camera."""
    frame_of = {t: i for i, t in enumerate(times)}
    found = []
    for event in db.events(store=STORE, camera=camera, type=kind, limit=10**7):
        ts = datetime.fromisoformat(event["ts"])
        found.append(((event["row"], event["slot"]), frame_of[ts]))
    return found


def measure(db: Any, runs: list[CameraRun], confirm_frames: int) -> dict[str, Any]:
    """Every figure of the module docstring, over all cameras."""
    from gateway.compliance import camera_compliance

    pairs = Counter()
    episodes_by_kind: dict[str, list[Episode]] = defaultdict(list)
    events_by_kind: dict[str, list[tuple[SlotKey, int]]] = defaultdict(list)
    false_empty = 0
    score_mismatches = 0
    node_scores, gateway_scores = [], []
    for n, run in enumerate(runs):
        stored = stored_statuses(db, run.camera, run.times)
        for truth, hidden, said in zip(run.truth, run.hidden, stored, strict=True):
            for key, status in truth.items():
                expected = "occluded" if key in hidden else status
                pairs[(expected, said.get(key, "missing"), key in hidden)] += 1
        for status, kind in (
            ("empty", "gap_opened"),
            ("wrong_product", "wrong_product"),
            ("messy", "messy"),
        ):
            found = episodes(run.truth, status)
            evs = stored_event_frames(db, run.camera, kind, run.times)
            episodes_by_kind[kind] += [Episode((n, *e.slot), e.start, e.end) for e in found]
            events_by_kind[kind] += [((n, *k), f) for k, f in evs]
            if kind == "gap_opened":
                _, unmatched = match_events(found, evs)
                false_empty += sum(
                    any(
                        key in run.hidden[f]
                        for f in range(max(0, frame - confirm_frames + 1), frame + 1)
                    )
                    for key, frame in unmatched
                )
        last = camera_compliance(db, STORE, run.camera, run.times[-1]) if run.times else None
        node_scores.append(run.node_scores[-1] if run.node_scores else None)
        gateway_scores.append(last.score if last else None)
        score_mismatches += int(node_scores[-1] != gateway_scores[-1])
    total = sum(pairs.values())
    right = sum(v for (want, said, _), v in pairs.items() if want == said)
    visible = sum(v for (_, _, hidden), v in pairs.items() if not hidden)
    visible_right = sum(
        v for (want, said, hidden), v in pairs.items() if not hidden and want == said
    )
    confusion: dict[str, dict[str, int]] = defaultdict(dict)
    for (want, said, _), v in sorted(pairs.items()):
        confusion[want][said] = confusion[want].get(said, 0) + v
    return {
        "slot_accuracy": _ratio(right, total),
        "slot_accuracy_visible": _ratio(visible_right, visible),
        "gap_events": event_scores(episodes_by_kind["gap_opened"], events_by_kind["gap_opened"]),
        "occlusion_false_empty": false_empty,
        "wrong_product": event_scores(
            episodes_by_kind["wrong_product"], events_by_kind["wrong_product"]
        ),
        "messy": event_scores(episodes_by_kind["messy"], events_by_kind["messy"]),
        "compliance": {
            "node_final": node_scores,
            "gateway_final": gateway_scores,
            "reproduced": score_mismatches == 0,
            "mean_node": _mean([s for run in runs for s in run.node_scores]),
        },
        "confusion": confusion,
    }


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(statistics.fmean(kept), 4) if kept else None


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def run_simulation(args: argparse.Namespace) -> dict[str, Any]:
    """Run every camera, then measure; returns the JSON-able report."""
    from edge.detector import OnnxDetector
    from edge.settings import AnalysisSettings
    from models.synth import SYNTHETIC_MODEL

    started = time.perf_counter()
    detector = OnnxDetector(SYNTHETIC_MODEL, threads=args.threads, warmup_runs=1)
    with _gateway_store(args.data_dir) as (db, ingest):
        runs = [run_camera(i, args, db, ingest, detector) for i in range(args.cameras)]
        ingest.wait_idle(120)
        report = measure(db, runs, AnalysisSettings().confirm_frames)
        counters = ingest.counters.as_dict()
    frames = sum(len(r.times) for r in runs)
    stage_ms = {
        stage: _median([v for r in runs for v in r.stage_ms[stage]])
        for stage in ("analysis_ms", "motion_ms", "appearance_ms", "tracking_ms")
    }
    return {
        "hours": args.hours,
        "cameras": args.cameras,
        "seed": args.seed,
        "interval_s": args.interval,
        "size": list(args.size),
        "frames": frames,
        **report,
        "timing_ms_median": {
            "detector": _median([v for r in runs for v in r.detector_ms]),
            **stage_ms,
        },
        "gateway": {
            "path": "direct Ingest.submit of the MQTT payloads (no broker), SQLite store",
            "stored": counters["stored"],
            "dead_letters": counters["dead_letters"],
        },
        "wall_s": round(time.perf_counter() - started, 1),
    }


def _print_summary(report: dict[str, Any]) -> None:
    gap, wrong = report["gap_events"], report["wrong_product"]
    print(
        f"{report['cameras']} camera(s), {report['hours']} h, {report['frames']} frames "
        f"in {report['wall_s']} s\n"
        f"  slot accuracy           {report['slot_accuracy']}"
        f" (visible slots {report['slot_accuracy_visible']})\n"
        f"  gap events              precision {gap['precision']} recall {gap['recall']}"
        f" median delay {gap['median_delay_frames']} frames\n"
        f"  occlusion false empty   {report['occlusion_false_empty']}\n"
        f"  wrong product           precision {wrong['precision']} recall {wrong['recall']}\n"
        f"  compliance reproduced   {report['compliance']['reproduced']}"
    )


def run_command(args: argparse.Namespace) -> int:
    if args.hours <= 0 or args.cameras < 1 or args.interval <= 0:
        print("shelf-gateway simulate: --hours, --cameras and --interval must be positive")
        return 2
    if args.json:
        logging.getLogger().setLevel(logging.WARNING)
    report = run_simulation(args)
    if args.json:
        json.dump(report, sys.stdout)
        print()
    else:
        _print_summary(report)
    return 0


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hours", type=float, default=8.0, help="simulated hours (default 8)")
    parser.add_argument("--cameras", type=int, default=3, help="simulated cameras (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
    parser.add_argument(
        "--interval",
        type=float,
        default=10.0,
        help="simulated seconds between two frames of a camera (default 10)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="detector threads (default 1; figures alike)"
    )
    parser.add_argument(
        "--size",
        type=_size,
        default=(640, 480),
        metavar="WxH",
        help="camera frame size (default 640x480; timings scale with it)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--data-dir", type=Path, help="keep the gateway database here (default: a temp folder)"
    )


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1280x960") from None
    if not (64 <= w <= 4096 and 64 <= h <= 4096):
        raise argparse.ArgumentTypeError(f"{text!r}: each side must be 64..4096 pixels")
    return w, h


def command() -> Command:
    return Command(
        name="simulate",
        help="measure slot states and events on the simulated store, against its truth",
        description=(
            "Run the simulated store in accelerated time through the real camera node "
            "pipeline and the gateway's ingest and SQLite store (no broker, no web "
            "server), then compare what the gateway stored with the simulator's truth: "
            "slot accuracy, gap and wrong-product event precision and recall, delays, "
            "false empties caused by shoppers, compliance reproduction."
        ),
        add_arguments=_add_arguments,
        handler=run_command,
    )
