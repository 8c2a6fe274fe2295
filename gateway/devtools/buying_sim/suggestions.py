"""The "suggestions followed" policy: the store's purchase suggestion, ordered as suggested.

A thin adapter, no buying logic of its own: each evening, for the suppliers that take
orders that day, it hands the store gateway's purchase-suggestion core what a store
gateway would (each stocked SKU's velocity profile from the sales so far, its stock on
hand, on order and shelf + backroom capacity, the suppliers' price lists and terms) and
orders exactly the packs the core's plan says:

- `supplier_needs.plans_by_supplier` per SKU and supplier taking orders today: the
  order-up-to shortfall over that supplier's protection period, from the velocity
  model's forecast (with the history's dispersion), its safety stock over the correction
  period of the SKU's quickest other supplier (whether or not it takes orders today),
  in that supplier's packs (`--round-down-share` lets it round down to the nearest one),
  and `supplier_needs.need_of`, the store's own need;
- `supplier_choice.choose_suppliers` (or, for the cost baseline,
  `supplier_choice.single_cheapest_plan`) for the cheapest way to buy those shortfalls.
"""

from __future__ import annotations

from gateway.devtools.buying_sim.inventory import OrderLine, StoreView
from gateway.devtools.buying_sim.velocity_adapter import (
    TZ,
    at_close,
    dispersion,
    store_profiles,
)
from gateway.devtools.buying_sim.world import Supplier, World
from gateway.retail.replenishment import (
    DEFAULT_ROUND_DOWN_SHARE,
    DEFAULT_SERVICE_LEVEL,
    StockPosition,
)
from gateway.retail.supplier_choice import (
    Need,
    Offer,
    PurchasePlan,
    SupplierTerms,
    choose_suppliers,
    single_cheapest_plan,
)
from gateway.retail.supplier_needs import Listing, need_of, plans_by_supplier


def supplier_terms(supplier: Supplier) -> SupplierTerms:
    return SupplierTerms(
        supplier=supplier.id,
        min_order_value=supplier.min_order_value,
        free_delivery_threshold=supplier.free_delivery_threshold,
        delivery_fee=supplier.delivery_fee,
        lead_time_days=supplier.lead_time_days,
        order_weekdays=frozenset(supplier.order_weekdays),
    )


def price_list(world: World, suppliers: list[Supplier]) -> list[Offer]:
    return [
        Offer(
            supplier=s.id, gtin=world.skus[k].gtin, pack_size=o.pack_size, pack_price=o.pack_price
        )
        for s in suppliers
        for k, o in s.offers.items()
    ]


class SuggestionsFollowed:
    """Orders what the purchase-suggestion core plans; `single_cheapest` swaps the
    supplier choice for the core's single-cheapest-supplier baseline."""

    def __init__(
        self,
        world: World,
        *,
        single_cheapest: bool = False,
        service_level: float = DEFAULT_SERVICE_LEVEL,
        round_down_share: float = DEFAULT_ROUND_DOWN_SHARE,
    ) -> None:
        self.world = world
        self.single_cheapest = single_cheapest
        self.service_level = service_level
        self.round_down_share = round_down_share
        self.name = "suggestions_single_cheapest" if single_cheapest else "suggestions_followed"
        self._gtin_index = {sku.gtin: k for k, sku in enumerate(world.skus)}

    def orders(self, view: StoreView) -> list[OrderLine]:
        today = self.world.day(view.day)
        open_today = [s for s in self.world.suppliers if s.orders_on(today)]
        if not open_today:
            return []
        needs = self.needs(view, open_today)
        if not any(n.units > 0 for n in needs):
            return []
        terms = [supplier_terms(s) for s in open_today]
        offers = price_list(self.world, open_today)
        choose = single_cheapest_plan if self.single_cheapest else choose_suppliers
        return self._lines(choose(needs, offers, terms))

    def needs(self, view: StoreView, suppliers: list[Supplier]) -> list[Need]:
        """Each stocked SKU's shortfall per supplier taking orders today (its own
        protection period), as the store's purchase suggestion computes it."""
        world = self.world
        now = at_close(world, view.day)
        profiles = store_profiles(world, view.store, view.sales, view.day)
        daily = view.sales.sum(axis=1)  # (days, skus)
        ordering = {s.id for s in suppliers}
        out = []
        for k, profile in profiles.items():
            stock = StockPosition(
                on_hand=int(view.on_hand[k]),
                on_order=int(view.on_order[k]),
                capacity=int(world.capacity[view.store, k]),
            )
            listings = [
                Listing(supplier_terms(s), s.offers[k].pack_size)
                for s in world.suppliers
                if k in s.offers
            ]
            plans = plans_by_supplier(
                profile,
                stock,
                listings,
                now=now,
                tz=TZ,
                dispersion=dispersion(profile, daily[-profile.days :, k]),
                ordering=ordering,
                service_level=self.service_level,
                round_down_share=self.round_down_share,
            )
            out.append(need_of(profile, stock, plans))
        return out

    def _lines(self, plan: PurchasePlan) -> list[OrderLine]:
        return [
            OrderLine(
                sku=self._gtin_index[line.gtin], supplier=order.supplier, packs=line.total_packs
            )
            for order in plan.orders
            for line in order.lines
        ]
