"""HTTP routes of the dashboards' reports (`/api/reports/...`): compliance over time,
worst slots, violations with evidence, the brand audit (JSON and CSV), the devices.

Each route builds a `ReportScope` from its query and the caller (staff: their own store,
a brand: its own brand, whatever the query says; asking for another is a 403) and hands
it to one report module. Who may call what (README: Users and access):

- compliance, worst slots, violations: admin, merchandiser, staff (their store);
- the brand audit: admin, merchandiser, a brand (its own);
- devices and the head-office uplink: admin, installer; product categories: everyone but installers.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field

from edge.contract.ids import ID_PATTERN
from edge.contract.messages import SlotStatus
from gateway.auth.access import CurrentPrincipal, Principal, allow
from gateway.auth.scoping import store_for
from gateway.reports import brand_audit, compliance_history, devices, shelf_violations
from gateway.reports.scope import ReportScope, ScopeError
from gateway.web.backend import ApiBackend, Backend
from gateway.web.params import MAX_LIMIT, IsoTime

DEFAULT_RANGE = timedelta(days=1)
StoreQuery = Annotated[str | None, Query(pattern=ID_PATTERN, description="One store only.")]
CategoryQuery = Annotated[
    str | None, Query(min_length=1, max_length=100, description="Product category only.")
]
SinceQuery = Annotated[
    IsoTime | None,
    Query(description="Start (ISO 8601; no offset: UTC); default: 24 h before `until`."),
]
UntilQuery = Annotated[
    IsoTime | None, Query(description="End (ISO 8601; no offset: UTC); default: now.")
]
BrandQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=100, description="The brand (a brand user: its own)."),
]
SHELF_READERS = ("admin", "merchandiser", "staff")
BRAND_READERS = ("admin", "merchandiser", "brand")
DEVICE_READERS = ("admin", "installer")

router = APIRouter(prefix="/reports", tags=["reports"])


# ---- response models -----------------------------------------------------------------


class SeriesOut(BaseModel):
    level: Literal["store", "camera", "row"]
    store: str
    camera: str | None
    row: int | None
    label: str = Field(description="The line's name; shelf rows counted from 1.")
    scores: list[float | None] = Field(description="Score per bucket (0..1); None: not seen.")
    coverage: list[float] = Field(description="Share of the bucket's slot time seen (0..1).")


class ComplianceHistoryOut(BaseModel):
    granularity: compliance_history.Granularity
    since: datetime
    until: datetime
    starts: list[datetime] = Field(
        description="Start of each bucket: local hours or days of the store (`pos.timezone`)."
    )
    series: list[SeriesOut]


class SlotTallyOut(BaseModel):
    store: str
    camera: str
    row: int
    slot: int
    sku: str | None
    name: str | None
    brand: str | None
    seen_minutes: float
    failing_minutes: float = Field(description="Minutes empty, wrong product or messy.")
    low_minutes: float
    failing_share: float | None
    minutes_by_status: dict[str, float]


class EvidenceEventOut(BaseModel):
    id: str
    ts: datetime
    type: str
    status: SlotStatus | None = None
    previous: SlotStatus | None = None
    confidence: float | None = None


class ViolationOut(BaseModel):
    store: str
    camera: str
    row: int
    slot: int
    sku: str | None
    name: str | None
    brand: str | None
    status: SlotStatus
    start: datetime
    end: datetime | None = Field(description="None: still so at the end of the range.")
    minutes: float
    event_count: int
    events: list[EvidenceEventOut] = Field(description="The camera's events meanwhile.")


class BrandStoreOut(BaseModel):
    store: str
    slots: int
    facings: int
    shelf_facings: int = Field(description="All facings of the store's bays (any brand).")
    share_of_shelf: float | None
    placement: dict[str, int] = Field(description="Facings per shelf level.")
    availability: float | None = Field(description="Share of watched time on the shelf.")
    facings_compliance: float | None
    units: int
    revenue: float
    currency: str | None


class BrandProductOut(BaseModel):
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


class BrandDailyOut(BaseModel):
    store: str
    availability: list[float | None]
    facings_compliance: list[float | None]
    units: list[int]
    revenue: list[float]


class BrandAuditOut(BaseModel):
    brand: str
    since: datetime
    until: datetime
    days: list[datetime] = Field(
        description="Start of each day of `daily`: local midnight of the store (`pos.timezone`)."
    )
    stores: list[BrandStoreOut]
    products: list[BrandProductOut]
    daily: list[BrandDailyOut]


class DeviceOut(BaseModel):
    store: str
    camera: str
    online: bool
    alert: devices.Alert | None = Field(description="offline, silent or camera_fault.")
    alert_reason: str | None
    last_seen: datetime | None
    offline_since: datetime | None
    last_health: datetime | None
    inference_ms: float | None
    cpu_temp_c: float | None
    fps: float | None
    camera_ok: bool | None
    outbox_pending: int | None
    outbox_dropped: int | None
    software: str | None
    model: str | None
    layout_running: str | None
    layout_configured: str | None
    layout_current: bool | None = Field(description="Runs the layout the gateway publishes.")
    model_version: str | None = Field(
        default=None, description="Rolled-out model version it runs (None: its configured one)."
    )
    rollout_id: int | None = Field(default=None, description="Its latest model roll-out.")
    rollout_version: str | None = Field(default=None, description="That roll-out's model.")
    rollout_outcome: Literal["announced", "switched", "rejected", "reverted"] | None = Field(
        default=None, description="What the node reported (announced: nothing yet)."
    )
    rollout_reason: str | None = Field(default=None, description="Why it refused the model.")


class UplinkOut(BaseModel):
    """The store's uplink to the head office, as the Devices page shows it."""

    enabled: bool = Field(description="Whether this gateway feeds a head office (hq.enabled).")
    backlog: int = Field(description="Envelopes stored, waiting to be sent.")
    dropped: int = Field(description="Envelopes the outbox's bound made it drop.")
    dropped_by_kind: dict[str, int]
    lag_s: float = Field(description="Age of the oldest waiting envelope (0: none waits).")
    sent: int = Field(description="Envelopes sent since the gateway started.")
    last_sent_at: datetime | None
    last_error: str | None = Field(description="Why sending fails, while it does.")


