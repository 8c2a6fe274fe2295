"""Scoring the advice of `shelf-gateway simulate` against the simulator's truth.

Pure functions over episodes (runs of frames with a truth, see `simulate.episodes`) and
the advice the gateway stored, so each rule can be tested on hand-made cases. An advice
is matched by slot (camera, row, slot); `window_s` (MATCH_AFTER_FRAMES capture
intervals) lets it follow an episode's last frame a little, as the camera's smoothing
lags the truth. The rules are documented in `run`, the command.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

SlotKey = tuple[int, ...]


@dataclass(frozen=True)
class TimedEpisode:
    """An episode with the times of its first and last frame."""

    slot: SlotKey
    start: datetime
    end: datetime


@dataclass(frozen=True)
class StoredAdvice:
    """What scoring needs of one stored advice."""

    kind: str
    slot: SlotKey
    created: datetime
    closed: datetime | None  # resolved or dismissed; None while active


def _median_minutes(delays: Sequence[timedelta]) -> float | None:
    if not delays:
        return None
    return round(statistics.median(d.total_seconds() for d in delays) / 60, 3)


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def created_within(advice: StoredAdvice, episode: TimedEpisode, window: timedelta) -> bool:
    """Created during the episode or up to `window` after its last frame."""
    return episode.start <= advice.created <= episode.end + window


def covers(advice: StoredAdvice, episode: TimedEpisode, window: timedelta) -> bool:
    """Active at some time during the episode (or `window` after): created by then and
    not closed before it began. An advice already open when the episode starts (a
    `low` restock advice when the slot then runs empty) covers it: staff were told."""
    open_until = advice.closed
    return advice.created <= episode.end + window and (
        open_until is None or open_until >= episode.start
    )


def first_covering(
    episode: TimedEpisode, advice: Sequence[StoredAdvice], window: timedelta
) -> StoredAdvice | None:
    mine = [a for a in advice if a.slot == episode.slot and covers(a, episode, window)]
    return min(mine, key=lambda a: a.created, default=None)


def recall_and_delay(
    episodes: Sequence[TimedEpisode], advice: Sequence[StoredAdvice], window: timedelta
) -> tuple[int, list[timedelta]]:
    """(episodes covered, delays): delay = advice creation - episode start, 0 when the
    advice was there before the episode began."""
    delays = []
    for episode in episodes:
        hit = first_covering(episode, advice, window)
        if hit is not None:
            delays.append(max(timedelta(0), hit.created - episode.start))
    return len(delays), delays


def precise(
    advice: Sequence[StoredAdvice], episodes: Sequence[TimedEpisode], window: timedelta
) -> list[StoredAdvice]:
    """The advice created within an episode of its slot."""
    by_slot: dict[SlotKey, list[TimedEpisode]] = {}
    for e in episodes:
        by_slot.setdefault(e.slot, []).append(e)
    return [a for a in advice if any(created_within(a, e, window) for e in by_slot.get(a.slot, []))]


def imprecise(
    advice: Sequence[StoredAdvice], episodes: Sequence[TimedEpisode], window: timedelta
) -> list[StoredAdvice]:
    """The advice created outside every episode of its slot: false alarms."""
    right = {id(a) for a in precise(advice, episodes, window)}
    return [a for a in advice if id(a) not in right]


def restock_scores(
    advice: Sequence[StoredAdvice],
    empty: Sequence[TimedEpisode],
    short: Sequence[TimedEpisode],
    window: timedelta,
) -> dict[str, Any]:
    """Precision against `short` (empty or low) episodes, recall and delay against
    `empty` ones, over `restock` advice."""
    mine = [a for a in advice if a.kind == "restock"]
    right = precise(mine, short, window)
    covered, delays = recall_and_delay(empty, mine, window)
    return {
        "precision": _ratio(len(right), len(mine)),
        "recall": _ratio(covered, len(empty)),
        "median_delay_min": _median_minutes(delays),
        "advice": len(mine),
        "episodes": len(empty),
    }


def hidden_scores(
    advice: Sequence[StoredAdvice], cases: Sequence[TimedEpisode], window: timedelta
) -> dict[str, Any]:
    """Recall and delay over planted cases; precision over `hidden_stockout` advice."""
    mine = [a for a in advice if a.kind == "hidden_stockout"]
    covered, delays = recall_and_delay(cases, mine, window)
    return {
        "recall": _ratio(covered, len(cases)),
        "cases": len(cases),
        "median_delay_min": _median_minutes(delays),
        "precision": _ratio(len(precise(mine, cases, window)), len(mine)),
        "advice": len(mine),
    }


def lifecycle(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts by kind and status; how many the camera verified, and how fast."""
    verified = [r for r in records if r["status"] == "resolved" and r["verified"]]
    minutes = [r["resolve_minutes"] for r in verified if r["resolve_minutes"] is not None]
    return {
        "counts": dict(sorted(Counter(r["kind"] for r in records).items())),
        "status": dict(sorted(Counter(r["status"] for r in records).items())),
        "resolved_verified": len(verified),
        "median_time_to_resolve_min": round(statistics.median(minutes), 2) if minutes else None,
    }


def lost_sales_avoided_pct(lost_with: int, lost_without: int) -> float | None:
    """(lost without advice - lost with advice) / lost without advice, in percent."""
    if lost_without <= 0:
        return None
    return round(100.0 * (lost_without - lost_with) / lost_without, 1)
