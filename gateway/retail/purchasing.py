"""The store's purchase suggestion: what to order, from whom, and why.

Wires the store's data to the pure core:
1. the GTINs some supplier lists (`suppliers`), their velocity profiles (`velocity`),
   and the dispersion of their daily sales (`demand_forecast.dispersion_index`);
2. stock on hand (`stock`), on order (`purchase_orders`), capacity = the layouts' shelf
   capacity (`shelf_stock`, facings x depth) + the backroom capacity the last count gave
   (no cap when the backroom is not known);
3. per GTIN and supplier (`supplier_needs`), the order-up-to shortfall over that
   supplier's protection period (now until its next-but-one delivery, from lead time
   and order days), with the safety stock over the correction period (until the
   quickest of the GTIN's other suppliers could bring an order placed after today;
   `replenishment` says why), in whole packs of that supplier (rounded up, or down where
   `round_down_share` lets the safety stock absorb it);
4. the cheapest way to buy them (`supplier_choice.choose_suppliers`) beside the
   single-cheapest-supplier baseline, whose cost difference is the saving shown.
Every line carries its evidence (`why`), and so does each supplier's order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from gateway.retail import catalogue
from gateway.retail.demand_forecast import dispersion_index
from gateway.retail.purchase_orders import DraftLine, DraftOrder, on_order_units
from gateway.retail.replenishment import (
    DEFAULT_ROUND_DOWN_SHARE,
    DEFAULT_SERVICE_LEVEL,
    ReplenishmentPlan,
    StockPosition,
)
from gateway.retail.shelf_stock import shelf_views
from gateway.retail.stock import stock_on_hand
from gateway.retail.supplier_choice import (
    CostModel,
    Need,
    PlannedLine,
    PurchasePlan,
    SupplierOrder,
    choose_suppliers,
    single_cheapest_plan,
)
from gateway.retail.supplier_needs import Listing, need_of, plans_by_supplier
from gateway.retail.suppliers import offers, order_days_text, supplier_terms
from gateway.retail.velocity import VelocityProfile
from gateway.retail.velocity_queries import velocity_profiles
from gateway.storage.connection import Database

PLAN_FIELDS = (
    "cost",
    "baseline_cost",
    "saving",
    "saving_pct",
    "method",
    "service_level",
    "round_down_share",
)


@dataclass(frozen=True)
class Suggestion:
    """The suggestion as the API and the page show it."""

    store: str
    generated_at: datetime
    service_level: float
    round_down_share: float
    orders: list[dict[str, Any]]
    unbought: list[dict[str, Any]]
    cost: float
    cash: float
    baseline_cost: float
    baseline_cash: float
    method: str
    skus_checked: int

    @property
    def saving(self) -> float:
        return self.baseline_cost - self.cost

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "generated_at": self.generated_at.isoformat(),
            "service_level": self.service_level,
            "round_down_share": self.round_down_share,
            "skus_checked": self.skus_checked,
            "method": self.method,
            "cost": round(self.cost, 2),
            "cash": round(self.cash, 2),
            "baseline_cost": round(self.baseline_cost, 2),
            "baseline_cash": round(self.baseline_cash, 2),
            "saving": round(self.saving, 2),
            "saving_pct": round(100 * self.saving / self.baseline_cost, 1)
            if self.baseline_cost
            else 0.0,
            "orders": self.orders,
            "unbought": self.unbought,
        }

    def drafts(self) -> list[DraftOrder]:
        """The suggestion as draft purchase orders (each remembers the whole plan's cost
        and saving)."""
        summary = self.as_dict()
        return [
            DraftOrder(
                supplier=o["supplier"],
                delivery_fee=f"{o['delivery_fee']:.2f}",
                expected_on=date.fromisoformat(o["expected_on"]) if o["expected_on"] else None,
                lines=[
                    DraftLine(
                        gtin=x["gtin"],
                        pack_size=x["pack_size"],
                        pack_price=x["pack_price"],
                        packs=x["packs"],
                        why=x["why"],
                    )
                    for x in o["lines"]
                ],
                why={
                    **{k: o[k] for k in ("topped_up_for", "terms", "value", "delivery_fee")},
                    "plan": {k: summary[k] for k in PLAN_FIELDS},
                },
            )
            for o in self.orders
        ]


def _daily_units(
    db: Database, store: str, gtin: str, profile: VelocityProfile, tz: ZoneInfo
) -> tuple[list[float], list[float]]:
    """Units sold per local day of the profile's window, and what the rates expected."""
    start = profile.window_start
    days = profile.days
    if days <= 0:
        return [], []
    begin = datetime.combine(start, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(profile.window_end, time(0), tzinfo=tz).astimezone(UTC)
    with db.read() as conn:
        rows = conn.execute(
            "SELECT substr(ts, 1, 16) AS minute, sum(quantity) FROM sales WHERE store = ?"
            " AND sku = ? AND ts >= ? AND ts < ? AND quantity > 0 AND flag IS NULL"
            " GROUP BY minute",
            (store, gtin, begin.isoformat(), end.isoformat()),
        ).fetchall()
    observed = [0.0] * days
    for minute, units in rows:
        local = datetime.fromisoformat(minute + ":00+00:00").astimezone(tz).date()
        index = (local - start).days
        if 0 <= index < days:
            observed[index] += float(units)
    return observed, profile.expected_per_day()


def _why(
    plan: ReplenishmentPlan,
    line: PlannedLine,
    *,
    basis: str,
    shelf: int | None,
    backroom: int | None,
    cheapest: tuple[str, float] | None,
) -> dict[str, Any]:
    d = plan.demand
    rounding = line.units - line.shortfall
    return {
        "forecast": round(d.mean, 1),
        "forecast_days": round(d.days, 1),
        "demand_sd": round(d.sd, 2),
        "dispersion": round(d.dispersion, 2),
        "safety_stock": round(plan.safety_stock, 1),
        "safety_days": round(plan.safety_demand.days, 1),
        "order_up_to": round(plan.order_up_to, 1),
        "on_hand": plan.stock.on_hand,
        "stock_basis": basis,
        "on_order": plan.stock.on_order,
        "capacity": plan.stock.capacity,
        "shelf_capacity": shelf,
        "backroom_capacity": backroom,
        "room": plan.rounding.room,
        "shortfall": plan.shortfall,
        "rounded_down": plan.rounding.rounded_down,
        "pack_rounding": max(0, rounding - line.topup_packs * line.pack_size),
        "topup_units": line.topup_packs * line.pack_size,
        "capped": line.capped_units > 0,
        "unit_price": round(line.unit_price, 4),
        "cheapest_supplier": cheapest[0] if cheapest else None,
        "cheapest_unit_price": round(cheapest[1], 4) if cheapest else None,
    }


def _order_out(
    order: SupplierOrder,
    plans: dict[tuple[str, str], ReplenishmentPlan],
    extras: dict[str, dict[str, Any]],
    names: dict[str, tuple[str | None, str | None]],
    expected_on: date,
) -> dict[str, Any]:
    lines = []
    for line in order.lines:
        plan = plans[(line.gtin, order.supplier)]
        lines.append(
            {
                "gtin": line.gtin,
                "name": names.get(line.gtin, (None, None))[0],
                "packs": line.total_packs,
                "pack_size": line.pack_size,
                "units": line.units,
                "pack_price": f"{line.pack_price:.2f}",
                "value": round(line.value, 2),
                "why": _why(plan, line, **extras[line.gtin]),
            }
        )
    t = order.terms
    return {
        "supplier": order.supplier,
        "expected_on": expected_on.isoformat(),
        "value": round(order.value, 2),
        "delivery_fee": round(order.delivery_fee, 2),
        "topped_up_for": order.topped_up_for,
        "terms": {
            "min_order_value": t.min_order_value,
            "free_delivery_threshold": t.free_delivery_threshold,
            "delivery_fee": t.delivery_fee,
            "lead_time_days": t.lead_time_days,
            "order_days": order_days_text(t.order_weekdays),
        },
        "lines": lines,
    }


def suggest(
    db: Database,
    store: str,
    *,
    tz: ZoneInfo,
    now: datetime | None = None,
    service_level: float = DEFAULT_SERVICE_LEVEL,
    round_down_share: float = DEFAULT_ROUND_DOWN_SHARE,
    costs: CostModel | None = None,
    gtins: Iterable[str] | None = None,
) -> Suggestion:
    """The purchase suggestion of `store` at `now` (the module doc says how)."""
    now = now or datetime.now(UTC)
    terms = {t.supplier: t for t in supplier_terms(db)}
    listed = offers(db, gtins)
    wanted = sorted({o.gtin for o in listed})
    profiles = velocity_profiles(db, store, wanted, tz=tz, now=now)
    stock = stock_on_hand(db, store, wanted)
    on_order = on_order_units(db, store)
    shelves = shelf_views(db, store)
    cheapest: dict[str, tuple[str, float]] = {}
    for o in listed:
        if o.gtin not in cheapest or o.unit_price < cheapest[o.gtin][1]:
            cheapest[o.gtin] = (o.supplier, o.unit_price)
    plans: dict[tuple[str, str], ReplenishmentPlan] = {}
    needs: list[Need] = []
    extras: dict[str, dict[str, Any]] = {}
    by_gtin: dict[str, list[Any]] = defaultdict(list)
    for o in listed:
        by_gtin[o.gtin].append(o)
    for gtin in wanted:
        profile = profiles[gtin]
        observed, expected = _daily_units(db, store, gtin, profile, tz)
        dispersion = dispersion_index(observed, expected) if observed else None
        held = stock[gtin]
        shelf = shelves[gtin].capacity if gtin in shelves else None
        backroom = held.backroom_capacity
        capacity = shelf + backroom if shelf is not None and backroom is not None else None
        position = StockPosition(
            on_hand=held.on_hand or 0, on_order=on_order.get(gtin, 0), capacity=capacity
        )
        listings = [
            Listing(terms[o.supplier], o.pack_size) for o in by_gtin[gtin] if o.supplier in terms
        ]
        if not listings:
            continue
        by_supplier = plans_by_supplier(
            profile,
            position,
            listings,
            now=now,
            tz=tz,
            dispersion=dispersion,
            service_level=service_level,
            round_down_share=round_down_share,
        )
        plans.update({(gtin, supplier): plan for supplier, plan in by_supplier.items()})
        needs.append(need_of(profile, position, by_supplier))
        extras[gtin] = {
            "basis": held.basis,
            "shelf": shelf,
            "backroom": backroom,
            "cheapest": cheapest.get(gtin),
        }
    plan = choose_suppliers(needs, listed, terms.values(), costs)
    baseline = single_cheapest_plan(needs, listed, terms.values(), costs)
    names = catalogue.names(db, wanted)
    orders = [
        _order_out(o, plans, extras, names, terms[o.supplier].delivery_date(now, tz))
        for o in plan.orders
    ]
    return Suggestion(
        store=store,
        generated_at=now,
        service_level=service_level,
        round_down_share=round_down_share,
        orders=orders,
        unbought=_unbought(plan, needs, names),
        cost=plan.cost,
        cash=plan.cash,
        baseline_cost=baseline.cost,
        baseline_cash=baseline.cash,
        method=plan.method,
        skus_checked=len(needs),
    )


def _unbought(
    plan: PurchasePlan, needs: list[Need], names: dict[str, tuple[str | None, str | None]]
) -> list[dict[str, Any]]:
    units = {n.gtin: n.units for n in needs}
    return [
        {
            "gtin": g,
            "name": names.get(g, (None, None))[0],
            "units": units.get(g, 0),
            "why": "no supplier's packs fit the room left, or no order can reach its minimum",
        }
        for g in plan.unbought
    ]
