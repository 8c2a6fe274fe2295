"""Purchase-suggestion core, part 2: choosing suppliers. Hand-worked cases (consolidating
onto one supplier to save a fee, topping up to the free-delivery threshold only with stock
that sells fast, minimum orders, packs that do not fit), the order calendar, and random
small cases where the heuristic is checked against exhaustive search and the baseline."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from edge.layout import with_check_digit
from gateway.retail.supplier_choice import (
    CostModel,
    Need,
    Offer,
    PurchasePlan,
    SupplierTerms,
    choose_suppliers,
    correction_end,
    single_cheapest_plan,
)

G1 = with_check_digit("400638133393")
G2 = with_check_digit("500011200001")
G3 = with_check_digit("871234500001")
BERLIN = ZoneInfo("Europe/Berlin")
COSTLY_HOLDING = CostModel(holding_rate_per_day=0.01)


def suppliers(fee: float = 15.0, threshold: float | None = 200.0) -> list[SupplierTerms]:
    return [
        SupplierTerms("x", free_delivery_threshold=threshold, delivery_fee=fee),
        SupplierTerms("y", free_delivery_threshold=threshold, delivery_fee=fee),
    ]


def test_consolidating_on_one_supplier_saves_a_delivery_fee() -> None:
    offers = [
        Offer("x", G1, 6, 6.00),  # 1.00 a unit: x is cheapest for G1
        Offer("y", G1, 6, 6.30),
        Offer("x", G2, 6, 12.60),
        Offer("y", G2, 6, 12.00),  # 2.00 a unit: y is cheapest for G2
    ]
    needs = [Need(G1, 30, daily_demand=1.0), Need(G2, 30, daily_demand=1.0)]
    baseline = single_cheapest_plan(needs, offers, suppliers(), COSTLY_HOLDING)
    plan = choose_suppliers(needs, offers, suppliers(), COSTLY_HOLDING)
    # Baseline: 30.00 at x + 60.00 at y + two fees of 15.
    assert {o.supplier for o in baseline.orders} == {"x", "y"}
    assert baseline.cost == pytest.approx(120.0)
    # All at y: 31.50 + 60.00 + one fee.
    assert [o.supplier for o in plan.orders] == ["y"]
    assert plan.cost == pytest.approx(106.5)
    assert plan.method == "exact"
    assert plan.unmet_units == 0 and plan.unbought == ()
    assert plan.cash == pytest.approx(106.5)


def one_supplier_order(daily_demand: float) -> PurchasePlan:
    terms = [SupplierTerms("x", free_delivery_threshold=100.0, delivery_fee=10.0)]
    offers = [Offer("x", G1, 10, 10.0)]
    return choose_suppliers([Need(G1, 80, daily_demand)], offers, terms, COSTLY_HOLDING)


def test_tops_up_to_free_delivery_with_stock_that_sells_fast() -> None:
    plan = one_supplier_order(daily_demand=20.0)
    (order,) = plan.orders
    (line,) = order.lines
    assert order.topped_up_for == "free delivery"
    assert (line.packs, line.topup_packs, line.units) == (8, 2, 100)
    assert order.delivery_fee == 0
    # 20 extra units, the i-th held i/20 days longer, at 1 % a day of 1.00.
    assert line.holding_cost == pytest.approx(0.01 * sum(i / 20 for i in range(1, 21)))
    assert plan.cost == pytest.approx(80.0 + line.holding_cost)


def test_pays_the_fee_rather_than_stock_up_on_a_slow_seller() -> None:
    plan = one_supplier_order(daily_demand=0.2)
    (order,) = plan.orders
    (line,) = order.lines
    assert order.topped_up_for is None
    assert (line.packs, line.topup_packs) == (8, 0)
    assert order.delivery_fee == 10.0
    assert plan.cost == pytest.approx(90.0)


def test_top_up_prefers_the_faster_seller_even_one_not_needed_now() -> None:
    terms = [SupplierTerms("x", free_delivery_threshold=100.0, delivery_fee=10.0)]
    offers = [Offer("x", G1, 10, 10.0), Offer("x", G2, 10, 10.0)]
    needs = [Need(G1, 80, daily_demand=2.0), Need(G2, 0, daily_demand=30.0)]
    plan = choose_suppliers(needs, offers, terms, COSTLY_HOLDING)
    lines = plan.lines_by_gtin
    assert lines[G1].topup_packs == 0
    assert (lines[G2].shortfall, lines[G2].packs, lines[G2].topup_packs) == (0, 0, 2)
    assert plan.orders[0].delivery_fee == 0


def test_a_minimum_the_room_cannot_reach_moves_the_order_elsewhere() -> None:
    terms = [
        SupplierTerms("x", min_order_value=500.0),
        SupplierTerms("y"),
    ]
    offers = [Offer("x", G1, 10, 9.0), Offer("y", G1, 10, 10.0)]
    needs = [Need(G1, 80, daily_demand=10.0, room=100)]
    plan = choose_suppliers(needs, offers, terms)
    assert [o.supplier for o in plan.orders] == ["y"]
    assert plan.unmet_units == 0
    # The naive buyer picks x by unit price and cannot place the order.
    baseline = single_cheapest_plan(needs, offers, terms)
    assert baseline.orders == ()
    assert baseline.unbought == (G1,) and baseline.unmet_units == 80


def test_a_minimum_within_reach_is_topped_up() -> None:
    terms = [SupplierTerms("x", min_order_value=100.0)]
    offer = [Offer("x", G1, 10, 10.0)]
    plan = choose_suppliers([Need(G1, 40, daily_demand=20.0)], offer, terms)
    (order,) = plan.orders
    assert order.topped_up_for == "minimum"
    assert order.value == pytest.approx(100.0)
    # 60 units more of a SKU selling 10 a day would take 6 days to sell, beyond the
    # 5 days a top-up may hold: the minimum is out of reach, nothing can be ordered.
    slow = choose_suppliers([Need(G1, 40, daily_demand=10.0)], offer, terms)
    assert slow.orders == () and slow.unmet_units == 40


def test_packs_that_do_not_fit_the_room_go_to_the_supplier_with_smaller_ones() -> None:
    terms = [SupplierTerms("x"), SupplierTerms("y")]
    offers = [Offer("x", G1, 24, 20.0), Offer("y", G1, 6, 6.0)]
    plan = choose_suppliers([Need(G1, 9, daily_demand=3.0, room=14)], offers, terms)
    line = plan.lines_by_gtin[G1]
    assert (line.supplier, line.packs, line.units) == ("y", 2, 12)


def _brand_or_distributor(*, daily_demand: float, room: int, needed_now: int):
    """60 units wanted over the brand's week (packs of 24, 15 % cheaper, 3 days' lead)
    against the next-day distributor's `needed_now` (packs of 6)."""
    terms = [SupplierTerms("brand", lead_time_days=3), SupplierTerms("distributor")]
    offers = [Offer("brand", G1, 24, 20.4), Offer("distributor", G1, 6, 6.0)]
    need = Need(
        G1,
        60,
        daily_demand=daily_demand,
        room=room,
        units_by_supplier={"brand": 60, "distributor": needed_now},
    )
    return choose_suppliers([need], offers, terms)


