"""`shelf-gateway simulate`: measure the shelf pipeline and the advice on the simulated
store, where the truth is known.

Each simulated camera is a real `CameraNode` (ONNX detector -> motion gate -> slot states
-> wrong-product check -> smoothing -> events -> compliance) reading a `SimulatorSource`
over its `SimulatedShelf`. Simulated time advances `--interval` seconds per frame, all
cameras in lockstep (every shelf steps, then every camera takes frame i, before frame
i + 1), so the advice sees the store as a whole at each moment: no sleeping, no
broker, no web server. The node's state and event payloads go, as the exact bytes MQTT
would carry, through the gateway's real `Ingest` (validation, de-duplication, batching)
into a real SQLite database; the layouts are stored there first and handed to the nodes
as the `NodeConfig` the gateway publishes.

The shelves' sales reach the gateway as POS sale lines at simulated time through the
demo till (`devtools.demo_till`, which first writes a week of sales history so
velocity has a basis). The advice engine (`AdviceService.evaluate`, default
`AdviceSettings`) runs at simulated time when the gateway's advice thread would:
`debounce_s` after new messages (every frame brings states) and every `interval_s`.
Simulated staff (`staff`) acknowledge and carry out restock,
fix_display, tidy and hidden_stockout advice after a response delay; the camera sees
the fix and the gateway resolves the advice. Hidden stock-outs are planted from the
seed (`cases`). A second run of the same shelves, seed and demand
has no advice (staff only do their routine rounds) and renders nothing: it only counts
lost sales.

Every figure is computed from what the gateway stored, against the simulator's truth:

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
- wrong_product, messy: the same as gap_events for their events. A wrong-product
  episode is a misplacement: the run of frames in which a slot holds its neighbour's
  product (not empty), messy frames included (the product is still the wrong one; the
  node reports it once per misplacement). A messy episode is a run of truth `messy`.
  `repeated` counts events of an episode that already had its event. `planted`: the
  episodes of each kind planted by the simulator (`cases`), on top of
  those the shelves make by themselves.
- compliance: the node's score per frame against the gateway's reproduction from the
  stored slot states and layout (`gateway.shelf.compliance`); they must agree.
- advice.restock: an out-of-stock episode is a run of frames in which a slot is truly
  empty. Restock advice is given for a slot empty *or low*, so its precision counts a
  `restock` advice right when it was created during a run of frames in which its slot
  truly held fewer units in front than its facings (empty or low), or up to
  MATCH_AFTER_FRAMES after; recall counts the empty episodes covered by a restock
  advice of the slot: created by the episode's last frame (+ MATCH_AFTER_FRAMES) and not
  closed before it began (a `low` advice still open when the slot runs empty covers
  it; staff were told). median_delay_min = advice creation - the episode's first frame
  (0 when the advice was already open), over covered episodes; the target of two
  capture intervals is 2 x `--interval`. `advice` and `episodes` are the counts;
  false_by_truth: the slot's truth when each false restock advice was created.
- advice.hidden_stockout: planted cases (`cases`: the slot looks
  stocked, the product cannot be bought). recall = cases covered (as above) by a
  `hidden_stockout` advice of the slot; median_delay_min from the case's start;
  precision = hidden_stockout advice created during a case / all of them; `cases`,
  `advice` the counts.
- advice.counts (by kind), advice.status (by status at the end), resolved_verified (the
  camera or the till saw the fix), median_time_to_resolve_min (creation to verified
  resolution), acknowledged and done (errands the simulated staff acknowledged and
  carried out).
- lost_units (with_advice, without_advice): units shoppers wanted while the slot could
  not supply them (empty, or the product hidden), with staff following advice and with
  routine rounds only, same seed and demand. lost_sales_avoided_pct = (without - with)
  / without x 100.
"""

from __future__ import annotations

import argparse
import bisect
import json
import logging
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.cli.command import Command
from gateway.devtools.simulate.store import (
    STORE,
    CameraRun,
    StoreRun,
    gateway_store,
    lost_units_without_advice,
    run_store,
)

log = logging.getLogger(__name__)


MATCH_AFTER_FRAMES = 2
"""An event up to this many frames after an episode's last frame still belongs to it."""

SlotKey = tuple[int, ...]
"""(row, slot) of one camera, or (camera index, row, slot) across cameras."""


@dataclass(frozen=True)
class Episode:
    slot: SlotKey
    start: int  # frame index
    end: int  # last frame index, inclusive


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
    """Precision, recall and delay; `repeated`: unmatched events inside an episode that
    already had its event (one episode reported twice)."""
    matched, unmatched = match_events(found, event_frames)
    delays = [frame - episode.start for episode, frame in matched]
    taken = {episode for episode, _ in matched}
    repeated = sum(
        any(e.slot == slot and e.start <= frame <= e.end + MATCH_AFTER_FRAMES for e in taken)
        for slot, frame in unmatched
    )
    return {
        "precision": _ratio(len(matched), len(event_frames)),
        "recall": _ratio(len(matched), len(found)),
        "median_delay_frames": statistics.median(delays) if delays else None,
        "events": len(event_frames),
        "episodes": len(found),
        "repeated": repeated,
    }


def stored_statuses(db: Any, camera: str, times: list[datetime]) -> list[dict[SlotKey, str]]:
    """What the gateway stored for each slot at each frame's time (from the change log)."""
    from gateway.storage.slot_log import slot_history
    from gateway.storage.sql import db_time

    history = slot_history(db, STORE, camera)
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
    from gateway.storage.events import list_events

    frame_of = {t: i for i, t in enumerate(times)}
    found = []
    for event in list_events(db, store=STORE, camera=camera, type=kind, limit=10**7):
        ts = datetime.fromisoformat(event["ts"])
        found.append(((event["row"], event["slot"]), frame_of[ts]))
    return found


