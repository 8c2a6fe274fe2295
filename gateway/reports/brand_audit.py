"""A brand's audit of its own products across stores: on-shelf availability, facings
compliance, share of shelf, placement and sales, per store and product, and per day.

Only the brand's slots (layout brand) and products (catalogue brand, or a layout slot
of the brand) are read, matched case-insensitively; other brands appear only as the
total facings behind a share of shelf, never by name.

- availability: the share of the time its slots were seen (open and watched) that its
  product was there: stocked, low or messy count as available; empty and wrong product
  (another product in its place) as not; occluded counts as last seen;
- facings compliance: the compliance score (README: Display compliance) over its slots,
  weighted by time: credited facings over expected facings;
- share of shelf: its expected facings over all expected facings of the store's
  cameras (of the category, when one is chosen), from the current layouts;
- placement: which shelf its facings are on, counted from the top of each bay (see
  `shelf_level`);
- sales: units and revenue from the POS lines of its products in the range.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal

from edge.contract.compliance import CREDIT
from edge.contract.messages import SlotStatus
from gateway.reports.calendar import bucket_index, calendar_buckets, overlapping
from gateway.reports.scope import ReportScope, ScopeError
from gateway.reports.slot_timeline import CameraTimeline, camera_timelines
from gateway.storage.connection import Database
from gateway.storage.sql import db_time

AVAILABLE = (SlotStatus.STOCKED, SlotStatus.LOW, SlotStatus.MESSY)
MAX_DAYS = 400


def shelf_level(position: int, rows: int) -> str:
    """A shelf's name from its place in the bay, counted from the top: with four or
    more shelves the second from the top is at eye level and the lowest is the bottom
    (stoop) shelf; the others are named top and middle (waist level)."""
    if rows <= 1:
        return "single shelf"
    if position == rows - 1:
        return "bottom"
    if position == 0:
        return "top"
    if position == 1:
        return "eye level"
    return "middle"


@dataclass
class _Time:
    """Seconds seen, available, and expected/credited facing-seconds."""

    seen: float = 0.0
    available: float = 0.0
    expected: float = 0.0
    credited: float = 0.0

    def add(self, effective: SlotStatus, facings: int, seconds: float) -> None:
        self.seen += seconds
        self.available += seconds if effective in AVAILABLE else 0.0
        self.expected += facings * seconds
        self.credited += CREDIT[effective] * facings * seconds

    @property
    def availability(self) -> float | None:
        return round(self.available / self.seen, 4) if self.seen else None

    @property
    def facings_compliance(self) -> float | None:
        return round(self.credited / self.expected, 4) if self.expected else None


@dataclass
class Sales:
    units: int = 0
    revenue: Decimal = Decimal(0)
    currencies: Counter[str] = field(default_factory=Counter)

    def add(self, units: int, revenue: Decimal, currency: str | None) -> None:
        self.units += units
        self.revenue += revenue
        if currency:
            self.currencies[currency] += units

    @property
    def currency(self) -> str | None:
        return self.currencies.most_common(1)[0][0] if self.currencies else None


@dataclass
class ProductRow:
    """One of the brand's products in one store: the table (and CSV) row."""

    store: str
    sku: str
    name: str | None
    placement: str | None
    slots: int
    facings: int
    availability: float | None
    facings_compliance: float | None
    units: int
    revenue: float
    currency: str | None


@dataclass
class StoreSummary:
    store: str
    slots: int
    facings: int
    shelf_facings: int
    share_of_shelf: float | None
    placement: dict[str, int]
    """Facings per shelf level (top, eye level, middle, bottom)."""
    availability: float | None
    facings_compliance: float | None
    units: int
    revenue: float
    currency: str | None


@dataclass
class DailySeries:
    store: str
    availability: list[float | None]
    facings_compliance: list[float | None]
    units: list[int]
    revenue: list[float]


@dataclass
class BrandAudit:
    brand: str
    days: list[datetime]
    stores: list[StoreSummary]
    products: list[ProductRow]
    daily: list[DailySeries]


