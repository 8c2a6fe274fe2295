"""A gateway database holding two stores and two brands (no tests here).

Each store has one camera whose shelf carries both brands' products, with slot states,
events (one a wrong product of the other brand in an Acme slot), health, sales and
advice (a restock per brand and store, a facings move from a Bolt to an Acme product
and a wrong-product advice naming Bolt's GTIN). Access tests check that staff of one
store and each brand see exactly their part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from edge.contract.advice import AdviceKind, Evidence, Level
from edge.contract.messages import (
    EventType,
    Health,
    ShelfEvent,
    ShelfState,
    SlotReading,
    SlotStatus,
)
from edge.layout import Layout, RowSpec, SlotSpec, with_check_digit
from gateway.advice import store as advice_store
from gateway.advice.model import Candidate, advice_key
from gateway.retail import catalogue, pos
from gateway.storage.connection import Database


@dataclass(frozen=True)
class Product:
    gtin: str
    name: str
    brand: str


ACME = "Acme"
BOLT = "Bolt"
PRODUCTS = (
    Product(with_check_digit("400000000001"), "Acme Oats 500g", ACME),
    Product(with_check_digit("400000000002"), "Acme Rice 1kg", ACME),
    Product(with_check_digit("500000000001"), "Bolt Cola 330ml", BOLT),
    Product(with_check_digit("500000000002"), "Bolt Crisps 150g", BOLT),
)
ACME_OATS, ACME_RICE, BOLT_COLA, BOLT_CRISPS = PRODUCTS
STORES = {"store-1": "cam-n", "store-2": "cam-s"}
"""Store -> its camera (names that cannot be mistaken for each other in a body)."""


def of_brand(brand: str) -> list[Product]:
    return [p for p in PRODUCTS if p.brand == brand]


def words_of(brand: str) -> list[str]:
    """Everything that names `brand` or one of its products."""
    return [brand] + [w for p in of_brand(brand) for w in (p.gtin, p.name)]


def shelf_layout() -> Layout:
    """Row 0: Acme Oats, Bolt Cola; row 1: Bolt Crisps (2 facings), Acme Rice."""

    def slot(index: int, x0: float, x1: float, product: Product, facings: int = 1) -> SlotSpec:
        return SlotSpec(
            index=index,
            x0=x0,
            x1=x1,
            sku=product.gtin,
            name=product.name,
            brand=product.brand,
            facings=facings,
        )

    return Layout(
        rows=[
            RowSpec(
                index=0,
                y0=0.0,
                y1=0.5,
                slots=[slot(0, 0.0, 0.5, ACME_OATS), slot(1, 0.5, 1.0, BOLT_COLA)],
            ),
            RowSpec(
                index=1,
                y0=0.5,
                y1=1.0,
                slots=[slot(0, 0.0, 0.6, BOLT_CRISPS, 2), slot(1, 0.6, 1.0, ACME_RICE)],
            ),
        ]
    )


def _state(store: str, camera: str, layout: Layout, now: datetime) -> ShelfState:
    statuses = [SlotStatus.STOCKED, SlotStatus.EMPTY, SlotStatus.LOW, SlotStatus.WRONG_PRODUCT]
    readings = [
        SlotReading(
            row=row.index,
            slot=slot.index,
            sku=slot.sku,
            status=status,
            confidence=0.9,
            looks_like_sku=BOLT_COLA.gtin if status == SlotStatus.WRONG_PRODUCT else None,
        )
        for (row, slot, _box), status in zip(layout.slot_boxes(), statuses, strict=True)
    ]
    return ShelfState(
        store=store,
        camera=camera,
        ts=now,
        seq=5,
        layout_version=layout.version,
        score=0.6,
        slots=readings,
    )


def _events(store: str, camera: str, now: datetime) -> list[ShelfEvent]:
    def event(
        n: int, type: EventType, row: int, slot: int, sku: str, **extra: object
    ) -> ShelfEvent:
        return ShelfEvent(
            store=store,
            camera=camera,
            id=f"{store}-evt-{n:04d}",
            ts=now - timedelta(minutes=10 - n),
            type=type,
            row=row,
            slot=slot,
            sku=sku,
            previous=SlotStatus.STOCKED,
            status=extra.pop("status", SlotStatus.EMPTY),  # type: ignore[arg-type]
            detail=dict(extra),
        )

    return [
        event(1, EventType.GAP_OPENED, 0, 1, BOLT_COLA.gtin),
        event(2, EventType.GAP_OPENED, 0, 0, ACME_OATS.gtin),
        event(3, EventType.RESTOCKED, 0, 0, ACME_OATS.gtin, status=SlotStatus.STOCKED),
        event(
            4,
            EventType.WRONG_PRODUCT,
            1,
            1,
            ACME_RICE.gtin,
            status=SlotStatus.WRONG_PRODUCT,
            looks_like_sku=BOLT_COLA.gtin,
            appearance=0.4,
        ),
    ]


def _sales(store: str, now: datetime) -> list[tuple[int, pos.SaleLine]]:
    lines = []
    for n, product in enumerate(PRODUCTS * 3):
        lines.append(
            pos.SaleLine(
                id=f"{store}-r{n}",
                time=now - timedelta(hours=n + 1),
                store=store,
                sku=product.gtin,
                quantity=1 + n % 2,
                unit_price=Decimal("1.99"),
                currency="EUR",
            )
        )
    return list(enumerate(lines))


def _advice(store: str, camera: str, now: datetime) -> list[Candidate]:
    def candidate(
        kind: AdviceKind, row: int, slot: int, product: Product, action: str, **evidence: object
    ) -> Candidate:
        return Candidate(
            key=advice_key(kind, store, camera, row if kind != AdviceKind.FACINGS else None, slot),
            kind=kind,
            store=store,
            camera=camera,
            row=row,
            slot=slot,
            sku=product.gtin,
            name=product.name,
            brand=product.brand,
            cause="empty" if kind == AdviceKind.RESTOCK else "days_of_supply",
            action=action,
            reason=f"seen in {store}",
            urgency=2.0,
            level=Level.MEDIUM,
            evidence=Evidence(**evidence),  # type: ignore[arg-type]
            episode_start=now - timedelta(minutes=30),
        )

    return [
        candidate(AdviceKind.RESTOCK, 0, 0, ACME_OATS, f"Restock {ACME_OATS.name} at row 1 slot 1"),
        candidate(AdviceKind.RESTOCK, 0, 1, BOLT_COLA, f"Restock {BOLT_COLA.name} at row 1 slot 2"),
        candidate(
            AdviceKind.FACINGS,
            1,
            1,
            ACME_RICE,
            f"Move a facing from {BOLT_CRISPS.name} (row 1 slot 0) to {ACME_RICE.name}",
            from_sku=BOLT_CRISPS.gtin,
            from_row=1,
            from_slot=0,
        ),
        candidate(
            AdviceKind.FIX_DISPLAY,
            1,
            1,
            ACME_RICE,
            f"Put {ACME_RICE.name} back and take away the other product ({BOLT_COLA.gtin})",
            seen_sku=BOLT_COLA.gtin,
        ),
    ]


def fill(db: Database) -> None:
    """Put both stores' data into an open database."""
    now = datetime.now(UTC)
    layout = shelf_layout()
    products = [catalogue.Product(gtin=p.gtin, name=p.name, brand=p.brand) for p in PRODUCTS]
    catalogue.store_products(db, list(enumerate(products)), [])
    for store, camera in STORES.items():
        with db.transaction() as tx:
            tx.touch_camera(store, camera, now)
            tx.record_availability(store, camera, True, now)
            tx.save_layout(store, camera, layout, now)
            tx.record_state(_state(store, camera, layout, now), now)
            tx.record_health(
                Health(store=store, camera=camera, uptime_s=60, frames_processed=10, fps=1.0),
                now,
            )
            for event in _events(store, camera, now):
                tx.record_event(event, now)
        pos.store_lines(db, _sales(store, now), [], source="api")
        advice_store.apply(db, store, _advice(store, camera, now), [], now)


def advice_ids(db: Database) -> dict[tuple[str, str, str], int]:
    """(store, kind, brand) -> advice id, for the facings and fix_display: the first one."""
    ids: dict[tuple[str, str, str], int] = {}
    for item in advice_store.list_advice(db, limit=1000):
        ids.setdefault((item["store"], item["kind"], item["brand"]), item["id"])
    return ids