def test_a_slower_cover_that_does_not_fit_brings_what_fits_when_that_lasts() -> None:
    """The brand (packs of 24, 15 % cheaper, weekly) would need 60 units over its week;
    48 fit. They more than cover the 8 units the next-day distributor needs now, so the
    brand's order is not short: it brings 48 and the distributor brings the rest later,
    at its price."""
    plan = _brand_or_distributor(daily_demand=6.0, room=50, needed_now=8)
    line = plan.lines_by_gtin[G1]
    assert (line.supplier, line.units, line.capped_units, line.unmet) == ("brand", 48, 12, 0)
    assert plan.unmet_units == 0 and plan.unbought == ()
    # The 12 units bought later cost the distributor's 1.00, not the brand's 0.85.
    assert line.window_value == pytest.approx(60 * 0.85 + 12 * 0.15)


def test_a_slower_cover_short_of_what_is_needed_now_loses_to_the_quick_supplier() -> None:
    """With room for one pack of 24 but 30 units needed before any other order could
    arrive, the brand's order would leave the shelf short: the distributor takes it."""
    plan = _brand_or_distributor(daily_demand=15.0, room=40, needed_now=30)
    line = plan.lines_by_gtin[G1]
    assert (line.supplier, line.units, line.unmet) == ("distributor", 30, 0)
    assert plan.unmet_units == 0


