"""The demo store's buying data, so its purchase list has orders from the first minute.

A store's purchase list needs suppliers with price lists, a stock count (and the
backroom's capacity) and receipts; the demo has none of them from a till. This seeds,
through the imports a store uses (`suppliers.store_prices`, `stock.store_counts`,
`stock.store_receipts`), two suppliers for every product on the demo shelves (a cheaper
wholesaler in packs of 12 with a minimum order, three days a week; a local distributor
in packs of 6, every weekday but Sunday), a count just before the demo starts (what the
shelves hold, and a backroom half full: it holds twice the shelf), and a delivery of one
distributor pack after it. Then it saves the purchase suggestion as draft orders
(`purchasing.suggest`, `purchase_orders.replace_drafts`), what the store manager's
"make a suggestion" does, so the store page lists them.

The till sells in compressed time (an hour a minute by default), so the velocity model
expects far more than shelf and backroom hold: the suggestion's lines are capped by the
room left, and say so in their "why".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.devtools.demo_till import TillShelf
from gateway.retail import purchase_orders, purchasing, stock, suppliers
from gateway.storage.connection import Database

SUPPLIERS: dict[str, dict[str, Any]] = {
    "Demo wholesaler": {
        "pack_size": 12,
        "cost_share": 0.60,
        "min_order_value": "150.00",
        "free_delivery_threshold": "400.00",
        "delivery_fee": "25.00",
        "lead_time_days": 2,
        "order_days": "Mon,Wed,Fri",
    },
    "Demo distributor": {
        "pack_size": 6,
        "cost_share": 0.66,
        "min_order_value": "0.00",
        "free_delivery_threshold": "120.00",
        "delivery_fee": "9.00",
        "lead_time_days": 1,
        "order_days": "Mon,Tue,Wed,Thu,Fri,Sat",
    },
}
"""Terms and the share of the selling price each charges a unit."""
COUNTED_BEFORE = timedelta(minutes=10)
DELIVERED_BEFORE = timedelta(minutes=5)
BACKROOM_SHELVES = 2
"""The backroom holds this many times a GTIN's shelf capacity; the count finds it half full."""
DELIVERED_PACKS = 1
BY = "demo"


@dataclass(frozen=True)
class PurchasingSeed:
    """What was seeded, for the banner and tests."""

    price_lines: int
    counts: int
    receipts: int
    draft_orders: dict[str, list[int]]
    """Store -> ids of its draft purchase orders."""


def price_list(products: dict[str, float]) -> list[dict[str, Any]]:
    """Both suppliers' lines for these products (GTIN -> selling price)."""
    lines = []
    for supplier, terms in SUPPLIERS.items():
        pack, share = terms["pack_size"], terms["cost_share"]
        for gtin, price in sorted(products.items()):
            lines.append(
                {
                    "supplier": supplier,
                    "gtin": gtin,
                    "pack_price": f"{price * share * pack:.2f}",
                    **{k: v for k, v in terms.items() if k != "cost_share"},
                }
            )
    return lines


def _shelf_stock(shelves: Sequence[TillShelf]) -> dict[str, dict[str, tuple[int, int]]]:
    """Store -> GTIN -> (units on its shelves now, their capacity)."""
    held: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for entry in shelves:
        for slot in entry.shelf.slots.values():
            units, capacity = held[entry.store].get(slot.product.gtin, (0, 0))
            held[entry.store][slot.product.gtin] = (units + slot.units, capacity + slot.capacity)
    return held


def seed_purchasing(
    db: Database,
    shelves: Sequence[TillShelf],
    now: datetime,
    *,
    tz: ZoneInfo,
) -> PurchasingSeed:
    """Suppliers, a count, a receipt per GTIN and each store's draft orders (module doc)."""
    products = {
        slot.product.gtin: slot.product.price for e in shelves for slot in e.shelf.slots.values()
    }
    good, errors = suppliers.parse_prices(price_list(products))
    prices = suppliers.store_prices(db, good, errors)
    counted_at, delivered_at = now - COUNTED_BEFORE, now - DELIVERED_BEFORE
    distributor = "Demo distributor"
    pack = SUPPLIERS[distributor]["pack_size"]
    counts, receipts = [], []
    for store, by_gtin in sorted(_shelf_stock(shelves).items()):
        for gtin, (units, capacity) in sorted(by_gtin.items()):
            backroom = BACKROOM_SHELVES * capacity
            counts.append(
                {
                    "store": store,
                    "gtin": gtin,
                    "time": counted_at.isoformat(),
                    "quantity": units + backroom // 2,
                    "backroom_capacity": backroom,
                }
            )
            receipts.append(
                {
                    "store": store,
                    "gtin": gtin,
                    "time": delivered_at.isoformat(),
                    "quantity": DELIVERED_PACKS * pack,
                    "supplier": distributor,
                    "id": f"demo-delivery-{store}-{gtin}",
                }
            )
    counted = stock.store_counts(db, *stock.parse_counts(counts), tz=tz, by=BY, source="demo")
    received = stock.store_receipts(
        db, *stock.parse_receipts(receipts), tz=tz, by=BY, source="demo"
    )
    rejected = prices.rejected_lines + counted.rejected_lines + received.rejected_lines
    if rejected:
        raise ValueError(f"the demo's own buying data has {rejected} rejected lines")
    drafts = {
        store: purchase_orders.replace_drafts(
            db, store, purchasing.suggest(db, store, tz=tz, now=now).drafts(), by=BY
        )
        for store in sorted({e.store for e in shelves})
    }
    return PurchasingSeed(
        price_lines=prices.accepted,
        counts=counted.accepted,
        receipts=received.accepted,
        draft_orders=drafts,
    )
