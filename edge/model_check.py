"""Is a new model fit to replace the current one? Both run on the same reference picture.

A model that loads can still be wrong for this shelf (another class list, a bad export,
a quantisation that lost the gaps) or too slow for this board. So before switching, the
node runs the current and the candidate model on its reference picture a few times and
switches only when the candidate finds about as many boxes, about as confidently, in
about the same time (`ModelUpdateSettings` holds the bounds).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np

from edge.contract.messages import Detection
from edge.contract.model_rollout import ModelCheck
from edge.detector import Detector
from edge.settings import ModelUpdateSettings


@dataclass(frozen=True)
class CheckResult:
    """The figures, and why the candidate fails (None: it passes)."""

    check: ModelCheck
    problem: str | None

    @property
    def passed(self) -> bool:
        return self.problem is None


def _run(detector: Detector, frame: np.ndarray, runs: int) -> tuple[list[Detection], float]:
    """Detections of the last run and the median time of `runs` runs, in ms."""
    times = []
    found: list[Detection] = []
    for _ in range(runs):
        started = time.perf_counter()
        found = detector.detect(frame)
        times.append((time.perf_counter() - started) * 1e3)
    return found, statistics.median(times)


def _mean_score(found: list[Detection]) -> float | None:
    return round(statistics.fmean(d.score for d in found), 4) if found else None


def compare_models(
    current: Detector,
    candidate: Detector,
    frame: np.ndarray,
    bounds: ModelUpdateSettings,
    reference: str,
) -> CheckResult:
    """Run both models on `frame` (`reference` says which picture it is) and hold the
    candidate to `bounds`. The candidate raising is a failure, reported, not raised."""
    now, now_ms = _run(current, frame, bounds.timing_runs)
    try:
        new, new_ms = _run(candidate, frame, bounds.timing_runs)
    except Exception as error:  # any runtime error of the new model is a refusal
        check = ModelCheck(
            reference=reference,
            current_detections=len(now),
            candidate_detections=0,
            current_mean_score=_mean_score(now),
            current_ms=round(now_ms, 2),
            candidate_ms=0.0,
        )
        return CheckResult(check, f"the new model fails on the {reference}: {error}")
    check = ModelCheck(
        reference=reference,
        current_detections=len(now),
        candidate_detections=len(new),
        current_mean_score=_mean_score(now),
        candidate_mean_score=_mean_score(new),
        current_ms=round(now_ms, 2),
        candidate_ms=round(new_ms, 2),
    )
    return CheckResult(check, _problem(check, bounds))


def _problem(check: ModelCheck, bounds: ModelUpdateSettings) -> str | None:
    """The first bound the candidate breaks, in words, or None."""
    allowed = max(bounds.max_count_change, round(bounds.max_count_share * check.current_detections))
    change = check.candidate_detections - check.current_detections
    if abs(change) > allowed:
        return (
            f"on the {check.reference} the new model finds {check.candidate_detections} "
            f"boxes, the current one {check.current_detections} (at most {allowed} apart)"
        )
    old, new = check.current_mean_score, check.candidate_mean_score
    if old is not None and new is not None and new < old - bounds.max_score_drop:
        return (
            f"on the {check.reference} the new model's mean score is {new:.3f}, the current "
            f"one's {old:.3f} (at most {bounds.max_score_drop} lower)"
        )
    limit = check.current_ms * bounds.max_slowdown
    if check.candidate_ms > limit:
        return (
            f"the new model takes {check.candidate_ms:.1f} ms per frame, the current one "
            f"{check.current_ms:.1f} ms (at most {bounds.max_slowdown}x)"
        )
    return None
