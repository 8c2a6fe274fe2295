"""The head office's envelopes, built from what the store gateway already stores.

Each builder reads the gateway's database and returns `gateway.uplink.contract` envelopes
whose ids come from the fact's natural key, so building the same fact again (a restart
rebuilding the last hour, products re-sent at start) gives the same id and the head
office stores it once:

- a slot event: camera + the node's event id;
- an hourly rollup: camera + hour; hourly sales: the hour;
- product facts: camera + layout version + when that layout was saved;
- device health: camera + its 5-minute slot; a store profile: its content + since when.

Minutes by status come from `gateway.reports.slot_timeline` (the change log as spans) and
the hour's compliance from `gateway.reports.compliance_history`, so the head office sees
the figures the store's own reports show.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from edge.contract.messages import ShelfEvent, SlotStatus
from edge.layout import Layout, SlotSpec
from gateway.reports.compliance_history import compliance_history
from gateway.reports.scope import ReportScope
from gateway.reports.slot_timeline import camera_timelines
from gateway.retail.catalogue import names
from gateway.storage.cameras import list_cameras
from gateway.storage.connection import Database
from gateway.storage.sql import db_time, parse_time
from gateway.uplink.contract import (
    DeviceHealth,
    Envelope,
    HourlyRollup,
    HourlySales,
    Kind,
    ProductFacts,
    ShelfProduct,
    SkuSales,
    SlotEvent,
    SlotHour,
    StoreProfile,
    envelope,
)

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
HEALTH_SLOT = timedelta(minutes=5)
"""Device health is keyed by camera and 5-minute slot: at most one report per slot."""
UNKNOWN_BRAND = "unknown"
"""The brand of a shelved product neither its layout slot nor the catalogue names."""


def _key_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M")


def hour_start(at: datetime) -> datetime:
    """The UTC hour holding `at`."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _slot_spec(layout: Layout, row: int, slot: int) -> SlotSpec | None:
    for spec_row in layout.rows:
        if spec_row.index == row:
            for spec in spec_row.slots:
                if spec.index == slot:
                    return spec
    return None


# ---- slot events -----------------------------------------------------------------------


def event_envelope(event: ShelfEvent, layout: Layout | None) -> Envelope | None:
    """A slot event as the head office sees it (brand from the camera's layout); None for
    an event that names no slot."""
    if event.row is None or event.slot is None:
        return None
    spec = _slot_spec(layout, event.row, event.slot) if layout is not None else None
    sku = spec.sku if spec is not None and spec.sku else event.sku
    body = SlotEvent(
        camera=event.camera,
        row=event.row,
        slot=event.slot,
        sku=sku if sku and sku.isdigit() and 8 <= len(sku) <= 14 else None,
        brand=spec.brand if spec is not None else None,
        event=event.type.value,
        status=(event.status or SlotStatus.UNKNOWN).value,
        at=event.ts,
    )
    return envelope(event.store, Kind.EVENT, f"{event.camera}:{event.id}", body, at=event.ts)


# ---- hourly rollups --------------------------------------------------------------------