def measure(db: Any, runs: list[CameraRun], confirm_frames: int) -> dict[str, Any]:
    """Every figure of the module docstring, over all cameras."""
    from gateway.shelf.compliance import camera_compliance

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
            truth = _as_truth(run.misplaced, status) if kind == "wrong_product" else run.truth
            found = episodes(truth, status)
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


def _timed(found: list[Episode], n: int, times: list[datetime]) -> list[Any]:
    from gateway.devtools.simulate.scoring import TimedEpisode

    return [TimedEpisode((n, *e.slot), times[e.start], times[e.end]) for e in found]


def _as_truth(frames: list[set[SlotKey]], status: str) -> list[dict[SlotKey, str]]:
    return [dict.fromkeys(keys, status) for keys in frames]


def stored_advice(db: Any, runs: list[CameraRun]) -> tuple[list[dict[str, Any]], list[Any]]:
    """Every advice of the store (records), and as scoring reads it (slot keys with the
    camera's index)."""
    from gateway.advice import store as advice_store
    from gateway.devtools.simulate.scoring import StoredAdvice

    index = {run.camera: n for n, run in enumerate(runs)}
    records = advice_store.list_advice(db, store=STORE, limit=10**7)
    found = []
    for r in records:
        if r["row"] is None or r["camera"] not in index:
            continue
        closed = r["resolved_at"] or r["dismissed_at"]
        found.append(
            StoredAdvice(
                kind=r["kind"],
                slot=(index[r["camera"]], r["row"], r["slot"]),
                created=datetime.fromisoformat(r["created_at"]),
                closed=datetime.fromisoformat(closed) if closed else None,
            )
        )
    return records, found


def _truth_at(runs: list[CameraRun], slot: SlotKey, at: datetime) -> str:
    """The slot's truth in the last frame at or before `at` (what the advice saw)."""
    n, *key = slot
    run = runs[n]
    i = bisect.bisect_right(run.times, at) - 1
    return run.truth[i].get(tuple(key), "missing") if i >= 0 else "before the first frame"


def measure_advice(
    db: Any, store_run: StoreRun, interval_s: float, lost_without: int
) -> dict[str, Any]:
    """The advice figures of the module docstring."""
    from gateway.devtools.simulate.scoring import (
        hidden_scores,
        imprecise,
        lifecycle,
        lost_sales_avoided_pct,
        restock_scores,
    )

    runs = [cam.run for cam in store_run.cameras]
    empty, short, cases = [], [], []
    for n, run in enumerate(runs):
        empty += _timed(episodes(run.truth, "empty"), n, run.times)
        short += _timed(episodes(_as_truth(run.short, "short"), "short"), n, run.times)
        cases += _timed(episodes(_as_truth(run.out_of_reach, "hidden"), "hidden"), n, run.times)
    records, advice = stored_advice(db, runs)
    window = timedelta(seconds=MATCH_AFTER_FRAMES * interval_s)
    lost_with = sum(cam.shelf.lost_units for cam in store_run.cameras)
    staff = store_run.staff
    restock = restock_scores(advice, empty, short, window)
    false = imprecise([a for a in advice if a.kind == "restock"], short, window)
    restock["false_by_truth"] = dict(Counter(_truth_at(runs, a.slot, a.created) for a in false))
    return {
        "advice": {
            "restock": restock,
            "hidden_stockout": hidden_scores(advice, cases, window),
            **lifecycle(records),
            "acknowledged": staff.acknowledged,
            "done": staff.done,
        },
        "lost_units": {"with_advice": lost_with, "without_advice": lost_without},
        "lost_sales_avoided_pct": lost_sales_avoided_pct(lost_with, lost_without),
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
    lost_without = lost_units_without_advice(args)
    detector = OnnxDetector(SYNTHETIC_MODEL, threads=args.threads, warmup_runs=1)
    with gateway_store(args.data_dir) as (db, ingest):
        store_run = run_store(args, db, ingest, detector)
        ingest.wait_idle(120)
        runs = [cam.run for cam in store_run.cameras]
        report = measure(db, runs, AnalysisSettings().confirm_frames)
        report |= measure_advice(db, store_run, args.interval, lost_without)
        planted = Counter(case.kind for case, _ in store_run.planted)
        for kind in ("wrong_product", "messy"):
            report[kind]["planted"] = planted[kind]
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
    advice, lost = report["advice"], report["lost_units"]
    restock, hidden = advice["restock"], advice["hidden_stockout"]
    print(
        f"  restock advice          precision {restock['precision']} recall {restock['recall']}"
        f" median delay {restock['median_delay_min']} min"
        f" ({restock['advice']} advice, {restock['episodes']} empty episodes)\n"
        f"  hidden stock-out        recall {hidden['recall']} of {hidden['cases']} planted"
        f" cases, median delay {hidden['median_delay_min']} min\n"
        f"  advice by kind          {advice['counts']}\n"
        f"  verified resolutions    {advice['resolved_verified']},"
        f" median {advice['median_time_to_resolve_min']} min to resolve\n"
        f"  lost sales (units)      {lost['with_advice']} with advice,"
        f" {lost['without_advice']} without: {report['lost_sales_avoided_pct']}% avoided"
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
