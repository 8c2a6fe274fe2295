"""One GTIN's shortfall per supplier, and the need supplier choice buys from them.

The step between `replenishment` (how many units, for one supplier's protection period)
and `supplier_choice` (from whom): every supplier that lists the GTIN gets its own
order-up-to plan, over its own protection period (`SupplierTerms.protection_end`), with
the safety stock over the correction period of the GTIN's quickest *other* supplier
(`supplier_choice.correction_end`; `replenishment` says why), in its own packs. The
store's purchase suggestion (`purchasing`) and the buying simulation's "suggestions
followed" policy both call it, so the simulation measures the product's own rule.

Pure computation: a velocity profile, a stock position and terms in; plans and a `Need` out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.retail.replenishment import (
    DEFAULT_ROUND_DOWN_SHARE,
    DEFAULT_SERVICE_LEVEL,
    ReplenishmentPlan,
    StockPosition,
    plan_replenishment,
)
from gateway.retail.supplier_choice import Need, SupplierTerms, correction_end
from gateway.retail.velocity import VelocityProfile


@dataclass(frozen=True)
class Listing:
    """One supplier's listing of the GTIN: its terms and its pack size."""

    terms: SupplierTerms
    pack_size: int

    @property
    def supplier(self) -> str:
        return self.terms.supplier


def plans_by_supplier(
    profile: VelocityProfile,
    position: StockPosition,
    listings: Iterable[Listing],
    *,
    now: datetime,
    tz: ZoneInfo,
    dispersion: float | None = None,
    ordering: Iterable[str] | None = None,
    service_level: float = DEFAULT_SERVICE_LEVEL,
    round_down_share: float = DEFAULT_ROUND_DOWN_SHARE,
) -> dict[str, ReplenishmentPlan]:
    """The order-up-to plan of each supplier in `ordering` (default: every listing) that
    lists the GTIN. `listings` are all the GTIN's suppliers, also those not ordered from
    now: any of them may correct a shortfall later."""
    listings = list(listings)
    terms = [listing.terms for listing in listings]
    chosen = None if ordering is None else set(ordering)
    plans = {}
    for listing in listings:
        if chosen is not None and listing.supplier not in chosen:
            continue
        end = listing.terms.protection_end(now, tz)
        corrected = correction_end(terms, now, tz, ordering=listing.supplier)
        safety = profile.forecast(now, corrected, dispersion=dispersion) if corrected else None
        plans[listing.supplier] = plan_replenishment(
            profile.sku,
            profile.forecast(now, end, dispersion=dispersion),
            position,
            pack_size=listing.pack_size,
            service_level=service_level,
            safety_demand=safety,
            round_down_share=round_down_share,
        )
    return plans


def need_of(
    profile: VelocityProfile, position: StockPosition, plans: Mapping[str, ReplenishmentPlan]
) -> Need:
    """What supplier choice buys: each supplier's units to bring (`to_buy`), the quickest
    cover (the smallest) as the units short if nothing is bought, the SKU's daily rate for
    holding costs, and the room left in shelf + backroom (None: capacity unknown)."""
    by_supplier = {supplier: plan.to_buy for supplier, plan in plans.items()}
    return Need(
        profile.sku,
        min(by_supplier.values(), default=0),
        daily_demand=profile.daily_rate,
        room=position.room,
        units_by_supplier=by_supplier,
        spare_by_supplier={
            supplier: math.floor(position.held - plan.order_up_to)
            for supplier, plan in plans.items()
        },
    )
