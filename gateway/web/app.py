"""The HTTP API (FastAPI): cameras, events, dead letters, layouts, health, and calibration
(snapshots, planogram import, compliance) with its web page; POS sales, the catalogue and
sales velocity come from gateway/web/routers/retail.py, advice from gateway/web/routers/advice.py.

Every route returns a pydantic response model, so `/openapi.json` (and `/docs`) describe
the exact shapes. Every route declares who may call it with `allow(...)` (gateway/auth/access.py;
README: Users and access) and scopes its rows to the caller: staff see their own store,
a brand its own products (gateway/auth/scoping.py). `create_app` refuses an /api route that
declares no access.

The app reads through a backend: the running `Gateway`, or a bare `Database` for a
read-only API (then nothing is published and the broker shows as not connected).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from edge.contract.compliance import Compliance
from edge.contract.messages import EventType, SlotStatus
from edge.layout import Layout
from gateway.auth.access import (
    EVERYONE,
    AccessControl,
    CurrentPrincipal,
    allow,
    allow_page,
    install_access,
    methods_at,
    public,
    require_declared_access,
)
from gateway.auth.scoping import (
    BrandViews,
    CurrentBrandView,
    brand_camera,
    brand_compliance,
    brand_events,
    brand_layout,
    require_store,
    store_for,
)
from gateway.config.settings import AuthSettings
from gateway.config.version import package_version
from gateway.mqtt.snapshots import SnapshotStore, SnapshotUnavailable, StoredSnapshot
from gateway.shelf import planogram
from gateway.shelf.compliance import camera_compliance
from gateway.storage.cameras import find_camera, list_cameras, snapshots_enabled
from gateway.storage.connection import Database
from gateway.storage.dead_letters import list_dead_letters
from gateway.storage.events import list_events
from gateway.storage.layouts import find_layout
from gateway.web.pages import add_pages
from gateway.web.params import BAD_BODY, ID_PATTERN, MAX_LIMIT, IsoTime
from gateway.web.routers.advice import build_advice_router
from gateway.web.routers.auth import add_login_page, build_auth_router
from gateway.web.routers.live import build_live_router
from gateway.web.routers.reports import build_reports_router
from gateway.web.routers.retail import build_retail_router

STATIC_DIR = FilePath(__file__).resolve().parent / "static"
SNAPSHOT_TIMEOUT_S = 10.0
LAYOUT_EDITORS = ("admin", "installer")
"""Who changes layouts and takes snapshots (an image shows every brand and the store)."""
StoreId = Annotated[str, Path(pattern=ID_PATTERN, description="Store id (a topic level).")]
CameraId = Annotated[str, Path(pattern=ID_PATTERN, description="Camera id (a topic level).")]


class ApiBackend(Protocol):
    """What the API needs from whoever serves it (the Gateway satisfies it)."""

    db: Database

    @property
    def broker_connected(self) -> bool: ...

    @property
    def counters(self) -> dict[str, int]: ...

    def set_layout(self, store: str, camera: str, layout: Layout) -> str: ...

    snapshots: SnapshotStore

    def set_snapshots_enabled(self, store: str, camera: str, enabled: bool) -> None: ...

    def request_snapshot(
        self, store: str, camera: str, timeout: float
    ) -> StoredSnapshot | None: ...


class DatabaseBackend:
    """A read-mostly backend over a bare database: layouts are stored, not published, and
    there is no camera to ask for a snapshot."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.snapshots = SnapshotStore()

    @property
    def broker_connected(self) -> bool:
        return False

    @property
    def counters(self) -> dict[str, int]:
        return {}

    def set_layout(self, store: str, camera: str, layout: Layout) -> str:
        with self.db.transaction() as tx:
            return tx.save_layout(store, camera, layout, datetime.now(UTC))

    def set_snapshots_enabled(self, store: str, camera: str, enabled: bool) -> None:
        with self.db.transaction() as tx:
            tx.set_snapshots_enabled(store, camera, enabled, datetime.now(UTC))

    def request_snapshot(self, store: str, camera: str, timeout: float) -> StoredSnapshot | None:
        raise SnapshotUnavailable("this API has no broker connection (read-only database)")


