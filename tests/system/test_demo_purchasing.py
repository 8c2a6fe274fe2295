"""The demo's buying data: suppliers, price lists, a count and a delivery seeded through
the store's own imports give each demo store draft purchase orders, whose lines come
from the real suggestion over the till's seeded sales."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.devtools.demo_purchasing import SUPPLIERS, seed_purchasing
from gateway.devtools.demo_till import DemoTill, TillShelf
from gateway.retail import purchase_orders, stock, suppliers
from gateway.storage.connection import Database
from models.synth import SimulatedShelf

BERLIN = ZoneInfo("Europe/Berlin")
SPEEDUP = 60.0


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path)
    database.open()
    yield database
    database.close()


def test_each_demo_store_gets_draft_orders_from_seeded_buying_data(db: Database) -> None:
    shelves = [
        TillShelf("store-1", "cam-1", SimulatedShelf(seed=1, store="store-1", camera="cam-1")),
        TillShelf("store-2", "cam-2", SimulatedShelf(seed=2, store="store-2", camera="cam-2")),
    ]
    now = datetime.now(UTC)
    with db.transaction() as tx:  # as the demo's gateway.set_layout: shelf capacity known
        for e in shelves:
            tx.save_layout(e.store, e.camera, e.shelf.layout, now - timedelta(days=8))
    till = DemoTill(db, shelves, speedup=SPEEDUP)
    till.register_products()
    till.seed_history(now)

    seeded = seed_purchasing(db, shelves, now, tz=BERLIN)

    gtins = {s.product.gtin for e in shelves for s in e.shelf.slots.values()}
    assert seeded.price_lines == len(SUPPLIERS) * len(gtins)
    assert {t.supplier for t in suppliers.supplier_terms(db)} == set(SUPPLIERS)
    assert (
        seeded.counts
        == seeded.receipts
        == sum(len({s.product.gtin for s in e.shelf.slots.values()}) for e in shelves)
    )
    some = next(iter(sorted(gtins & {s.product.gtin for s in shelves[0].shelf.slots.values()})))
    held = stock.stock_on_hand(db, "store-1", [some])[some]
    assert held.backroom_capacity is not None and held.backroom_capacity > 0
    for store in ("store-1", "store-2"):
        assert seeded.draft_orders[store], f"{store} has no draft order"
        orders = purchase_orders.list_orders(db, store=store)
        assert {o["status"] for o in orders} == {"draft"}
        assert {o["supplier"] for o in orders} <= set(SUPPLIERS)
        lines = [line for o in orders for line in o["lines"]]
        assert lines and all(line["packs"] > 0 for line in lines)
        store_gtins = {
            s.product.gtin for e in shelves if e.store == store for s in e.shelf.slots.values()
        }
        assert {line["gtin"] for line in lines} <= store_gtins
        # The till sells in compressed time: orders are capped by shelf + backroom room.
        for line in lines:
            room = line["why"]["room"]
            assert room is not None and 0 < line["units"] <= room