# ---- routes --------------------------------------------------------------------------


def invalid(error: ScopeError) -> RequestValidationError:
    """A 422 shaped like FastAPI's own, naming the query parameter at fault."""
    return RequestValidationError(
        [{"loc": ("query", error.field), "msg": str(error), "type": "value_error"}]
    )


def _moment(value: datetime | None, field: str) -> datetime | None:
    """A query time as UTC (no offset: UTC), within the years a range can span."""
    if value is None:
        return None
    if not 1970 < value.year < 9999:
        raise invalid(ScopeError(f"{field}: a time between 1971 and 9998", field))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def open_scope(
    store: str | None,
    brand: str | None,
    category: str | None,
    since: datetime | None,
    until: datetime | None,
    default_range: timedelta = DEFAULT_RANGE,
) -> ReportScope:
    """The scope a query asks for (before access control narrows it)."""
    until = _moment(until, "until") or datetime.now(UTC)
    since = _moment(since, "since") or until - default_range
    try:
        return ReportScope(since, until, store=store, brand=brand, category=category)
    except ScopeError as error:
        raise invalid(error) from None


def brand_for(principal: Principal, requested: str | None) -> str | None:
    """The brand a report is about: a brand user's own (403 when asking for another)."""
    if principal.kind != "brand":
        return requested
    own = principal.brand
    if requested is not None and (own is None or requested.casefold() != own.casefold()):
        raise HTTPException(403, f"role {principal.role} sees brand {own} only")
    return own


def _file_char(c: str) -> str:
    """Letters, digits and combining marks (Thai tone marks, accents) stay; the rest is -."""
    return c if c.isalnum() or unicodedata.category(c).startswith("M") else "-"