def test_nothing_fits_leaves_the_gtin_unbought() -> None:
    plan = choose_suppliers(
        [Need(G1, 9, daily_demand=3.0, room=4)], [Offer("x", G1, 6, 6.0)], [SupplierTerms("x")]
    )
    assert plan.orders == () and plan.unbought == (G1,) and plan.unmet_units == 9


def test_a_cheaper_slower_supplier_wins_over_the_common_window() -> None:
    """The quick supplier needs nothing today (stock lasts until its delivery tomorrow),
    the 8 % cheaper slow one needs 30 units: compared over the same 30 units of demand,
    the slow one is cheaper by far more than holding 30 units a few days longer costs."""
    terms = [SupplierTerms("fast", lead_time_days=1), SupplierTerms("slow", lead_time_days=3)]
    offers = [Offer("fast", G1, 1, 1.00), Offer("slow", G1, 1, 0.92)]
    need = Need(G1, 0, daily_demand=10.0, units_by_supplier={"fast": 0, "slow": 30})
    plan = choose_suppliers([need], offers, terms)
    line = plan.lines_by_gtin[G1]
    assert (line.supplier, line.units, line.extra_cover) == ("slow", 30, 30)
    # The i-th of the 30 units sits i/10 days longer, at 0.05 % a day of 0.92.
    assert line.cover_holding_cost == pytest.approx(
        0.92 * 0.0005 * sum(i / 10 for i in range(1, 31))
    )
    assert plan.cost == pytest.approx(30 * 0.92 + line.cover_holding_cost)
    assert plan.cash == pytest.approx(27.6)


def slow_cheap_case(costs: CostModel | None) -> PurchasePlan:
    """A slow seller (1 a day): the weekly supplier is 3 % cheaper but its order must hold
    30 days more stock than the quick supplier's."""
    terms = [SupplierTerms("fast", lead_time_days=1), SupplierTerms("slow", lead_time_days=7)]
    offers = [Offer("fast", G1, 1, 1.00), Offer("slow", G1, 1, 0.97)]
    need = Need(G1, 4, daily_demand=1.0, units_by_supplier={"fast": 4, "slow": 34})
    return choose_suppliers([need], offers, terms, costs)


def test_a_cheaper_slower_supplier_loses_when_the_extra_days_cost_more() -> None:
    # At 1 % a day the 30 extra units cost 0.97 x 0.01 x (1 + ... + 30) = 4.51 to hold,
    # more than the 34 x 0.03 = 1.02 the lower price saves over the window.
    plan = slow_cheap_case(COSTLY_HOLDING)
    line = plan.lines_by_gtin[G1]
    assert (line.supplier, line.units, line.extra_cover) == ("fast", 4, 0)
    assert plan.cost == pytest.approx(34 * 1.00)  # the window, all bought from fast
    assert plan.cash == pytest.approx(4.0)
    # At 0.05 % a day the same holding costs 0.23: now the cheaper price wins.
    cheap = slow_cheap_case(None).lines_by_gtin[G1]
    assert (cheap.supplier, cheap.units) == ("slow", 34)


def test_a_quick_suppliers_fee_counts_once_per_order_the_window_needs() -> None:
    """The quick supplier's 10-unit order pays a 5.00 fee, and covering the 40-unit window
    takes four such orders: 40 + 4 x 5 = 60 beats the 10 % dearer slow supplier's free
    44 only on today's order, not over the window."""
    terms = [
        SupplierTerms("fast", delivery_fee=5.0, lead_time_days=1),
        SupplierTerms("slow", lead_time_days=4),
    ]
    offers = [Offer("fast", G1, 1, 1.00), Offer("slow", G1, 1, 1.10)]
    need = Need(G1, 10, daily_demand=10.0, units_by_supplier={"fast": 10, "slow": 40})
    plan = choose_suppliers([need], offers, terms)
    (order,) = plan.orders
    assert order.supplier == "slow" and order.lines[0].units == 40
    fast_only = choose_suppliers([need], offers, terms[:1])
    assert fast_only.orders[0].delivery_fee == 5.0
    assert fast_only.orders[0].amortised_fee == pytest.approx(20.0)
    assert fast_only.cost == pytest.approx(60.0)


