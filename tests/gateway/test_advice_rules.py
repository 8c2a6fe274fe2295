"""The advice rules on hand-made facts whose answer is known."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from edge.contract.advice import AdviceKind, Evidence, Level
from edge.contract.messages import SlotStatus
from edge.layout import with_check_digit
from gateway.advice.model import ActiveAdvice
from gateway.advice.rules import (
    BayFacts,
    Demand,
    SlotFacts,
    candidates,
    check_resolution,
    facings,
    fix_display,
    hidden_stockout,
    predicted_stockout,
    restock,
    tidy,
)
from gateway.config.settings import AdviceSettings
from gateway.retail.velocity import VelocityProfile

NOW = datetime(2026, 5, 6, 12, 0, tzinfo=UTC)
SKU = with_check_digit("400638133393")
OTHER = with_check_digit("500011200001")
SETTINGS = AdviceSettings()


def flat(rate: float, days: int = 28, sku: str = SKU) -> VelocityProfile:
    """A SKU selling `rate` units every hour of every day."""
    return VelocityProfile(
        store="store-1",
        sku=sku,
        timezone="UTC",
        window_start=date(2026, 4, 8),
        window_end=date(2026, 4, 8) + timedelta(days=days),
        units=round(rate * 24 * days),
        store_units=round(rate * 24 * days * 10),
        rates=np.full((7, 24), rate),
    )


def slot(**changes: object) -> SlotFacts:
    base = SlotFacts(
        store="store-1",
        camera="cam-1",
        row=0,
        slot=1,
        sku=SKU,
        name="Cola 330ml",
        facings=3,
        depth=4,
        status=SlotStatus.STOCKED,
        status_since=NOW - timedelta(hours=5),
        seen_sku=SKU,
        not_empty_since=NOW - timedelta(hours=5),
        demand=Demand(flat(6.0)),
    )
    return replace(base, **changes)


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


# ---- restock -------------------------------------------------------------------------


def empty_for_30_minutes() -> SlotFacts:
    """The slot empty for the last 30 minutes, after 20 minutes low before that."""
    return slot(
        status=SlotStatus.EMPTY,
        status_since=ago(30),
        empty_since=ago(30),
        not_stocked_since=ago(50),
        not_empty_since=None,
    )


def test_restock_of_an_empty_slot_counts_lost_sales_as_rate_times_minutes() -> None:
    s = empty_for_30_minutes()
    c = restock(s, NOW, SETTINGS)
    assert c is not None and c.kind == AdviceKind.RESTOCK and c.cause == "empty"
    assert c.evidence.minutes_empty == 30 and c.evidence.units_per_hour == 6
    assert c.evidence.lost_sales == pytest.approx(6 * 30 / 60)
    assert c.urgency == pytest.approx(3.0) and c.level == Level.HIGH
    assert c.episode_start == ago(50)  # the empty/low run, not just the empty part
    assert c.key == "restock:store-1/cam-1/0/1"
    # Rows and slots counted from 1, as pages show them.
    assert "cam-1 row 1 slot 2" in c.action and "Cola 330ml" in c.action


def test_advice_names_the_place_as_the_layout_does() -> None:
    s = empty_for_30_minutes()
    named = replace(s, bay="aisle 3 bay B", shelf="top")
    c = restock(named, NOW, SETTINGS)
    assert c is not None and "aisle 3 bay B shelf top slot 2" in c.action
    assert "cam-1" not in c.action and "row 1" not in c.action


def test_restock_level_follows_units_at_stake() -> None:
    def level(rate: float) -> Level:
        s = slot(
            status=SlotStatus.EMPTY,
            empty_since=ago(30),
            not_stocked_since=ago(30),
            demand=Demand(flat(rate)),
        )
        c = restock(s, NOW, SETTINGS)
        assert c is not None
        return c.level

    assert (level(0.5), level(2.5), level(8.0)) == (Level.LOW, Level.MEDIUM, Level.HIGH)


def test_no_restock_within_the_grace_period_or_for_a_stocked_slot() -> None:
    fresh = slot(status=SlotStatus.EMPTY, empty_since=ago(1), not_stocked_since=ago(1))
    assert restock(fresh, NOW, SETTINGS) is not None  # the node confirmed it: no wait
    assert restock(fresh, NOW, AdviceSettings(restock_grace_min=2)) is None
    assert restock(slot(), NOW, SETTINGS) is None
    low = slot(status=SlotStatus.LOW, status_since=ago(5), not_stocked_since=ago(5))
    assert restock(low, NOW, SETTINGS) is None  # low_grace_min is 10


def test_restock_of_a_low_slot_is_urged_by_the_next_hours_demand() -> None:
    low = slot(status=SlotStatus.LOW, status_since=ago(20), not_stocked_since=ago(20))
    c = restock(low, NOW, SETTINGS)
    assert c is not None and c.cause == "low" and c.evidence.lost_sales == 0
    assert c.urgency == pytest.approx(6.0)


def test_restock_without_sales_history_is_still_advised_with_no_urgency() -> None:
    s = slot(status=SlotStatus.EMPTY, empty_since=ago(30), not_stocked_since=ago(30), demand=None)
    c = restock(s, NOW, SETTINGS)
    assert c is not None and c.urgency == 0 and c.level == Level.LOW
    assert c.evidence.units_per_hour is None


# ---- predicted stock-out -------------------------------------------------------------


def test_predicted_stockout_from_capacity_minus_sales_since_restock() -> None:
    # 12 units fit; 9 sold since the restock; 3 left at 6/h -> empty in 30 min.
    s = slot(last_restock=ago(120), units_sold_since_restock=9.0)
    c = predicted_stockout(s, NOW, SETTINGS)
    assert c is not None and c.kind == AdviceKind.PREDICTED_STOCKOUT
    assert c.evidence.capacity == 12 and c.evidence.units_on_shelf == 3
    assert c.evidence.minutes_to_empty == pytest.approx(30, abs=0.1)
    # Lost within the 2 h horizon if nobody restocks: 6/h x 1.5 h.
    assert c.urgency == pytest.approx(9.0, abs=0.01)
    assert c.episode_start == ago(120)


def test_no_predicted_stockout_beyond_the_horizon_or_without_evidence() -> None:
    plenty = slot(last_restock=ago(60), units_sold_since_restock=0.0)  # 12 left: 2 h exactly
    assert predicted_stockout(replace(plenty, demand=Demand(flat(5.0))), NOW, SETTINGS) is None
    no_restock_seen = slot(last_restock=None, units_sold_since_restock=None)
    assert predicted_stockout(no_restock_seen, NOW, SETTINGS) is None
    thin = slot(last_restock=ago(60), units_sold_since_restock=11.0, demand=Demand(flat(0.001)))
    assert thin.demand is not None and thin.demand.window_units < SETTINGS.min_window_units
    assert predicted_stockout(thin, NOW, SETTINGS) is None


def test_a_slot_shared_by_two_slots_counts_its_share_of_demand() -> None:
    half = Demand(flat(6.0), share=0.5)  # the SKU also stands elsewhere with as many facings
    s = slot(last_restock=ago(120), units_sold_since_restock=9.0, demand=half)
    c = predicted_stockout(s, NOW, SETTINGS)
    assert c is not None and c.evidence.minutes_to_empty == pytest.approx(60, abs=0.1)


# ---- hidden stock-out ----------------------------------------------------------------


def test_hidden_stockout_when_no_sale_is_very_unlikely() -> None:
    # 1 unit/h: 5 h without a sale has P = e^-5 = 0.67 % < 1 %.
    s = slot(demand=Demand(flat(1.0)), last_sale=ago(300), not_empty_since=ago(600))
    c = hidden_stockout(s, NOW, SETTINGS)
    assert c is not None and c.kind == AdviceKind.HIDDEN_STOCKOUT and c.cause == "no_sales"
    assert c.evidence.expected_units == pytest.approx(5.0)
    assert c.evidence.p_no_sale == pytest.approx(math.exp(-5), abs=1e-6)
    assert c.evidence.expected_minutes_between_sales == pytest.approx(60, abs=0.1)
    assert c.episode_start == ago(300)


def test_no_hidden_stockout_when_silence_is_plausible_or_evidence_thin() -> None:
    four_hours = slot(demand=Demand(flat(1.0)), last_sale=ago(240))  # P = 1.8 %
    assert hidden_stockout(four_hours, NOW, SETTINGS) is None
    # Silence counts only while the camera sees the slot not empty.
    just_refilled = slot(demand=Demand(flat(1.0)), last_sale=ago(600), not_empty_since=ago(60))
    assert hidden_stockout(just_refilled, NOW, SETTINGS) is None
    empty = slot(demand=Demand(flat(1.0)), last_sale=ago(600), status=SlotStatus.EMPTY)
    assert hidden_stockout(empty, NOW, SETTINGS) is None
    assert hidden_stockout(slot(demand=None, last_sale=ago(6000)), NOW, SETTINGS) is None
    unseen = slot(demand=Demand(flat(1.0)), last_sale=ago(600), status=SlotStatus.UNKNOWN)
    assert hidden_stockout(unseen, NOW, SETTINGS) is None  # the camera never reported it


def test_hidden_stockout_behind_a_wrong_product_says_so() -> None:
    s = slot(
        demand=Demand(flat(2.0)),
        status=SlotStatus.WRONG_PRODUCT,
        seen_sku=OTHER,
        last_sale=ago(180),
    )
    c = hidden_stockout(s, NOW, SETTINGS)
    assert c is not None and c.cause == "wrong_product" and "another product" in c.reason


# ---- fix display and tidy ------------------------------------------------------------


def test_fix_display_for_a_wrong_or_misplaced_product() -> None:
    wrong = slot(status=SlotStatus.WRONG_PRODUCT, status_since=ago(20))
    c = fix_display(wrong, NOW, SETTINGS)
    assert c is not None and c.cause == "wrong_product"
    assert c.urgency == pytest.approx(2.0)  # 6/h hidden for 20 min
    misplaced = slot(seen_sku=OTHER, status_since=ago(20))
    c = fix_display(misplaced, NOW, SETTINGS)
    assert c is not None and c.cause == "misplaced" and OTHER in c.action
    assert (
        fix_display(slot(status=SlotStatus.WRONG_PRODUCT, status_since=ago(2)), NOW, SETTINGS)
        is None
    )
    assert fix_display(slot(), NOW, SETTINGS) is None


def test_tidy_after_the_grace_period_with_low_level() -> None:
    assert tidy(slot(status=SlotStatus.MESSY, status_since=ago(5)), NOW, SETTINGS) is None
    c = tidy(slot(status=SlotStatus.MESSY, status_since=ago(40)), NOW, SETTINGS)
    assert c is not None and c.level == Level.LOW and c.evidence.minutes_in_status == 40


# ---- facings -------------------------------------------------------------------------


def bay(*slots: SlotFacts, online: bool = True) -> BayFacts:
    return BayFacts(
        store="store-1",
        camera="cam-1",
        online=online,
        layout_version="v1",
        layout_updated_at=NOW - timedelta(days=30),
        slots=slots,
    )


def test_facings_move_from_the_slow_to_the_fast_seller() -> None:
    fast = slot(slot=0, facings=1, depth=4, demand=Demand(flat(0.5)))  # 12/day, 4 units
    slow = slot(
        slot=1, sku=OTHER, name="Soap", facings=4, depth=5, demand=Demand(flat(0.0625, sku=OTHER))
    )  # 1.5/day, 20 units
    c = facings(bay(fast, slow), NOW, SETTINGS)
    assert c is not None and c.kind == AdviceKind.FACINGS and c.key == "facings:store-1/cam-1"
    assert (c.row, c.slot, c.sku) == (0, 0, SKU)
    e = c.evidence
    assert e.days_of_supply == pytest.approx(4 / 12, abs=0.01)
    assert e.days_of_supply_after == pytest.approx(8 / 12, abs=0.01)
    assert e.from_slot == 1 and e.from_days_of_supply_after == pytest.approx(15 / 1.5, abs=0.01)
    assert e.sales_share == pytest.approx(12 / 13.5, abs=0.001) and e.facings_share == 0.2
    assert "Soap" in c.action and "Cola" in c.action


def test_no_facings_advice_without_enough_history_or_need() -> None:
    fast = slot(slot=0, facings=1, depth=4, demand=Demand(flat(0.5, days=3)))
    slow = slot(slot=1, sku=OTHER, facings=4, depth=5, demand=Demand(flat(0.05, 3, OTHER)))
    assert facings(bay(fast, slow), NOW, SETTINGS) is None  # 3 days < facings_min_days
    roomy = slot(slot=0, facings=2, depth=20, demand=Demand(flat(0.5)))  # 3.3 days of supply
    slow = replace(slow, demand=Demand(flat(0.05, sku=OTHER)))
    assert facings(bay(roomy, slow), NOW, SETTINGS) is None
    few = slot(slot=0, facings=1, depth=4, demand=Demand(flat(0.05)))
    assert (
        facings(bay(few, replace(slow, demand=Demand(flat(0.01, sku=OTHER)))), NOW, SETTINGS)
        is None
    )


def test_offline_cameras_give_no_advice() -> None:
    empty = slot(status=SlotStatus.EMPTY, empty_since=ago(30), not_stocked_since=ago(30))
    assert [c.kind for c in candidates([bay(empty)], NOW, SETTINGS)] == [AdviceKind.RESTOCK]
    assert candidates([bay(empty, online=False)], NOW, SETTINGS) == []


# ---- verification --------------------------------------------------------------------


def active(kind: AdviceKind, episode: datetime, **evidence: object) -> ActiveAdvice:
    return ActiveAdvice(
        id=7,
        key=f"{kind.value}:x",
        kind=kind,
        camera="cam-1",
        row=0,
        slot=1,
        sku=SKU,
        episode_start=episode,
        evidence=Evidence.model_validate(evidence),
    )


def test_restock_is_verified_when_the_camera_sees_stock() -> None:
    advice = active(AdviceKind.RESTOCK, ago(30))
    still_empty = slot(status=SlotStatus.EMPTY, not_stocked_since=ago(30))
    assert check_resolution(advice, bay(still_empty)) is None
    r = check_resolution(advice, bay(slot(status=SlotStatus.STOCKED)))
    assert r is not None and r.verified and r.advice_id == 7
    # Refilled and empty again between two evaluations: the old episode was fixed.
    again = slot(status=SlotStatus.EMPTY, not_stocked_since=ago(5))
    r = check_resolution(advice, bay(again))
    assert r is not None and r.verified
    assert check_resolution(advice, bay(slot(status=SlotStatus.STOCKED), online=False)) is None


def test_other_kinds_are_verified_by_what_fixes_them() -> None:
    predicted = active(AdviceKind.PREDICTED_STOCKOUT, ago(120))
    assert check_resolution(predicted, bay(slot(last_restock=ago(120)))) is None
    r = check_resolution(predicted, bay(slot(last_restock=ago(10))))
    assert r is not None and r.verified
    r = check_resolution(predicted, bay(slot(status=SlotStatus.EMPTY, last_restock=ago(120))))
    assert r is not None and not r.verified

    hidden = active(AdviceKind.HIDDEN_STOCKOUT, ago(300))
    assert check_resolution(hidden, bay(slot(last_sale=ago(300)))) is None
    r = check_resolution(hidden, bay(slot(last_sale=ago(1))))
    assert r is not None and r.verified

    display = active(AdviceKind.FIX_DISPLAY, ago(20))
    assert check_resolution(display, bay(slot(status=SlotStatus.WRONG_PRODUCT))) is None
    assert check_resolution(display, bay(slot()))

    messy = active(AdviceKind.TIDY, ago(40))
    assert check_resolution(messy, bay(slot(status=SlotStatus.MESSY, status_since=ago(40)))) is None
    assert check_resolution(messy, bay(slot()))

    moved = active(AdviceKind.FACINGS, ago(1000), facings=1)
    assert check_resolution(moved, bay(slot(facings=1))) is None
    r = check_resolution(moved, bay(slot(facings=2)))
    assert r is not None and r.verified

    r = check_resolution(active(AdviceKind.RESTOCK, ago(30)), bay(slot(sku=OTHER)))
    assert r is not None and not r.verified  # the slot holds another product now