def brand_audit(
    db: Database, scope: ReportScope, now: datetime | None = None, zone: tzinfo = UTC
) -> BrandAudit:
    """The audit of `scope.brand` (required) over the scope's stores and range, per day
    of the stores' time `zone` (`gateway.reports.calendar`)."""
    if scope.brand is None:
        raise ScopeError("a brand audit needs a brand", "brand")
    now = now or datetime.now(UTC)
    days = calendar_buckets(scope.since, scope.until, "day", zone, MAX_DAYS)
    if len(days) > MAX_DAYS:
        raise ScopeError(f"too many days from since to until: at most {MAX_DAYS}")
    starts = [start for start, _ in days]
    timelines = camera_timelines(db, scope, now)
    products = _brand_products(db, scope, timelines)
    store_time: dict[str, _Time] = defaultdict(_Time)
    product_time: dict[tuple[str, str], _Time] = defaultdict(_Time)
    day_time: dict[str, list[_Time]] = defaultdict(lambda: [_Time() for _ in days])
    for timeline in timelines:
        for span in timeline.spans:
            spec = timeline.slot(span.row, span.slot)
            if span.effective is None or spec is None:
                continue
            seconds = span.seconds
            store_time[timeline.store].add(span.effective, spec.facings, seconds)
            if spec.sku:
                product_time[(timeline.store, spec.sku)].add(span.effective, spec.facings, seconds)
            for i in overlapping(starts, span.start, span.end):
                if (part := span.overlap(*days[i])) > 0:
                    day_time[timeline.store][i].add(span.effective, spec.facings, part)
    sales, daily_sales = _sales(db, scope, products, starts)
    stores = sorted({t.store for t in timelines} | {store for store, _ in sales})
    return BrandAudit(
        brand=_spelling(db, timelines, scope.brand),
        days=[t.astimezone(zone) for t in starts],
        stores=[_summary(s, timelines, store_time[s], sales) for s in stores],
        products=_product_rows(timelines, products, product_time, sales),
        daily=[
            DailySeries(
                store=s,
                availability=[t.availability for t in day_time[s]],
                facings_compliance=[t.facings_compliance for t in day_time[s]],
                units=[d.units for d in daily_sales[s]],
                revenue=[round(float(d.revenue), 2) for d in daily_sales[s]],
            )
            for s in stores
        ],
    )


def _brand_products(
    db: Database, scope: ReportScope, timelines: list[CameraTimeline]
) -> dict[str, str | None]:
    """GTIN -> name of the brand's products (in the category, when chosen)."""
    found: dict[str, str | None] = {}
    with db.read() as conn:
        for r in conn.execute("SELECT gtin, name, brand, category FROM products"):
            if scope.sees_brand(r["brand"]) and (
                scope.category is None
                or (r["category"] or "").casefold() == scope.category.casefold()
            ):
                found[r["gtin"]] = r["name"]
    for timeline in timelines:  # already narrowed to the brand and category
        for _, spec, _ in timeline.layout.slot_boxes():
            if spec.sku:
                found[spec.sku] = found.get(spec.sku) or spec.name
    return found


def _spelling(db: Database, timelines: list[CameraTimeline], brand: str) -> str:
    """The brand as the layouts and catalogue write it (a role may say `brand:acme`)."""
    names: Counter[str] = Counter(
        spec.brand for t in timelines for _, spec, _ in t.layout.slot_boxes() if spec.brand
    )
    with db.read() as conn:
        for r in conn.execute(
            "SELECT brand FROM products WHERE brand = ? COLLATE NOCASE", (brand,)
        ):
            names[r["brand"]] += 1
    spelled = [n for n, _ in names.most_common() if n.casefold() == brand.casefold()]
    return spelled[0] if spelled else brand


