"""The demo store's till: what the simulated shelves sell becomes POS sale lines.

Each simulated shelf records its sales (`drain_sales()`); this till turns them into
sale lines for their GTINs and stores them with `pos.store_lines`, the function behind
`POST /api/pos/sales`, so the gateway hears of them (velocity, advice, InfluxDB) as it
would from a real till. Simulated time runs `speedup` times faster than the wall clock
and the cameras report in wall-clock time, so a sale is dated in wall-clock time too
(`at_s` measured back from the shelf's clock), and demand per wall-clock hour is
`units_per_hour x speedup`.

Velocity uses complete past days only, so the till first writes `history_days` of
hourly lines at those rates: the advice has a sales basis from the first minute.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from gateway.config.settings import AdviceSettings
from gateway.retail import catalogue, pos
from gateway.storage.connection import Database

log = logging.getLogger(__name__)

HISTORY_DAYS = 7


@dataclass
class TillShelf:
    store: str
    camera: str
    shelf: Any  # models.synth.SimulatedShelf (imported lazily by the demo)


def _line(line_id: str, store: str, sku: str, quantity: int, price: float, at: datetime) -> Any:
    return pos.SaleLine(
        id=line_id,
        time=at,
        store=store,
        sku=sku,
        quantity=quantity,
        unit_price=Decimal(f"{price:.2f}"),
        currency="EUR",
    )


class DemoTill:
    """See the module docstring; `run(stop)` posts sales every `period_s` until stopped."""

    def __init__(
        self,
        db: Database,
        shelves: Sequence[TillShelf],
        *,
        speedup: float,
        on_stored: Callable[[Sequence[pos.SaleLine]], None] | None = None,
        seed: int = 0,
    ) -> None:
        self.db = db
        self.shelves = list(shelves)
        self.speedup = speedup
        self.on_stored = on_stored
        self._rng = np.random.default_rng(seed)
        self._count = 0
        self.posted = 0

    def register_products(self) -> None:
        """The shelves' products into the catalogue (names and brands for the advice)."""
        products = {}
        for entry in self.shelves:
            for stock in entry.shelf.slots.values():
                p = stock.product
                products[p.gtin] = catalogue.Product(gtin=p.gtin, name=p.name, brand=p.brand)
        catalogue.store_products(self.db, list(enumerate(products.values())), [])

    def seed_history(self, now: datetime, days: int = HISTORY_DAYS) -> int:
        """Hourly lines for the `days` complete days before today, at the shelves' rates."""
        rates: dict[tuple[str, str], float] = defaultdict(float)
        prices: dict[str, float] = {}
        for entry in self.shelves:
            for stock in entry.shelf.slots.values():
                p = stock.product
                rates[(entry.store, p.gtin)] += p.units_per_hour * self.speedup
                prices[p.gtin] = p.price
        midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        lines = []
        for (store, sku), rate in sorted(rates.items()):
            for hour in range(days * 24):
                quantity = int(self._rng.poisson(rate))
                if quantity:
                    at = midnight - timedelta(hours=hour, minutes=30)
                    lines.append(_line(f"hist-{sku}-{hour}", store, sku, quantity, prices[sku], at))
        report = pos.store_lines(self.db, list(enumerate(lines)), [], source="api")
        return report.accepted

    def post_sales(self, now: datetime | None = None) -> int:
        """Drain every shelf's sales and store them as sale lines; returns lines stored."""
        now = now or datetime.now(UTC)
        lines = []
        for entry in self.shelves:
            clock = entry.shelf.clock_s
            for sale in entry.shelf.drain_sales():
                self._count += 1
                at = now - timedelta(seconds=max(0.0, clock - sale.at_s) / self.speedup)
                line_id = f"{entry.camera}-{self._count}"
                lines.append(
                    _line(line_id, entry.store, sale.sku, sale.quantity, sale.unit_price, at)
                )
        if not lines:
            return 0
        report = pos.store_lines(
            self.db, list(enumerate(lines)), [], source="api", on_stored=self.on_stored
        )
        self.posted += report.accepted
        return report.accepted

    def run(self, stop: threading.Event, period_s: float = 1.0) -> None:
        while not stop.wait(period_s):
            try:
                self.post_sales()
            except Exception:  # the demo goes on without one batch of sales
                log.exception("demo till could not post sales")


def demo_advice_settings(speedup: float) -> dict[str, float]:
    """Advice thresholds in the demo's compressed time: a simulated minute lasts
    1/speedup of a real one, so every duration threshold shrinks alike."""
    defaults = AdviceSettings()
    names = (
        "restock_grace_min",
        "low_grace_min",
        "display_grace_min",
        "tidy_grace_min",
        "hidden_min_minutes",
        "horizon_h",
        "facings_max_days_supply",
    )
    scaled = {name: float(getattr(defaults, name)) / speedup for name in names}
    scaled["interval_s"] = max(1.0, defaults.interval_s / speedup)
    scaled["debounce_s"] = 2.0
    return scaled