def rollup_envelopes(db: Database, store: str, hour: datetime) -> list[Envelope]:
    """Per camera of `store` with slot history in the hour starting at `hour`: every
    slot's minutes by status (as the camera saw it, occluded included) and the camera's
    compliance over the hour. A camera with no history in the hour sends nothing."""
    start = hour_start(hour)
    scope = ReportScope(start, start + HOUR, store=store)
    scores = {
        s.camera: s.scores[0]
        for s in compliance_history(db, scope, "total", now=start + HOUR).series
        if s.level == "camera"
    }
    envelopes = []
    for timeline in camera_timelines(db, scope, now=start + HOUR):
        minutes: dict[tuple[int, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for span in timeline.spans:
            minutes[(span.row, span.slot)][span.status.value] += span.seconds / 60
        if not minutes:
            continue
        slots = []
        for (row, slot), by_status in sorted(minutes.items()):
            spec = timeline.slot(row, slot)
            slots.append(
                SlotHour(
                    row=row,
                    slot=slot,
                    sku=spec.sku if spec is not None else None,
                    brand=spec.brand if spec is not None else None,
                    facings=spec.facings if spec is not None else 1,
                    minutes={status: round(m, 3) for status, m in by_status.items()},
                )
            )
        body = HourlyRollup(
            camera=timeline.camera, hour=start, compliance=scores.get(timeline.camera), slots=slots
        )
        key = f"{timeline.camera}:{_key_time(start)}"
        envelopes.append(envelope(store, Kind.ROLLUP, key, body, at=start + HOUR))
    return envelopes


# ---- hourly sales ----------------------------------------------------------------------


def sales_envelope(db: Database, store: str, hour: datetime, currency: str) -> Envelope | None:
    """The store's sales in the hour per SKU: units and revenue of the sold lines (returns
    are not demand, as in sales velocity), so revenue / units is the mean price paid.
    Lines in another currency than the store's are left out (and logged); None when
    nothing sold."""
    start = hour_start(hour)
    with db.read() as conn:
        rows = conn.execute(
            "SELECT sku, unit_price, currency, sum(quantity) AS units FROM sales"
            " WHERE store = ? AND ts >= ? AND ts < ? AND quantity > 0"
            " GROUP BY sku, unit_price, currency ORDER BY sku",
            (store, db_time(start), db_time(start + HOUR)),
        ).fetchall()
    units: dict[str, int] = defaultdict(int)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    foreign = 0
    for r in rows:
        if r["currency"] is not None and r["currency"] != currency:
            foreign += r["units"]
            continue
        units[r["sku"]] += r["units"]
        revenue[r["sku"]] += r["units"] * Decimal(r["unit_price"])
    if foreign:
        log.warning(
            "uplink: %s, hour %s: %d units sold in a currency other than %s are not sent",
            store,
            start.isoformat(),
            foreign,
            currency,
        )
    if not units:
        return None
    body = HourlySales(
        hour=start,
        currency=currency,
        lines=[
            SkuSales(sku=sku, units=float(n), revenue=float(round(revenue[sku], 2)))
            for sku, n in sorted(units.items())
        ],
    )
    return envelope(store, Kind.SALES, _key_time(start), body, at=start + HOUR)


# ---- product facts ---------------------------------------------------------------------


def products_envelope(db: Database, record: Mapping[str, Any]) -> Envelope:
    """The products a stored layout (`gateway.storage.layouts` record) puts on the shelf:
    SKU, brand (the slot's, else the catalogue's), facings, shelf level (1 = the top row,
    by the rows' height in the image) and share of the camera's facings."""
    layout = Layout.model_validate(record["layout"])
    store, camera = record["store"], record["camera"]
    boxes = layout.slot_boxes()
    total = sum(spec.facings for _, spec, _ in boxes)
    level = {row.index: n for n, row in enumerate(sorted(layout.rows, key=lambda r: r.y0), 1)}
    catalogue = names(db, [spec.sku for _, spec, _ in boxes if spec.sku])
    products = []
    for row, spec, _ in boxes:
        if not spec.sku:
            continue
        name, brand = catalogue.get(spec.sku, (None, None))
        products.append(
            ShelfProduct(
                camera=camera,
                row=row.index,
                slot=spec.index,
                sku=spec.sku,
                brand=spec.brand or brand or UNKNOWN_BRAND,
                name=spec.name or name,
                facings=spec.facings,
                shelf_level=level[row.index],
                share_of_shelf=round(spec.facings / total, 6) if total else 0.0,
            )
        )
    saved = parse_time(record["updated_at"]) or datetime.now(UTC)
    body = ProductFacts(camera=camera, layout_version=record["version"], products=products)
    key = f"{camera}:{record['version']}:{saved.astimezone(UTC):%Y%m%dT%H%M%S%f}"
    return envelope(store, Kind.PRODUCTS, key, body, at=saved)


# ---- device health ---------------------------------------------------------------------


def health_envelopes(
    db: Database, store: str, at: datetime, uplink_backlog: int | None
) -> list[Envelope]:
    """Each camera of `store`: online, last seen, inference time, and the uplink's own
    backlog; keyed by the 5-minute slot holding `at`."""
    at = at.astimezone(UTC)
    slot = datetime.fromtimestamp(
        at.timestamp() // HEALTH_SLOT.total_seconds() * HEALTH_SLOT.total_seconds(), UTC
    )
    envelopes = []
    for cam in list_cameras(db, store):
        health = cam["health"] or {}
        body = DeviceHealth(
            camera=cam["camera"],
            online=cam["online"],
            last_seen=parse_time(cam["last_seen"]),
            inference_ms=health.get("inference_ms"),
            uplink_backlog=uplink_backlog,
        )
        key = f"{cam['camera']}:{_key_time(slot)}"
        envelopes.append(envelope(store, Kind.HEALTH, key, body, at=at))
    return envelopes


# ---- store profile ---------------------------------------------------------------------


def profile_hash(profile: StoreProfile) -> str:
    """A short hash of the profile's content: a change gives a new one."""
    text = json.dumps(profile.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def profile_envelope(store: str, profile: StoreProfile, since: datetime) -> Envelope:
    """The store's profile as it has been since `since` (when this content took effect)."""
    body = StoreProfile.model_validate(profile.model_dump())
    key = f"{profile_hash(profile)}:{since.astimezone(UTC):%Y%m%dT%H%M%S}"
    return envelope(store, Kind.PROFILE, key, body, at=since)


def closed_hours(since: datetime, until: datetime) -> Iterable[datetime]:
    """Starts of the whole UTC hours in [since, until), oldest first."""
    hour = hour_start(since)
    if hour < since:
        hour += HOUR
    while hour + HOUR <= until:
        yield hour
        hour += HOUR