def _sales(
    db: Database, scope: ReportScope, products: dict[str, str | None], days: list[datetime]
) -> tuple[dict[tuple[str, str], Sales], dict[str, list[Sales]]]:
    """Sales of the products by (store, sku), and by store per day (`days`: their starts)."""
    by_product: dict[tuple[str, str], Sales] = defaultdict(Sales)
    by_day: dict[str, list[Sales]] = defaultdict(lambda: [Sales() for _ in days])
    if not products:
        return by_product, by_day
    with db.read() as conn:
        rows = conn.execute(
            "SELECT store, sku, ts, quantity, unit_price, currency FROM sales"
            " WHERE ts >= ? AND ts < ? AND sku IN (SELECT value FROM json_each(?))",
            (db_time(scope.since), db_time(scope.until), _json_list(products)),
        ).fetchall()
    for r in rows:
        if not scope.sees_store(r["store"]):
            continue
        revenue = r["quantity"] * Decimal(r["unit_price"])
        by_product[(r["store"], r["sku"])].add(r["quantity"], revenue, r["currency"])
        day = bucket_index(days, datetime.fromisoformat(r["ts"]))
        if day >= 0:
            by_day[r["store"]][day].add(r["quantity"], revenue, r["currency"])
    return by_product, by_day


def _json_list(values: dict[str, str | None]) -> str:
    return json.dumps(sorted(values))


def _levels(timeline: CameraTimeline) -> dict[int, str]:
    total = len(timeline.rows_top_down)
    return {row: shelf_level(i, total) for i, row in enumerate(timeline.rows_top_down)}


def _summary(
    store: str, timelines: list[CameraTimeline], time: _Time, sales: dict[tuple[str, str], Sales]
) -> StoreSummary:
    slots = facings = shelf = 0
    placement: Counter[str] = Counter()
    for timeline in (t for t in timelines if t.store == store):
        levels = _levels(timeline)
        shelf += timeline.shelf_facings
        for row, spec, _ in timeline.layout.slot_boxes():
            slots += 1
            facings += spec.facings
            placement[levels.get(row.index, "middle")] += spec.facings
    total = Sales()
    for (sale_store, _), s in sales.items():
        if sale_store == store:
            total.add(s.units, s.revenue, None)
            total.currencies.update(s.currencies)
    return StoreSummary(
        store=store,
        slots=slots,
        facings=facings,
        shelf_facings=shelf,
        share_of_shelf=round(facings / shelf, 4) if shelf else None,
        placement=dict(placement.most_common()),
        availability=time.availability,
        facings_compliance=time.facings_compliance,
        units=total.units,
        revenue=round(float(total.revenue), 2),
        currency=total.currency,
    )


def _product_rows(
    timelines: list[CameraTimeline],
    products: dict[str, str | None],
    time: dict[tuple[str, str], _Time],
    sales: dict[tuple[str, str], Sales],
) -> list[ProductRow]:
    slots: Counter[tuple[str, str]] = Counter()
    facings: Counter[tuple[str, str]] = Counter()
    placed: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for timeline in timelines:
        levels = _levels(timeline)
        for row, spec, _ in timeline.layout.slot_boxes():
            if spec.sku:
                key = (timeline.store, spec.sku)
                slots[key] += 1
                facings[key] += spec.facings
                placed[key][levels.get(row.index, "middle")] += spec.facings
    rows = []
    for key in sorted(set(slots) | set(sales)):
        store, sku = key
        spent = sales.get(key, Sales())
        watched = time.get(key, _Time())
        rows.append(
            ProductRow(
                store=store,
                sku=sku,
                name=products.get(sku),
                placement=placed[key].most_common(1)[0][0] if placed.get(key) else None,
                slots=slots[key],
                facings=facings[key],
                availability=watched.availability,
                facings_compliance=watched.facings_compliance,
                units=spent.units,
                revenue=round(float(spent.revenue), 2),
                currency=spent.currency,
            )
        )
    return rows


CSV_COLUMNS = tuple(ProductRow.__dataclass_fields__)


def audit_csv(audit: BrandAudit) -> str:
    """The product table as CSV (header row, one line per store and product)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in audit.products:
        writer.writerow(asdict(row))
    return out.getvalue()
