"""A small store with a known history for the report and dashboard tests (no tests
here). Everything goes in through the gateway's real ingest (MQTT payloads on their
topics), the catalogue and the POS import, into a real SQLite file.

The story, from T0 = 2026-03-02 08:00 UTC to T0 + 3 h (11:00):

store s1, camera c1, three shelves (top, eye level, bottom), 10 facings:
    row 0  Acme Cola (2 facings, Drinks)    Zest Chips (2, Snacks)
    row 1  Acme Lemonade (3, Drinks)        Zest Dip (1, Snacks)
    row 2  Zest Water (2, Drinks)
  - 08:00 everything stocked;
  - 09:00-09:30 Acme Lemonade empty (gap_opened at 09:00, restocked at 09:30);
  - 10:00-10:15 Zest Chips: wrong product (wrong_product event at 10:00);
  - 10:30-10:40 Acme Cola occluded by a shopper (counts as last seen: stocked).
store s2, camera c2: Acme Cola alone (2 facings), stocked all along.
Sales in range: s1 Acme Cola 3 x 1.50 EUR, s2 Acme Cola 1 x 1.60 EUR, s1 Zest Chips 2 x 2.00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from edge.contract import CameraTopics, EventType, ShelfEvent, ShelfState, SlotReading, SlotStatus
from edge.contract.compliance import of_readings
from edge.layout import Layout, RowSpec, SlotSpec, with_check_digit
from gateway.mqtt.ingest import Ingest
from gateway.retail import catalogue, pos
from gateway.storage.connection import Database

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)
END = T0 + timedelta(hours=3)
S = SlotStatus


@dataclass(frozen=True)
class Product:
    gtin: str
    name: str
    brand: str
    category: str


COLA = Product(with_check_digit("400000000001"), "Acme Cola 330ml", "Acme", "Drinks")
LEMONADE = Product(with_check_digit("400000000002"), "Acme Lemonade 1l", "Acme", "Drinks")
CHIPS = Product(with_check_digit("500000000001"), "Zest Chips Paprika", "Zest", "Snacks")
DIP = Product(with_check_digit("500000000002"), "Zest Dip Salsa", "Zest", "Snacks")
WATER = Product(with_check_digit("500000000003"), "Zest Water 1.5l", "Zest", "Drinks")
PRODUCTS = (COLA, LEMONADE, CHIPS, DIP, WATER)


def slot(index: int, x0: float, x1: float, product: Product, facings: int) -> SlotSpec:
    return SlotSpec(
        index=index,
        x0=x0,
        x1=x1,
        sku=product.gtin,
        name=product.name,
        brand=product.brand,
        facings=facings,
    )


def store_1_layout() -> Layout:
    return Layout(
        rows=[
            RowSpec(
                index=0,
                y0=0.05,
                y1=0.3,
                slots=[slot(0, 0.0, 0.5, COLA, 2), slot(1, 0.5, 1.0, CHIPS, 2)],
            ),
            RowSpec(
                index=1,
                y0=0.35,
                y1=0.6,
                slots=[slot(0, 0.0, 0.6, LEMONADE, 3), slot(1, 0.6, 1.0, DIP, 1)],
            ),
            RowSpec(index=2, y0=0.65, y1=0.9, slots=[slot(0, 0.0, 1.0, WATER, 2)]),
        ]
    )


def store_2_layout() -> Layout:
    return Layout(rows=[RowSpec(index=0, y0=0.2, y1=0.8, slots=[slot(0, 0.1, 0.9, COLA, 2)])])


def _state(
    store: str, camera: str, layout: Layout, at: datetime, seq: int, changes: dict
) -> ShelfState:
    readings = []
    for row, spec, _ in layout.slot_boxes():
        status, held = changes.get((row.index, spec.index), (S.STOCKED, None))
        readings.append(
            SlotReading(
                row=row.index, slot=spec.index, sku=spec.sku, status=status, held_status=held
            )
        )
    return ShelfState(
        store=store,
        camera=camera,
        ts=at,
        seq=seq,
        layout_version=layout.version,
        slots=readings,
        score=of_readings(layout, readings).score,
    )


def _event(
    n: int, at: datetime, type: EventType, where: tuple[int, int], previous: S, now: S
) -> ShelfEvent:
    return ShelfEvent(
        store="s1",
        camera="c1",
        id=f"evt-story-{n:04d}",
        ts=at,
        type=type,
        row=where[0],
        slot=where[1],
        previous=previous,
        status=now,
        confidence=0.9,
    )


def story_messages(t0: datetime = T0, *, ongoing: bool = False) -> list[tuple[str, bytes]]:
    """(topic, payload) of every message of the story (starting at `t0`), in order.

    `ongoing` adds a last frame at t0 + 2 h 50 min where Acme Lemonade and Zest Chips are
    empty (and stay so): with sales behind them, the advice engine asks to restock both."""
    one, two = store_1_layout(), store_2_layout()
    minute = timedelta(minutes=1)
    lemonade, chips, cola = (1, 0), (0, 1), (0, 0)
    frames = [
        (t0, {}),
        (t0 + 60 * minute, {lemonade: (S.EMPTY, None)}),
        (t0 + 90 * minute, {}),
        (t0 + 120 * minute, {chips: (S.WRONG_PRODUCT, None)}),
        (t0 + 135 * minute, {}),
        (t0 + 150 * minute, {cola: (S.OCCLUDED, S.STOCKED)}),
        (t0 + 160 * minute, {}),
    ]
    if ongoing:
        frames.append((t0 + 170 * minute, {lemonade: (S.EMPTY, None), chips: (S.EMPTY, None)}))
    c1, c2 = CameraTopics("s1", "c1"), CameraTopics("s2", "c2")
    out = [
        (c1.state, _state("s1", "c1", one, at, i, changes).to_json())
        for i, (at, changes) in enumerate(frames)
    ]
    out.append((c2.state, _state("s2", "c2", two, t0, 0, {}).to_json()))
    events = [
        _event(1, t0 + 60 * minute, EventType.GAP_OPENED, lemonade, S.STOCKED, S.EMPTY),
        _event(2, t0 + 90 * minute, EventType.RESTOCKED, lemonade, S.EMPTY, S.STOCKED),
        _event(3, t0 + 120 * minute, EventType.WRONG_PRODUCT, chips, S.STOCKED, S.WRONG_PRODUCT),
        _event(4, t0 + 135 * minute, EventType.STATUS_CHANGED, chips, S.WRONG_PRODUCT, S.STOCKED),
    ]
    out.extend((c1.events, e.to_json()) for e in events)
    return [
        (topic, payload if isinstance(payload, bytes) else payload.encode())
        for topic, payload in out
    ]


def sale(
    store: str, n: int | str, product: Product, quantity: int, price: str, at: datetime
) -> pos.SaleLine:
    return pos.SaleLine(
        id=f"R{n}",
        time=at,
        store=store,
        sku=product.gtin,
        quantity=quantity,
        unit_price=Decimal(price),
        currency="EUR",
    )


def story_sales(t0: datetime = T0) -> list[pos.SaleLine]:
    return [
        sale("s1", 1, COLA, 3, "1.50", t0 + timedelta(minutes=30)),
        sale("s2", 2, COLA, 1, "1.60", t0 + timedelta(minutes=40)),
        sale("s1", 3, CHIPS, 2, "2.00", t0 + timedelta(minutes=50)),
    ]


def steady_sales(now: datetime) -> list[pos.SaleLine]:
    """Seven whole days before today of Lemonade and Chips at 4 units an hour in s1, so
    velocity expects sales and an empty slot of them is worth a restock."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [
        sale("s1", f"H-{p.gtin}-{h}", p, 4, "1.20", midnight - timedelta(hours=h, minutes=30))
        for p in (LEMONADE, CHIPS)
        for h in range(7 * 24)
    ]


def layouts() -> dict[tuple[str, str], Layout]:
    return {("s1", "c1"): store_1_layout(), ("s2", "c2"): store_2_layout()}


def catalogue_products() -> list[catalogue.Product]:
    return [
        catalogue.Product(gtin=p.gtin, name=p.name, brand=p.brand, category=p.category)
        for p in PRODUCTS
    ]


def fill(db: Database) -> None:
    """Write the story into an open database: layouts, catalogue, messages, sales."""
    with db.transaction() as tx:
        for (store, camera), layout in layouts().items():
            tx.save_layout(store, camera, layout, T0)
    catalogue.store_products(db, list(enumerate(catalogue_products())), [])
    ingest = Ingest(db)
    for topic, payload in story_messages():
        ingest.submit(topic, payload)
    ingest.start()
    assert ingest.wait_idle(10), "ingest did not store the story"
    ingest.stop()
    pos.store_lines(db, list(enumerate(story_sales())), [], source="api")