# ---- response models -----------------------------------------------------------------


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="ok when the database answers and the broker is connected."
    )
    version: str
    broker_connected: bool
    db_ok: bool
    counters: dict[str, int] = Field(
        description="Since start: received, stored, duplicates, stale, ignored, "
        "dead_letters, dropped, batches, queue_depth; with InfluxDB export on, also "
        "influx_queued, influx_written, influx_dropped, influx_rejected, influx_failures, "
        "influx_queue_depth."
    )


class SlotOut(BaseModel):
    row: int
    slot: int
    sku: str | None = None
    status: SlotStatus
    confidence: float
    gap_fraction: float = 0.0
    since: datetime | None = None


class StateOut(BaseModel):
    ts: datetime = Field(description="When the node produced this state (node clock, UTC).")
    updated_at: datetime = Field(description="When the gateway stored it (UTC).")
    seq: int
    layout_version: str | None = None
    score: float | None = None
    occluded: bool = False
    model: str | None = None
    slots: list[SlotOut]


class CameraHealthOut(BaseModel):
    ts: datetime
    updated_at: datetime
    uptime_s: float
    frames_processed: int
    frames_failed: int = 0
    camera_ok: bool
    inference_ms: float | None = None
    fps: float | None = None
    cpu_temp_c: float | None = None
    last_error: str | None = None
    outbox_pending: int = 0
    outbox_dropped: int = 0
    model: str | None = None
    software: str | None = None
    snapshots_allowed: bool | None = Field(
        default=None, description="Whether the node's own config allows snapshots."
    )


class CameraOut(BaseModel):
    store: str
    camera: str
    online: bool = Field(description="From the retained availability topic and Last Will.")
    last_seen: datetime | None = None
    availability_at: datetime | None = None
    state: StateOut | None = None
    layout_version: str | None = Field(
        default=None, description="Layout version the camera reports running."
    )
    configured_layout_version: str | None = Field(
        default=None, description="Layout version the gateway publishes to the camera."
    )
    score: float | None = Field(default=None, description="Latest display compliance score.")
    health: CameraHealthOut | None = None


class EventOut(BaseModel):
    id: str
    store: str
    camera: str
    ts: datetime
    type: EventType
    row: int | None = None
    slot: int | None = None
    sku: str | None = None
    previous: SlotStatus | None = None
    status: SlotStatus | None = None
    confidence: float
    detail: dict[str, Any] = Field(default_factory=dict)
    received_at: datetime


class DeadLetterOut(BaseModel):
    id: int
    received_at: datetime
    topic: str
    reason: str = Field(description="Names the topic and the field or line at fault.")
    size: int = Field(description="Payload size in bytes (the payload shown may be cut).")
    payload: str


class LayoutOut(BaseModel):
    store: str
    camera: str
    version: str
    layout: Layout
    updated_at: datetime


class SnapshotSettingOut(BaseModel):
    store: str
    camera: str
    snapshots_enabled: bool


class SnapshotSettingIn(BaseModel):
    enabled: bool = Field(strict=True, description="true or false (not 0/1 or text).")


class SnapshotOut(BaseModel):
    """A camera's answer to a snapshot request (the image is at `image_url`)."""

    store: str
    camera: str
    request_id: str
    ts: datetime = Field(description="When the node took it (node clock, UTC).")
    received_at: datetime
    image_url: str | None = Field(description="The JPEG, people blurred; None if refused.")
    width: int | None = None
    height: int | None = None
    people_blurred: int = 0
    layout_version: str | None = None
    proposal: Layout | None = Field(
        default=None, description="Rows and slots calibration proposes from this frame."
    )
    error: str | None = Field(default=None, description="Why the camera refused.")


class ComplianceOut(Compliance):
    store: str
    camera: str
    at: datetime | None = Field(description="The moment scored; None: the latest states.")
    layout_version: str


def _snapshot_out(stored: StoredSnapshot) -> dict[str, Any]:
    snap = stored.snapshot
    return {
        "store": snap.store,
        "camera": snap.camera,
        "request_id": snap.request_id,
        "ts": snap.ts,
        "received_at": stored.received_at,
        "image_url": (
            f"/api/cameras/{snap.store}/{snap.camera}/snapshot.jpg?r={snap.request_id}"
            if stored.jpeg
            else None
        ),
        "width": snap.width,
        "height": snap.height,
        "people_blurred": snap.people_blurred,
        "layout_version": snap.layout_version,
        "proposal": snap.proposal,
        "error": snap.error,
    }


