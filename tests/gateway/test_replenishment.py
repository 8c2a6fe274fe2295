"""Purchase-suggestion core, part 1: the demand forecast over a window and the order-up-to
policy, on figures worked out by hand and on simulated Poisson demand whose truth is
known (the order covers the protection period at the chosen service level)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from gateway.retail.demand_forecast import DemandForecast, dispersion_index, forecast_demand
from gateway.retail.replenishment import (
    StockPosition,
    plan_replenishment,
    round_to_packs,
    service_z,
)
from gateway.retail.velocity import VelocityProfile

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2024, 4, 1, tzinfo=UTC)


def open_hours_rates(per_hour: float = 2.0) -> np.ndarray:
    """Open 8:00-20:00 Monday to Saturday, closed on Sunday."""
    rates = np.zeros((7, 24))
    rates[:6, 8:20] = per_hour
    return rates


def demand(mean: float, variance: float | None = None) -> DemandForecast:
    return DemandForecast(
        start=MONDAY,
        end=MONDAY + timedelta(days=4),
        mean=mean,
        variance=mean if variance is None else variance,
        dispersion=1.0 if variance is None else variance / mean,
    )


# ---- forecast -----------------------------------------------------------------------------


def test_forecast_counts_only_open_local_hours_and_is_poisson_without_history() -> None:
    # Saturday 2024-04-06 00:00 Berlin to Monday 00:00: 12 open hours on Saturday, none Sunday.
    start = datetime(2024, 4, 6, tzinfo=BERLIN)
    f = forecast_demand(open_hours_rates(), BERLIN, start, start + timedelta(days=2))
    assert f.mean == pytest.approx(24.0)
    assert f.variance == pytest.approx(24.0)
    assert f.dispersion == 1.0
    assert f.days == pytest.approx(2.0)


def test_forecast_starts_mid_hour_and_scales_variance_by_dispersion() -> None:
    start = datetime(2024, 4, 1, 19, 30, tzinfo=BERLIN)  # Monday, half an hour before closing
    f = forecast_demand(
        open_hours_rates(), BERLIN, start, start + timedelta(hours=13), dispersion=3.0
    )
    assert f.mean == pytest.approx(0.5 * 2 + 0.5 * 2)  # 19:30-20:00 and 08:00-08:30
    assert f.variance == pytest.approx(3 * f.mean)


def test_forecast_across_daylight_saving_change_counts_real_hours() -> None:
    # 2024-03-31 Berlin: 02:00 jumps to 03:00, so the local day has 23 hours.
    rates = np.full((7, 24), 1.0)
    start = datetime(2024, 3, 31, tzinfo=BERLIN)
    f = forecast_demand(rates, BERLIN, start, datetime(2024, 4, 1, tzinfo=BERLIN))
    assert f.mean == pytest.approx(23.0)


def test_forecast_refuses_a_window_ending_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        forecast_demand(open_hours_rates(), BERLIN, MONDAY, MONDAY - timedelta(hours=1))


def test_velocity_profile_forecast_is_the_same_helper() -> None:
    profile = VelocityProfile(
        store="s",
        sku="4006381333931",
        timezone="Europe/Berlin",
        window_start=date(2024, 3, 1),
        window_end=date(2024, 3, 29),
        units=100,
        store_units=1000,
        rates=open_hours_rates(0.7),
    )
    start = datetime(2024, 4, 2, 9, 15, tzinfo=BERLIN)
    end = start + timedelta(days=3, hours=5)
    f = profile.forecast(start, end, dispersion=2.0)
    assert f.mean == pytest.approx(profile.expected_units(start, end))
    assert f.variance == pytest.approx(2 * f.mean)


def test_dispersion_index_finds_multi_unit_baskets() -> None:
    rng = np.random.default_rng(3)
    expected = np.full(364, 12.0)
    single = rng.poisson(12.0, size=364)  # one unit per basket: Poisson
    sixes = 6 * rng.poisson(2.0, size=364)  # baskets of six: variance six times the mean
    poisson_index = dispersion_index(single.tolist(), expected.tolist())
    basket_index = dispersion_index(sixes.tolist(), expected.tolist())
    assert poisson_index is not None and 1.0 <= poisson_index < 1.3
    assert basket_index is not None and 4.5 < basket_index < 7.5


def test_dispersion_index_needs_a_week_of_history() -> None:
    assert dispersion_index([3, 4, 5], [4, 4, 4]) is None
    assert dispersion_index([0] * 10, [0] * 10) is None
    with pytest.raises(ValueError, match="observed days"):
        dispersion_index([1, 2], [1])


# ---- the order-up-to policy --------------------------------------------------------------


def test_plan_by_hand_rounds_up_to_whole_packs() -> None:
    plan = plan_replenishment(
        "4006381333931",
        demand(20.0),
        StockPosition(on_hand=5, on_order=6, capacity=None),
        pack_size=6,
        service_level=0.95,
    )
    assert plan.z == pytest.approx(1.6449, abs=1e-4)
    assert plan.safety_stock == pytest.approx(1.6449 * 20**0.5, abs=1e-3)  # 7.36
    assert plan.order_up_to == pytest.approx(27.356, abs=1e-3)
    assert plan.position == 11
    assert plan.shortfall == 17
    assert (plan.packs, plan.units, plan.rounding.rounding_units) == (3, 18, 1)
    assert not plan.rounding.capped
    assert "short 17 -> 3 x 6 (+1 to whole packs)" in plan.reason


def test_safety_stock_covers_the_correction_period_when_a_quicker_supplier_can_step_in() -> None:
    # A slow supplier's 10 days of mean demand, but a next-day supplier can correct within
    # 2 days: the order-up-to level is the 10 days' mean + the 2 days' safety stock.
    slow = plan_replenishment(
        "4006381333931",
        DemandForecast(MONDAY, MONDAY + timedelta(days=10), 50.0, 50.0, 1.0),
        StockPosition(on_hand=10),
        safety_demand=DemandForecast(MONDAY, MONDAY + timedelta(days=2), 10.0, 10.0, 1.0),
    )
    assert slow.safety_stock == pytest.approx(1.6449 * 10**0.5, abs=1e-3)  # 5.20, not 11.63
    assert slow.order_up_to == pytest.approx(55.20, abs=0.01)
    assert slow.shortfall == 46
    assert "safety 5.2 over 2.0 d" in slow.reason
    alone = plan_replenishment(
        "4006381333931",
        DemandForecast(MONDAY, MONDAY + timedelta(days=10), 50.0, 50.0, 1.0),
        StockPosition(on_hand=10),
    )
    assert alone.safety_stock == pytest.approx(1.6449 * 50**0.5, abs=1e-3)
    assert alone.shortfall == 52
    assert " over 10.0 d (" not in alone.reason  # no second period named when there is one


def test_a_correction_period_longer_than_the_protection_never_raises_safety_stock() -> None:
    own = DemandForecast(MONDAY, MONDAY + timedelta(days=2), 10.0, 10.0, 1.0)
    longer = DemandForecast(MONDAY, MONDAY + timedelta(days=4), 20.0, 20.0, 1.0)
    plan = plan_replenishment("4006381333931", own, StockPosition(on_hand=0), safety_demand=longer)
    assert plan.safety_demand is own
    assert plan.safety_stock == pytest.approx(1.6449 * 10**0.5, abs=1e-3)


def test_plan_orders_nothing_above_the_reorder_point() -> None:
    plan = plan_replenishment("4006381333931", demand(20.0), StockPosition(on_hand=20, on_order=8))
    assert plan.position > plan.reorder_point
    assert (plan.shortfall, plan.units) == (0, 0)
    assert "enough until the next order" in plan.reason


def test_plan_is_capped_by_shelf_and_backroom_room() -> None:
    plan = plan_replenishment(
        "4006381333931",
        demand(20.0),
        StockPosition(on_hand=5, on_order=6, capacity=24),
        pack_size=6,
    )
    assert plan.shortfall == 17
    assert plan.rounding.room == 13
    assert (plan.packs, plan.units) == (2, 12)
    assert plan.rounding.capped
    assert "capped: room for 13" in plan.reason


def test_negative_stock_on_hand_counts_as_empty() -> None:
    plan = plan_replenishment("4006381333931", demand(10.0), StockPosition(on_hand=-4))
    assert plan.position == 0
    assert (
        plan.shortfall
        == plan_replenishment("4006381333931", demand(10.0), StockPosition(on_hand=0)).shortfall
    )


def test_more_variance_or_service_means_more_safety_stock() -> None:
    stock = StockPosition(on_hand=0)
    poisson = plan_replenishment("4006381333931", demand(30.0), stock)
    lumpy = plan_replenishment("4006381333931", demand(30.0, variance=120.0), stock)
    higher = plan_replenishment("4006381333931", demand(30.0), stock, service_level=0.99)
    assert poisson.safety_stock < lumpy.safety_stock
    assert poisson.safety_stock < higher.safety_stock
    assert service_z(0.5) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="service level"):
        service_z(1.0)


def test_round_to_packs_rules() -> None:
    assert round_to_packs(0, 6).packs == 0
    assert round_to_packs(7, 6).packs == 2
    assert round_to_packs(7, 6, room=11).packs == 1
    assert round_to_packs(7, 6, room=5).packs == 0
    assert round_to_packs(7, 6, room=-3).packs == 0
    with pytest.raises(ValueError, match="pack size"):
        round_to_packs(3, 0)


def test_round_to_packs_rounds_down_to_the_nearest_pack_within_the_slack() -> None:
    down = round_to_packs(14, 12, slack=2)
    assert (down.packs, down.rounded_down, down.to_buy, down.capped) == (1, 2, 12, False)
    assert round_to_packs(14, 12, slack=1).packs == 2  # 2 short is more than the slack
    assert round_to_packs(19, 12, slack=10).packs == 2  # 7 short is over half a pack
    nothing = round_to_packs(3, 12, slack=3)  # the safety stock covers all of it
    assert (nothing.packs, nothing.to_buy) == (0, 0)
    capped = round_to_packs(14, 12, room=5, slack=2)
    assert (capped.packs, capped.rounded_down, capped.capped) == (0, 0, True)
    fits = round_to_packs(14, 12, room=12, slack=2)  # a pack down fits: not capped
    assert (fits.packs, fits.rounded_down, fits.capped) == (1, 2, False)
    # Packs of 1 leave nothing over; of 2, one unit over is half a pack: up.
    assert (round_to_packs(7, 1, slack=5).packs, round_to_packs(7, 2, slack=5).packs) == (7, 4)


def test_plan_rounds_down_only_into_half_the_safety_stock() -> None:
    stock = StockPosition(on_hand=0)
    # Mean 40, safety 1.645 x sqrt(40) = 10.4: order up to 50.4, short 51 = 4 x 12 + 3.
    half = 0.5
    plan = plan_replenishment(
        "4006381333931", demand(40.0), stock, pack_size=12, round_down_share=half
    )
    assert (plan.shortfall, plan.packs, plan.rounding.rounded_down) == (51, 4, 3)
    assert plan.position + plan.units >= plan.demand.mean + plan.safety_stock / 2
    assert "3 left to the safety stock" in plan.reason
    by_default = plan_replenishment("4006381333931", demand(40.0), stock, pack_size=12)
    assert (by_default.packs, by_default.to_buy) == (5, 51)  # rounded up unless asked
    with pytest.raises(ValueError, match="round_down_share"):
        plan_replenishment("4006381333931", demand(40.0), stock, round_down_share=1.5)
    # Short 57 = 4 x 12 + 9: over half a pack, so up whatever the slack.
    assert (
        plan_replenishment(
            "4006381333931", demand(45.5), stock, pack_size=12, round_down_share=half
        ).packs
        == 5
    )


def test_order_up_to_meets_the_service_level_on_poisson_demand() -> None:
    """Truth known: demand over the protection period is Poisson with the forecast mean.
    Ordering up to mean + z sd must leave no stock-out in about `service level` of the
    cycles (rounding up to packs only helps)."""
    rng = np.random.default_rng(7)
    for mean, level in ((8.0, 0.90), (40.0, 0.95), (150.0, 0.98)):
        plan = plan_replenishment(
            "4006381333931", demand(mean), StockPosition(on_hand=0), service_level=level
        )
        cover = plan.position + plan.units
        served = float(np.mean(rng.poisson(mean, size=20_000) <= cover))
        assert served >= level - 0.01, (mean, level, served)
        # ...and not wildly more: the safety stock is sized, not padded.
        assert served <= level + 0.05, (mean, level, served)
