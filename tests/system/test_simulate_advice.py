"""Scoring of `shelf-gateway simulate`'s advice figures, on hand-made episodes and advice
whose answers are known; and the planted hidden stock-outs and the advice cadence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.devtools.simulate.cases import FAST_UNITS_PER_HOUR, eligible_slots, plan_hidden_cases
from gateway.devtools.simulate.scoring import (
    StoredAdvice,
    TimedEpisode,
    hidden_scores,
    lifecycle,
    lost_sales_avoided_pct,
    restock_scores,
)
from gateway.devtools.simulate.store import AdviceCadence
from models.synth import SimulatedShelf

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=20)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def episode(slot: tuple[int, ...], start: float, end: float) -> TimedEpisode:
    return TimedEpisode(slot, at(start), at(end))


def advice(
    kind: str, slot: tuple[int, ...], created: float, closed: float | None = None
) -> StoredAdvice:
    return StoredAdvice(kind, slot, at(created), None if closed is None else at(closed))


def test_restock_precision_counts_low_slots_and_recall_counts_empty_episodes() -> None:
    a, b, c = (0, 1, 1), (0, 1, 2), (1, 0, 0)
    empty = [episode(a, 10, 30), episode(b, 50, 70), episode(c, 5, 6)]
    short = [episode(a, 0, 30), episode(b, 50, 70), episode(c, 5, 6), episode((1, 2, 2), 0, 9)]
    stored = [
        advice("restock", a, 3, closed=31),  # low advice, still open when a runs empty
        advice("restock", b, 50.5),  # 30 s after b's first empty frame
        advice("restock", (1, 2, 2), 8),  # low, never empty: right, nothing to recall
        advice("restock", (1, 3, 3), 40),  # the slot was never short: false
        advice("tidy", c, 5.5),  # not restock advice: c is missed
    ]
    scores = restock_scores(stored, empty, short, WINDOW)
    assert scores["advice"] == 4 and scores["episodes"] == 3
    assert scores["precision"] == 0.75
    assert scores["recall"] == round(2 / 3, 4)
    assert scores["median_delay_min"] == 0.25  # delays 0 (already open) and 0.5 min


def test_advice_closed_before_an_episode_or_created_after_it_does_not_cover_it() -> None:
    slot = (0, 0, 0)
    empty = [episode(slot, 100, 110)]
    early = advice("restock", slot, 10, closed=20)
    late = advice("restock", slot, 111)  # more than WINDOW after the last frame
    scores = restock_scores([early, late], empty, empty, WINDOW)
    assert scores["recall"] == 0.0 and scores["median_delay_min"] is None
    assert scores["precision"] == 0.0
    just_after = advice("restock", slot, 110.25)  # within WINDOW: the camera lags a little
    assert restock_scores([just_after], empty, empty, WINDOW)["recall"] == 1.0


def test_hidden_stockout_recall_and_delay_over_planted_cases() -> None:
    cases = [episode((0, 1, 1), 60, 300), episode((1, 2, 3), 100, 400)]
    stored = [
        advice("hidden_stockout", (0, 1, 1), 180),
        advice("hidden_stockout", (2, 0, 0), 200),  # no case there: a false alarm
        advice("restock", (1, 2, 3), 150),
    ]
    scores = hidden_scores(stored, cases, WINDOW)
    assert scores == {
        "recall": 0.5,
        "cases": 2,
        "median_delay_min": 120.0,
        "precision": 0.5,
        "advice": 2,
    }
    assert hidden_scores([], [], WINDOW)["recall"] is None


def test_lifecycle_counts_and_lost_sales_avoided() -> None:
    records = [
        {"kind": "restock", "status": "resolved", "verified": True, "resolve_minutes": 8.0},
        {"kind": "restock", "status": "resolved", "verified": True, "resolve_minutes": 12.0},
        {"kind": "tidy", "status": "resolved", "verified": False, "resolve_minutes": 1.0},
        {"kind": "tidy", "status": "open", "verified": None, "resolve_minutes": None},
    ]
    figures = lifecycle(records)
    assert figures["counts"] == {"restock": 2, "tidy": 2}
    assert figures["status"] == {"open": 1, "resolved": 3}
    assert figures["resolved_verified"] == 2 and figures["median_time_to_resolve_min"] == 10.0
    assert lost_sales_avoided_pct(30, 120) == 75.0
    assert lost_sales_avoided_pct(130, 120) == -8.3  # advice that makes things worse shows
    assert lost_sales_avoided_pct(0, 0) is None


def test_the_cadence_follows_the_advice_thread_debounce_and_sweep() -> None:
    cadence = AdviceCadence(debounce_s=2, interval_s=60, start=T0)
    assert cadence.due(before=T0 + timedelta(seconds=10)) == [T0]  # first sweep
    cadence.mark(T0 + timedelta(seconds=10))
    cadence.mark(T0 + timedelta(seconds=11))  # already dirty: the first mark counts
    assert cadence.due(before=T0 + timedelta(seconds=20)) == [T0 + timedelta(seconds=12)]
    assert cadence.due(before=T0 + timedelta(seconds=61)) == [T0 + timedelta(seconds=60)]


def test_hidden_cases_go_to_fast_movers_whose_sku_stands_once_and_repeat_by_seed() -> None:
    shelves = [SimulatedShelf(seed=1000 + i, camera=f"cam-{i + 1}") for i in range(3)]
    slots = eligible_slots(shelves)
    skus = [shelves[n].slots[key].product.gtin for n, key in slots]
    assert slots and len(set(skus)) == len(skus)
    for n, key in slots:
        assert shelves[n].slots[key].product.units_per_hour >= FAST_UNITS_PER_HOUR
    cases = plan_hidden_cases(shelves, hours=8, interval_s=10, seed=1)
    assert cases == plan_hidden_cases(shelves, hours=8, interval_s=10, seed=1)
    assert len(cases) == min(6, len(slots))
    assert len({(c.camera, c.slot) for c in cases}) == len(cases)
    assert all((c.camera, c.slot) in slots and 180 <= c.frame <= 4 * 360 for c in cases)
    assert cases != plan_hidden_cases(shelves, hours=8, interval_s=10, seed=2)
