"""The HTTP API (FastAPI): cameras, events, dead letters, layouts and health; POS sales,
the catalogue and sales velocity come from gateway/retail_api.py.

Every route returns a pydantic response model, so `/openapi.json` (and `/docs`) describe
the exact shapes. The routes live on one `APIRouter`; `create_app(..., dependencies=[...])`
puts a dependency (authentication, later) in front of all of them.

The app reads through a backend: the running `Gateway`, or a bare `Database` for a
read-only API (then nothing is published and the broker shows as not connected).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from edge.contract.messages import EventType, SlotStatus
from edge.layout import Layout
from gateway.advice_api import build_advice_router
from gateway.api_types import BAD_BODY, ID_PATTERN, MAX_LIMIT, IsoTime
from gateway.database import Database
from gateway.retail_api import build_retail_router
from gateway.version import package_version

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


class DatabaseBackend:
    """A read-mostly backend over a bare database: layouts are stored, not published."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def broker_connected(self) -> bool:
        return False

    @property
    def counters(self) -> dict[str, int]:
        return {}

    def set_layout(self, store: str, camera: str, layout: Layout) -> str:
        with self.db.transaction() as tx:
            return tx.save_layout(store, camera, layout, datetime.now(UTC))


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


# ---- routes --------------------------------------------------------------------------


def build_router(backend: ApiBackend, dependencies: Sequence[Any] = ()) -> APIRouter:
    """Every /api route; `dependencies` (e.g. Depends(auth)) apply to all of them."""
    router = APIRouter(prefix="/api", dependencies=list(dependencies))
    db = backend.db

    @router.get("/health", response_model=HealthResponse, tags=["system"])
    def health() -> HealthResponse:
        """Is the gateway working: database, broker connection and ingest counters."""
        db_ok = db.ping()
        connected = backend.broker_connected
        return HealthResponse(
            status="ok" if db_ok and connected else "degraded",
            version=package_version(),
            broker_connected=connected,
            db_ok=db_ok,
            counters=backend.counters,
        )

    @router.get("/cameras", response_model=list[CameraOut], tags=["cameras"])
    def cameras() -> list[dict[str, Any]]:
        """Every camera the gateway has heard from or has a layout for."""
        return db.cameras()

    @router.get(
        "/cameras/{store}/{camera}",
        response_model=CameraOut,
        responses={404: {"description": "Unknown camera"}},
        tags=["cameras"],
    )
    def camera(store: StoreId, camera: CameraId) -> dict[str, Any]:
        """One camera: availability, latest shelf state, health, layout versions."""
        record = db.camera(store, camera)
        if record is None:
            raise HTTPException(404, f"unknown camera {store}/{camera}")
        return record

    @router.get("/events", response_model=list[EventOut], tags=["events"])
    def events(
        store: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
        camera: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
        type: EventType | None = None,
        since: Annotated[
            IsoTime | None, Query(description="Only events at or after this time (ISO 8601).")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    ) -> list[dict[str, Any]]:
        """Shelf events, newest first."""
        return db.events(
            store=store,
            camera=camera,
            type=type.value if type else None,
            since=since,
            limit=limit,
        )

    @router.get("/dead-letters", response_model=list[DeadLetterOut], tags=["system"])
    def dead_letters(
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    ) -> list[dict[str, Any]]:
        """Messages the gateway could not use, newest first, with the reason."""
        return db.dead_letters(limit)

    @router.get(
        "/layouts/{store}/{camera}",
        response_model=LayoutOut,
        responses={404: {"description": "No layout for this camera"}},
        tags=["layouts"],
    )
    def get_layout(store: StoreId, camera: CameraId) -> dict[str, Any]:
        """The layout the gateway publishes to a camera."""
        record = db.layout(store, camera)
        if record is None:
            raise HTTPException(404, f"no layout for camera {store}/{camera}")
        return record

    @router.put(
        "/layouts/{store}/{camera}",
        response_model=LayoutOut,
        responses=BAD_BODY,
        tags=["layouts"],
    )
    def put_layout(store: StoreId, camera: CameraId, layout: Layout) -> dict[str, Any]:
        """Store a camera's layout and publish it as the camera's retained config."""
        backend.set_layout(store, camera, layout)
        record = db.layout(store, camera)
        assert record is not None
        return record

    router.include_router(build_retail_router(backend))  # /api/pos, /catalogue, /velocity
    router.include_router(build_advice_router(backend))  # /api/advice
    return router


def create_app(
    source: ApiBackend | Database,
    *,
    dependencies: Sequence[Any] = (),
    title: str = "shelfsense gateway",
) -> FastAPI:
    """The FastAPI app over a Gateway (or any ApiBackend) or a bare Database."""
    backend = DatabaseBackend(source) if isinstance(source, Database) else source
    app = FastAPI(
        title=title,
        version=package_version(),
        description="Shelf state, events and layouts of the store's camera nodes.",
    )
    app.include_router(build_router(backend, dependencies))
    app.state.backend = backend
    app.add_exception_handler(StarletteHTTPException, _with_every_allowed_method)
    return app


async def _with_every_allowed_method(request: Request, error: Exception) -> Response:
    """Starlette's 405 names the methods of the first route on the path only (GET for
    /api/layouts/…, though PUT works too): list every route's, as HTTP asks."""
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 405:
        methods = {
            method
            for route in request.app.routes
            if isinstance(route, APIRoute) and route.matches(request.scope)[0] != Match.NONE
            for method in route.methods
        }
        error.headers = {**(error.headers or {}), "Allow": ", ".join(sorted(methods))}
    return await http_exception_handler(request, error)


__all__ = ["ApiBackend", "DatabaseBackend", "build_router", "create_app"]