# ---- routes --------------------------------------------------------------------------


def build_router(backend: ApiBackend, dependencies: Sequence[Any] = ()) -> APIRouter:
    """Every /api route; `dependencies` apply to all of them (each route adds its own
    access rule)."""
    router = APIRouter(prefix="/api", dependencies=list(dependencies))
    db = backend.db

    @router.get("/health", response_model=HealthResponse, tags=["system"], dependencies=[public()])
    def health() -> HealthResponse:
        """Is the gateway working: database, broker connection and ingest counters.
        Open to anyone (for monitoring): it names no store, camera, brand or product."""
        db_ok = db.ping()
        connected = backend.broker_connected
        return HealthResponse(
            status="ok" if db_ok and connected else "degraded",
            version=package_version(),
            broker_connected=connected,
            db_ok=db_ok,
            counters=backend.counters,
        )

    @router.get(
        "/cameras",
        response_model=list[CameraOut],
        tags=["cameras"],
        dependencies=[allow(*EVERYONE)],
    )
    def cameras(principal: CurrentPrincipal, view: CurrentBrandView) -> list[dict[str, Any]]:
        """Every camera the gateway has heard from or has a layout for (staff: their
        store's; a brand: with its own slots only)."""
        records = list_cameras(db, store=principal.stores_filter())
        return records if view is None else [brand_camera(view, r) for r in records]

    @router.get(
        "/cameras/{store}/{camera}",
        response_model=CameraOut,
        responses={404: {"description": "Unknown camera"}},
        tags=["cameras"],
        dependencies=[allow(*EVERYONE)],
    )
    def camera(
        store: StoreId, camera: CameraId, principal: CurrentPrincipal, view: CurrentBrandView
    ) -> dict[str, Any]:
        """One camera: availability, latest shelf state, health, layout versions."""
        require_store(principal, store)
        record = find_camera(db, store, camera)
        if record is None:
            raise HTTPException(404, f"unknown camera {store}/{camera}")
        return record if view is None else brand_camera(view, record)

    @router.get(
        "/events",
        response_model=list[EventOut],
        tags=["events"],
        dependencies=[allow("admin", "staff", "merchandiser", "brand")],
    )
    def events(
        principal: CurrentPrincipal,
        view: CurrentBrandView,
        store: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
        camera: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
        type: EventType | None = None,
        since: Annotated[
            IsoTime | None, Query(description="Only events at or after this time (ISO 8601).")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    ) -> list[dict[str, Any]]:
        """Shelf events, newest first (staff: their store's; a brand: its products')."""
        rows = list_events(
            db,
            store=store_for(principal, store),
            camera=camera,
            type=type.value if type else None,
            since=since,
            skus=None if view is None else view.own_skus,
            limit=limit,
        )
        return rows if view is None else brand_events(view, rows)

    @router.get(
        "/dead-letters",
        response_model=list[DeadLetterOut],
        tags=["system"],
        dependencies=[allow("admin")],
    )
    def dead_letters(
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    ) -> list[dict[str, Any]]:
        """Messages the gateway could not use, newest first, with the reason."""
        return list_dead_letters(db, limit)

    @router.get(
        "/layouts/{store}/{camera}",
        response_model=LayoutOut,
        responses={404: {"description": "No layout for this camera"}},
        tags=["layouts"],
        dependencies=[allow(*EVERYONE)],
    )
    def get_layout(
        store: StoreId, camera: CameraId, principal: CurrentPrincipal, view: CurrentBrandView
    ) -> dict[str, Any]:
        """The layout the gateway publishes to a camera (a brand: its own slots only)."""
        require_store(principal, store)
        record = find_layout(db, store, camera)
        if record is None:
            raise HTTPException(404, f"no layout for camera {store}/{camera}")
        return record if view is None else brand_layout(view, record)

    @router.put(
        "/layouts/{store}/{camera}",
        response_model=LayoutOut,
        responses=BAD_BODY,
        tags=["layouts"],
        dependencies=[allow(*LAYOUT_EDITORS)],
    )
    def put_layout(store: StoreId, camera: CameraId, layout: Layout) -> dict[str, Any]:
        """Store a camera's layout and publish it as the camera's retained config."""
        backend.set_layout(store, camera, layout)
        record = find_layout(db, store, camera)
        assert record is not None
        return record

    router.include_router(build_retail_router(backend))  # /api/pos, /catalogue, /velocity
    router.include_router(build_advice_router(backend))  # /api/advice
    router.include_router(build_auth_router())  # /api/auth
    router.include_router(build_reports_router(backend))  # /api/reports
    router.include_router(build_live_router(backend))  # /api/stream

    @router.post(
        "/layouts/{store}/{camera}/planogram",
        response_model=LayoutOut,
        responses={422: {"description": "The planogram is wrong; the detail names lines"}},
        tags=["layouts"],
        dependencies=[allow(*LAYOUT_EDITORS)],
    )
    async def import_planogram(
        store: StoreId, camera: CameraId, request: Request
    ) -> dict[str, Any]:
        """Import a planogram (CSV, or JSON with Content-Type application/json) as the
        camera's layout; without picture coordinates the current layout's geometry is kept."""
        text = (await request.body()).decode("utf-8", errors="replace")
        kind = "json" if "json" in request.headers.get("content-type", "") else None
        record = find_layout(db, store, camera)
        current = Layout.model_validate(record["layout"]) if record else None
        try:
            layout = planogram.to_layout(planogram.parse(text, "planogram", kind), current)
        except planogram.PlanogramError as error:
            raise HTTPException(422, str(error)) from None
        backend.set_layout(store, camera, layout)
        stored = find_layout(db, store, camera)
        assert stored is not None
        return stored

    @router.get(
        "/cameras/{store}/{camera}/compliance",
        response_model=ComplianceOut,
        responses={404: {"description": "No layout for this camera"}},
        tags=["cameras"],
        dependencies=[allow(*EVERYONE)],
    )
    def compliance(
        store: StoreId,
        camera: CameraId,
        principal: CurrentPrincipal,
        view: CurrentBrandView,
        at: Annotated[
            IsoTime | None, Query(description="Score this moment (ISO 8601; default now).")
        ] = None,
    ) -> dict[str, Any]:
        """Display compliance (README: Display compliance) from the stored slot states,
        overall and per brand with share of shelf (a brand: its own slots' score and
        its own share of shelf only)."""
        require_store(principal, store)
        result = camera_compliance(db, store, camera, at)
        record = find_layout(db, store, camera)
        if result is None or record is None:
            raise HTTPException(404, f"no layout for camera {store}/{camera}")
        body = result.model_dump() | {
            "store": store,
            "camera": camera,
            "at": at,
            "layout_version": record["version"],
        }
        if view is None:
            return body
        own = camera_compliance(db, store, camera, at, skus=view.own_skus)
        assert own is not None
        return brand_compliance(view, body, own.model_dump())

    @router.get(
        "/cameras/{store}/{camera}/snapshots",
        response_model=SnapshotSettingOut,
        tags=["calibration"],
        dependencies=[allow(*LAYOUT_EDITORS)],
    )
    def get_snapshot_setting(store: StoreId, camera: CameraId) -> dict[str, Any]:
        """Whether the gateway lets this camera send snapshots (off until enabled)."""
        return {
            "store": store,
            "camera": camera,
            "snapshots_enabled": snapshots_enabled(db, store, camera),
        }

    @router.put(
        "/cameras/{store}/{camera}/snapshots",
        response_model=SnapshotSettingOut,
        responses=BAD_BODY,
        tags=["calibration"],
        dependencies=[allow(*LAYOUT_EDITORS)],
    )
    def put_snapshot_setting(
        store: StoreId, camera: CameraId, setting: SnapshotSettingIn
    ) -> dict[str, Any]:
        """Enable or disable snapshots of this camera (the node's own config must allow
        them too); the camera learns it from its retained config."""
        backend.set_snapshots_enabled(store, camera, setting.enabled)
        return {"store": store, "camera": camera, "snapshots_enabled": setting.enabled}

    @router.post(
        "/cameras/{store}/{camera}/snapshot",
        response_model=SnapshotOut,
        responses={
            503: {"description": "No broker connection"},
            504: {"description": "The camera did not answer in time"},
        },
        tags=["calibration"],
        dependencies=[allow(*LAYOUT_EDITORS)],
    )
    def take_snapshot(
        store: StoreId,
        camera: CameraId,
        timeout: Annotated[float, Query(gt=0, le=60)] = SNAPSHOT_TIMEOUT_S,
    ) -> dict[str, Any]:
        """Ask the camera for a snapshot (people blurred) and its layout proposal. A
        refusal comes back with `error` saying which switch is off."""
        try:
            stored = backend.request_snapshot(store, camera, timeout)
        except SnapshotUnavailable as error:
            raise HTTPException(503, str(error)) from None
        if stored is None:
            raise HTTPException(
                504, f"camera {store}/{camera} did not answer within {timeout:g} s (is it online?)"
            )
        return _snapshot_out(stored)

    @router.get(
        "/cameras/{store}/{camera}/snapshot",
        response_model=SnapshotOut,
        responses={404: {"description": "No snapshot since the gateway started"}},
        tags=["calibration"],
        dependencies=[allow(*LAYOUT_EDITORS)],
    )
    def last_snapshot(store: StoreId, camera: CameraId) -> dict[str, Any]:
        """The last snapshot answer (kept in memory only)."""
        stored = backend.snapshots.latest(store, camera)
        if stored is None:
            raise HTTPException(404, f"no snapshot of {store}/{camera} since the gateway started")
        return _snapshot_out(stored)

    @router.get(
        "/cameras/{store}/{camera}/snapshot.jpg",
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "No image"}},
        tags=["calibration"],
        dependencies=[allow(*LAYOUT_EDITORS)],
    )
    def snapshot_image(store: StoreId, camera: CameraId) -> Response:
        """The last snapshot's JPEG (people blurred); never cached."""
        stored = backend.snapshots.latest(store, camera)
        if stored is None or stored.jpeg is None:
            raise HTTPException(404, f"no snapshot image of {store}/{camera}")
        return Response(stored.jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    return router


def add_calibration_page(app: FastAPI) -> None:
    """The calibration page (`/calibrate?store=S&camera=C`) and its vendored assets."""

    @app.get("/calibrate", include_in_schema=False, dependencies=[allow_page(*LAYOUT_EDITORS)])
    def calibrate_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "calibrate.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def create_app(
    source: ApiBackend | Database,
    *,
    dependencies: Sequence[Any] = (),
    title: str = "shelfsense gateway",
) -> FastAPI:
    """The FastAPI app over a Gateway (or any ApiBackend) or a bare Database.

    Users and sessions live in the same database; the access settings come from the
    backend's `settings.auth` (a Gateway's config) or the defaults."""
    backend = DatabaseBackend(source) if isinstance(source, Database) else source
    app = FastAPI(
        title=title,
        version=package_version(),
        description="Shelf state, events and layouts of the store's camera nodes. Sign in "
        "at /login (a session cookie) or send 'Authorization: Bearer <API token>'.",
    )
    settings = getattr(getattr(backend, "settings", None), "auth", None)
    install_access(app, AccessControl(backend.db, settings or AuthSettings()))
    app.state.brand_views = BrandViews(backend.db)
    app.include_router(build_router(backend, dependencies))
    add_calibration_page(app)
    add_login_page(app)
    add_pages(app)
    require_declared_access(app)
    app.state.backend = backend
    app.add_exception_handler(StarletteHTTPException, _with_every_allowed_method)
    return app


async def _with_every_allowed_method(request: Request, error: Exception) -> Response:
    """Starlette's 405 names the methods of the first route on the path only (GET for
    /api/layouts/…, though PUT works too): list every route's, as HTTP asks."""
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 405:
        methods = methods_at(request.app, request.url.path)
        error.headers = {**(error.headers or {}), "Allow": ", ".join(sorted(methods))}
    return await http_exception_handler(request, error)


__all__ = ["ApiBackend", "DatabaseBackend", "build_router", "create_app"]