def attachment(filename: str) -> str:
    """A Content-Disposition for a download named after user data (a brand may be `Ćevapi`
    or `ช้าง`): HTTP headers are Latin-1, so an ASCII `filename` for old clients and the
    real name, percent-encoded UTF-8, in `filename*` (RFC 6266) for every browser."""
    stem, dot, suffix = filename.lower().rpartition(".")
    name = "".join(map(_file_char, stem)) + dot + suffix
    ascii_name = "".join(c if c.isascii() else "-" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _run(report: Callable[[], Any]) -> Any:
    """A report's result; a scope it refuses is a 422 naming the query parameter."""
    try:
        return report()
    except ScopeError as error:
        raise invalid(error) from None


@router.get(
    "/compliance",
    response_model=ComplianceHistoryOut,
    dependencies=[allow(*SHELF_READERS)],
)
def compliance(
    backend: Backend,
    principal: CurrentPrincipal,
    store: StoreQuery = None,
    category: CategoryQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    granularity: compliance_history.Granularity = "hour",
) -> dict[str, Any]:
    """Display compliance over time per store, camera (bay) and shelf row."""
    scope = open_scope(store_for(principal, store), None, category, since, until)
    history = _run(
        lambda: compliance_history.compliance_history(
            backend.db, scope, granularity, zone=backend.settings.pos.zone
        )
    )
    return {
        "granularity": history.granularity,
        "since": scope.since,
        "until": scope.until,
        "starts": history.starts,
        "series": [s.__dict__ | {"label": series_label(s)} for s in history.series],
    }


def series_label(series: compliance_history.Series) -> str:
    """The line's name as people count shelves: rows from 1 (the API's `row` is the
    layout's index, from 0), the same numbering as every page."""
    if series.row is None:
        return series.label
    return f"{series.store}/{series.camera} row {series.row + 1}"


@router.get(
    "/worst-slots",
    response_model=list[SlotTallyOut],
    dependencies=[allow(*SHELF_READERS)],
)
def worst_slots(
    backend: Backend,
    principal: CurrentPrincipal,
    store: StoreQuery = None,
    category: CategoryQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
) -> list[dict[str, Any]]:
    """The slots that were empty, wrong or messy longest in the range."""
    scope = open_scope(store_for(principal, store), None, category, since, until)
    tallies = _run(lambda: shelf_violations.worst_slots(backend.db, scope, limit))
    return [t.__dict__ | {"failing_share": t.failing_share} for t in tallies]


@router.get(
    "/violations",
    response_model=list[ViolationOut],
    dependencies=[allow(*SHELF_READERS)],
)
def violations(
    backend: Backend,
    principal: CurrentPrincipal,
    store: StoreQuery = None,
    category: CategoryQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    min_minutes: Annotated[float, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[dict[str, Any]]:
    """Each run of a failing state in a slot, longest first, with the camera's events."""
    scope = open_scope(store_for(principal, store), None, category, since, until)
    found = _run(
        lambda: shelf_violations.violations(backend.db, scope, min_minutes=min_minutes, limit=limit)
    )
    return [v.__dict__ for v in found]


def _audit(
    backend: ApiBackend,
    principal: Principal,
    brand: str | None,
    store: str | None,
    category: str | None,
    since: datetime | None,
    until: datetime | None,
) -> tuple[ReportScope, brand_audit.BrandAudit]:
    brand = brand_for(principal, brand)
    if brand is None:
        raise invalid(ScopeError("a brand audit needs ?brand=", "brand"))
    scope = open_scope(store, brand, category, since, until, timedelta(days=7))
    zone = backend.settings.pos.zone
    return scope, _run(lambda: brand_audit.brand_audit(backend.db, scope, zone=zone))


@router.get("/brand", response_model=BrandAuditOut, dependencies=[allow(*BRAND_READERS)])
def brand(
    backend: Backend,
    principal: CurrentPrincipal,
    brand: BrandQuery = None,
    store: StoreQuery = None,
    category: CategoryQuery = None,
    since: Annotated[
        IsoTime | None, Query(description="Start (ISO 8601); default: 7 days ago.")
    ] = None,
    until: UntilQuery = None,
) -> dict[str, Any]:
    """A brand's own products: availability, facings, share of shelf, placement, sales."""
    scope, found = _audit(backend, principal, brand, store, category, since, until)
    return {
        "brand": found.brand,
        "since": scope.since,
        "until": scope.until,
        "days": found.days,
        "stores": [s.__dict__ for s in found.stores],
        "products": [p.__dict__ for p in found.products],
        "daily": [d.__dict__ for d in found.daily],
    }


@router.get(
    "/brand.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    dependencies=[allow(*BRAND_READERS)],
)
def brand_csv(
    backend: Backend,
    principal: CurrentPrincipal,
    brand: BrandQuery = None,
    store: StoreQuery = None,
    category: CategoryQuery = None,
    since: Annotated[
        IsoTime | None, Query(description="Start (ISO 8601); default: 7 days ago.")
    ] = None,
    until: UntilQuery = None,
) -> Response:
    """The brand audit's product table as CSV (one line per store and product)."""
    _, found = _audit(backend, principal, brand, store, category, since, until)
    return Response(
        brand_audit.audit_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": attachment(f"shelfsense-{found.brand}.csv")},
    )


@router.get("/devices", response_model=list[DeviceOut], dependencies=[allow(*DEVICE_READERS)])
def device_list(
    backend: Backend,
    store: StoreQuery = None,
    offline_alert_s: Annotated[
        float, Query(gt=0, le=86_400, description="Alert after this long offline.")
    ] = devices.OFFLINE_ALERT_S,
    silent_after_s: Annotated[
        float, Query(gt=0, le=86_400, description="Alert after this long without health.")
    ] = devices.SILENT_AFTER_S,
) -> list[dict[str, Any]]:
    """Every camera node: online, last seen, health figures, layout versions, alert."""
    found = devices.device_statuses(
        backend.db, store, offline_alert_s=offline_alert_s, silent_after_s=silent_after_s
    )
    return [d.__dict__ | {"layout_current": d.layout_current} for d in found]


@router.get("/devices/uplink", response_model=UplinkOut, dependencies=[allow(*DEVICE_READERS)])
def uplink(backend: Backend) -> UplinkOut:
    """The head-office uplink: enabled, backlog, dropped, lag, last sent, last error."""
    status = backend.uplink_status()
    if status is None:
        return UplinkOut(
            enabled=False,
            backlog=0,
            dropped=0,
            dropped_by_kind={},
            lag_s=0.0,
            sent=0,
            last_sent_at=None,
            last_error=None,
        )
    return UplinkOut(enabled=True, **status.__dict__)


@router.get(
    "/categories",
    response_model=list[str],
    dependencies=[allow("admin", "merchandiser", "staff", "brand")],
)
def categories(backend: Backend, principal: CurrentPrincipal) -> list[str]:
    """Product categories of the catalogue, for the report filters (a brand: those
    of its own products)."""
    with backend.db.read() as conn:
        rows = conn.execute(
            "SELECT DISTINCT category, brand FROM products WHERE category IS NOT NULL"
        ).fetchall()
    return sorted({r["category"] for r in rows if principal.sees_brand(r["brand"])})
