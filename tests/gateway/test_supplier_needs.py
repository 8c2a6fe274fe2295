"""Purchase-suggestion core, between the two parts: one SKU's plan per supplier and the
need supplier choice buys, the step the store's suggestion and the buying simulation
share."""

from __future__ import annotations

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from gateway.retail.replenishment import StockPosition
from gateway.retail.supplier_choice import SupplierTerms
from gateway.retail.supplier_needs import Listing, need_of, plans_by_supplier
from gateway.retail.velocity import VelocityProfile

BERLIN = ZoneInfo("Europe/Berlin")
GTIN = "4006381333931"
TUESDAY_EVENING = datetime(2024, 4, 2, 21, 0, tzinfo=BERLIN)
DISTRIBUTOR = Listing(SupplierTerms("distributor", lead_time_days=1), pack_size=6)
WHOLESALER = Listing(
    SupplierTerms("wholesale", lead_time_days=2, order_weekdays=frozenset({0, 2, 4})),
    pack_size=12,
)


def profile(units_a_day: float = 12.0) -> VelocityProfile:
    rates = np.zeros((7, 24))
    rates[:, 8:20] = units_a_day / 12
    return VelocityProfile(
        store="s",
        sku=GTIN,
        timezone="Europe/Berlin",
        window_start=date(2024, 3, 1),
        window_end=date(2024, 3, 29),
        units=100,
        store_units=1000,
        rates=rates,
    )


def test_each_supplier_plans_its_own_protection_period_and_packs() -> None:
    stock = StockPosition(on_hand=10, capacity=200)
    plans = plans_by_supplier(
        profile(), stock, [DISTRIBUTOR, WHOLESALER], now=TUESDAY_EVENING, tz=BERLIN
    )
    # Distributor: Wednesday's order arrives Thursday, so it covers Wednesday (12 units).
    # Wholesaler: Wednesday's order arrives Friday, the next (Friday's) on Sunday.
    assert plans["distributor"].demand.mean == pytest.approx(12.0)
    assert plans["wholesale"].demand.mean == pytest.approx(4 * 12.0)
    assert plans["wholesale"].rounding.pack_size == 12
    # The wholesaler's safety stock covers only until the distributor could correct it.
    assert plans["wholesale"].safety_demand.days < plans["wholesale"].demand.days


def test_the_need_is_short_by_the_quickest_cover_and_knows_the_room() -> None:
    stock = StockPosition(on_hand=10, on_order=5, capacity=100)
    plans = plans_by_supplier(
        profile(), stock, [DISTRIBUTOR, WHOLESALER], now=TUESDAY_EVENING, tz=BERLIN
    )
    need = need_of(profile(), stock, plans)
    assert need.units_by_supplier == {s: p.to_buy for s, p in plans.items()}
    assert need.units == min(p.to_buy for p in plans.values()) == plans["distributor"].to_buy
    assert need.room == 100 - 15
    assert need.daily_demand == profile().daily_rate


def test_stock_above_a_suppliers_level_is_spare_for_its_top_ups() -> None:
    stock = StockPosition(on_hand=60, capacity=100)
    plans = plans_by_supplier(
        profile(), stock, [DISTRIBUTOR, WHOLESALER], now=TUESDAY_EVENING, tz=BERLIN
    )
    need = need_of(profile(), stock, plans)
    assert need.units == 0
    assert need.spare_for("distributor") == math.floor(60 - plans["distributor"].order_up_to) > 0
    assert need.spare_for("wholesale") == max(0, math.floor(60 - plans["wholesale"].order_up_to))
    assert need.spare_for("distributor") > need.spare_for("wholesale")


def test_only_the_suppliers_ordered_from_are_planned_but_all_may_correct() -> None:
    stock = StockPosition(on_hand=10)
    both = plans_by_supplier(
        profile(), stock, [DISTRIBUTOR, WHOLESALER], now=TUESDAY_EVENING, tz=BERLIN
    )
    alone = plans_by_supplier(profile(), stock, [WHOLESALER], now=TUESDAY_EVENING, tz=BERLIN)
    only = plans_by_supplier(
        profile(),
        stock,
        [DISTRIBUTOR, WHOLESALER],
        now=TUESDAY_EVENING,
        tz=BERLIN,
        ordering=["wholesale"],
    )
    assert set(only) == {"wholesale"}
    # The distributor, not ordered from now, still shortens the wholesaler's safety period.
    assert only["wholesale"].safety_stock == pytest.approx(both["wholesale"].safety_stock)
    assert only["wholesale"].safety_stock < alone["wholesale"].safety_stock
