"""The demo till: simulated shelves' sales become valid POS lines in wall-clock time,
and the history it seeds gives velocity the shelves' rates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.layout import gtin_check_digit_ok
from gateway.config.settings import AdviceSettings
from gateway.devtools.demo_till import DemoTill, TillShelf, demo_advice_settings
from gateway.retail import catalogue, pos, velocity_queries
from gateway.storage.connection import Database
from models.synth import SimulatedShelf

SPEEDUP = 60.0


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path)
    database.open()
    yield database
    database.close()


def test_simulated_layout_skus_are_valid_gtins() -> None:
    for seed in range(3):
        layout = SimulatedShelf(seed=seed).layout
        skus = [s.sku for row in layout.rows for s in row.slots]
        assert skus and all(sku and gtin_check_digit_ok(sku) for sku in skus)


def test_shelf_sales_become_sale_lines_dated_in_wall_clock_time(db: Database) -> None:
    shelf = SimulatedShelf(seed=3, store="store-1", camera="cam-1")
    heard: list[pos.SaleLine] = []
    till = DemoTill(
        db, [TillShelf("store-1", "cam-1", shelf)], speedup=SPEEDUP, on_stored=heard.extend
    )
    till.register_products()
    sold: dict[str, int] = {}
    for sale in shelf.step(3 * 3600):  # three simulated hours = three real minutes
        sold[sale.sku] = sold.get(sale.sku, 0) + sale.quantity
    assert sold, "a simulated shelf sells in three hours"
    now = datetime.now(UTC)
    stored = till.post_sales(now)
    assert stored == len(heard) > 0 and till.post_sales(now) == 0  # drained
    lines = pos.sales(db, store="store-1", limit=1000)
    assert {line["sku"]: 0 for line in lines}.keys() == sold.keys()
    assert sum(line["quantity"] for line in lines) == sum(sold.values())
    times = [datetime.fromisoformat(line["time"]) for line in lines]
    assert min(times) >= now - timedelta(minutes=3, seconds=1) and max(times) <= now
    layout_skus = {s.sku for row in shelf.layout.rows for s in row.slots}
    assert set(sold) <= layout_skus
    some = next(iter(sold))
    assert catalogue.product(db, some)["name"] == next(  # type: ignore[index]
        s.product.name for s in shelf.slots.values() if s.product.gtin == some
    )


def test_seeded_history_gives_velocity_the_shelf_rates_in_wall_clock_hours(db: Database) -> None:
    shelf = SimulatedShelf(seed=5, store="store-1", camera="cam-1")
    till = DemoTill(db, [TillShelf("store-1", "cam-1", shelf)], speedup=SPEEDUP, seed=1)
    now = datetime.now(UTC)
    assert till.seed_history(now) > 0
    stock = max(shelf.slots.values(), key=lambda s: s.product.units_per_hour)
    gtin = stock.product.gtin
    expected = sum(s.product.units_per_hour for s in shelf.slots.values() if s.product.gtin == gtin)
    profile = velocity_queries.velocity_profile(db, "store-1", gtin, tz=ZoneInfo("UTC"), now=now)
    assert profile.days == 7
    assert profile.daily_rate / 24 == pytest.approx(expected * SPEEDUP, rel=0.05)


def test_demo_advice_thresholds_shrink_with_the_speedup() -> None:
    settings = AdviceSettings.model_validate(demo_advice_settings(60.0))
    assert settings.restock_grace_min == pytest.approx(AdviceSettings().restock_grace_min / 60)
    assert settings.horizon_h == pytest.approx(2.0 / 60) and settings.interval_s == 1.0