def test_correction_end_is_the_soonest_other_suppliers_order_after_today_arriving() -> None:
    wholesaler = SupplierTerms("w", lead_time_days=2, order_weekdays=frozenset({0, 2, 4}))
    distributor = SupplierTerms("d", lead_time_days=1, order_weekdays=frozenset(range(6)))
    monday = datetime(2024, 4, 1, 21, 0, tzinfo=BERLIN)
    # The wholesaler's next chance after Monday is Wednesday, arriving Friday.
    assert wholesaler.correction_end(monday, BERLIN) == datetime(2024, 4, 5, tzinfo=BERLIN)
    # The distributor's: Tuesday, arriving Wednesday; it sets the wholesaler's order's
    # correction period.
    both = [wholesaler, distributor]
    assert correction_end(both, monday, BERLIN, ordering="w") == datetime(2024, 4, 3, tzinfo=BERLIN)
    # The distributor's own order is corrected only by the wholesaler's, arriving Friday:
    # later than its own protection period, which then bounds its safety stock.
    assert correction_end(both, monday, BERLIN, ordering="d") == datetime(2024, 4, 5, tzinfo=BERLIN)
    assert distributor.protection_end(monday, BERLIN) == datetime(2024, 4, 3, tzinfo=BERLIN)
    # On Saturday the distributor's next chance is Monday: arriving Tuesday.
    saturday = datetime(2024, 4, 6, 21, 0, tzinfo=BERLIN)
    assert distributor.correction_end(saturday, BERLIN) == datetime(2024, 4, 9, tzinfo=BERLIN)
    # A supplier alone has no one to correct its order: None, its protection period.
    assert correction_end([wholesaler], monday, BERLIN, ordering="w") is None
    # On a day it takes no orders its first chance after today is the order itself
    # (Tuesday: Wednesday's order), so it never corrects its own order.
    tuesday = datetime(2024, 4, 2, 21, 0, tzinfo=BERLIN)
    assert wholesaler.correction_end(tuesday, BERLIN) < wholesaler.protection_end(tuesday, BERLIN)
    assert correction_end([wholesaler], tuesday, BERLIN, ordering="w") is None


def test_order_calendar_gives_the_protection_period() -> None:
    terms = SupplierTerms("x", lead_time_days=2, order_weekdays=frozenset({0, 3}))  # Mon, Thu
    tuesday = datetime(2024, 4, 2, 15, 0, tzinfo=BERLIN)
    assert terms.next_order_date(tuesday.date()) == date(2024, 4, 4)
    assert terms.delivery_date(tuesday, BERLIN) == date(2024, 4, 6)
    # Ordered Thursday; the next order goes out Monday 8th and arrives Wednesday 10th.
    assert terms.protection_end(tuesday, BERLIN) == datetime(2024, 4, 10, tzinfo=BERLIN)
    monday = datetime(2024, 4, 8, 9, 0, tzinfo=BERLIN)
    assert terms.next_order_date(monday.date()) == date(2024, 4, 8)
    assert terms.protection_end(monday, BERLIN) == datetime(2024, 4, 13, tzinfo=BERLIN)
    assert terms.fee_for(10.0) == 0.0  # no fee configured
    with pytest.raises(ValueError, match="no order weekdays"):
        SupplierTerms("z", order_weekdays=frozenset()).next_order_date(monday.date())


def random_case(
    rng: np.random.Generator, n_suppliers: int, n_gtins: int
) -> tuple[list[Need], list[Offer], list[SupplierTerms]]:
    gtins = [with_check_digit(f"40000000{i:04d}") for i in range(n_gtins)]
    terms = [
        SupplierTerms(
            f"s{k}",
            min_order_value=float(rng.choice([0, 0, 40, 80])),
            free_delivery_threshold=float(rng.choice([100, 150, 250])),
            delivery_fee=float(rng.choice([5, 10, 20])),
        )
        for k in range(n_suppliers)
    ]
    offers = []
    for gtin in gtins:
        base = float(rng.uniform(0.5, 4.0))
        for t in terms:
            if rng.random() < 0.8:
                pack = int(rng.choice([1, 4, 6, 12]))
                offers.append(
                    Offer(t.supplier, gtin, pack, round(pack * base * rng.uniform(0.9, 1.1), 2))
                )
    needs = [
        Need(
            g,
            int(rng.choice([0, 5, 12, 30])),
            daily_demand=float(rng.uniform(0.2, 8)),
            room=int(rng.choice([60, 200])),
        )
        for g in gtins
    ]
    return needs, offers, terms


def test_heuristic_against_exhaustive_search_on_small_cases() -> None:
    rng = np.random.default_rng(11)
    matched = 0
    cases = 40
    for _ in range(cases):
        needs, offers, terms = random_case(rng, n_suppliers=3, n_gtins=5)
        exact = choose_suppliers(needs, offers, terms)
        heuristic = choose_suppliers(needs, offers, terms, exact_limit=0)
        baseline = single_cheapest_plan(needs, offers, terms)
        assert exact.method == "exact" and heuristic.method == "heuristic"
        exact_score = (exact.unmet_units, round(exact.cost, 6))
        assert exact_score <= (heuristic.unmet_units, round(heuristic.cost, 6))
        assert (heuristic.unmet_units, round(heuristic.cost, 6)) <= (
            baseline.unmet_units,
            round(baseline.cost, 6),
        )
        if heuristic.cost <= exact.cost * 1.001 + 1e-9:
            matched += 1
    assert matched >= 0.85 * cases, matched


def test_heuristic_handles_a_store_sized_list() -> None:
    rng = np.random.default_rng(5)
    needs, offers, terms = random_case(rng, n_suppliers=4, n_gtins=60)
    plan = choose_suppliers(needs, offers, terms)
    baseline = single_cheapest_plan(needs, offers, terms)
    assert plan.method == "heuristic"
    assert (plan.unmet_units, plan.cost) <= (baseline.unmet_units, baseline.cost + 1e-9)
    for order in plan.orders:
        if order.terms.min_order_value:
            assert order.value >= order.terms.min_order_value - 1e-9
    for need in needs:
        line = plan.lines_by_gtin.get(need.gtin)
        if line is not None and need.room is not None:
            assert line.units <= need.room


def test_never_tops_up_with_stock_that_would_not_sell_within_the_horizon() -> None:
    """At 0.05 % a day holding is cheap, but 20 more units of a SKU selling 0.15 a day
    would sit for months: pay the fee instead."""
    terms = [SupplierTerms("x", free_delivery_threshold=100.0, delivery_fee=10.0)]
    slow = choose_suppliers([Need(G1, 80, 0.15)], [Offer("x", G1, 10, 10.0)], terms)
    fast = choose_suppliers([Need(G1, 80, 5.0)], [Offer("x", G1, 10, 10.0)], terms)
    assert slow.orders[0].topped_up_for is None and slow.orders[0].delivery_fee == 10.0
    assert fast.orders[0].topped_up_for == "free delivery"


def test_top_up_takes_the_seller_that_would_be_reordered_soonest() -> None:
    """Two SKUs need nothing now and sell alike; one already holds 20 units above its
    order-up-to level, so a pack of it would sit those days longer: top up the other."""
    terms = [SupplierTerms("x", free_delivery_threshold=100.0, delivery_fee=10.0)]
    offers = [Offer("x", G1, 10, 10.0), Offer("x", G2, 10, 10.0), Offer("x", G3, 10, 10.0)]
    needs = [
        Need(G1, 80, daily_demand=0.5),
        Need(G2, 0, daily_demand=5.0, spare_by_supplier={"x": 20}),
        Need(G3, 0, daily_demand=5.0, spare_by_supplier={"x": -4}),
    ]
    lines = choose_suppliers(needs, offers, terms, COSTLY_HOLDING).lines_by_gtin
    assert G2 not in lines
    assert lines[G3].topup_packs == 2
    # The second pack's units are the 11th to 20th beyond the order-up-to level.
    assert lines[G3].holding_cost == pytest.approx(0.01 * sum(i / 5 for i in range(1, 21)))


def test_a_top_up_counts_what_is_already_held_beyond_the_horizon() -> None:
    """A pack that would sell within five days alone does not, after 20 spare units."""
    terms = [SupplierTerms("x", free_delivery_threshold=100.0, delivery_fee=10.0)]
    offers = [Offer("x", G1, 10, 10.0), Offer("x", G2, 10, 10.0)]
    fresh = [Need(G1, 80, 0.1), Need(G2, 0, 5.0)]
    held = [Need(G1, 80, 0.1), Need(G2, 0, 5.0, spare_by_supplier={"x": 20})]
    assert choose_suppliers(fresh, offers, terms).orders[0].topped_up_for == "free delivery"
    assert choose_suppliers(held, offers, terms).orders[0].topped_up_for is None
