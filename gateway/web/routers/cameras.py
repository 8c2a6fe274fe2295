"""`/api/cameras`: every camera the gateway knows, and one camera's availability, latest
shelf state, health and layout versions (a brand sees its own slots only); an admin
deletes a camera with everything stored of it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from edge.contract.ids import ID_PATTERN
from edge.contract.messages import SlotStatus
from gateway.auth.access import EVERYONE, CurrentPrincipal, allow
from gateway.auth.scoping import CurrentBrandView, brand_camera, require_store
from gateway.storage.cameras import count_cameras, find_camera, list_cameras
from gateway.web.backend import Backend
from gateway.web.params import MAX_LIMIT, MAX_ROW_ID, CameraId, StoreId
from gateway.web.routers.removal_models import RemovedOut

router = APIRouter(tags=["cameras"])

TOTAL_HEADER = {
    "description": "How many cameras match the filters, whatever the page.",
    "schema": {"type": "integer"},
}


class SlotOut(BaseModel):
    row: int
    slot: int
    sku: str | None = None
    status: SlotStatus
    confidence: float
    gap_fraction: float = 0.0
    since: datetime | None = None
    held_status: SlotStatus | None = Field(
        default=None,
        description="An occluded slot: the status it holds (last seen before the "
        "occlusion; the node's word, else the slot log's). None when not occluded.",
    )
    held_since: datetime | None = Field(
        default=None, description="An occluded slot: since when it holds `held_status`."
    )


class StateOut(BaseModel):
    ts: datetime = Field(description="When the node produced this state (node clock, UTC).")
    updated_at: datetime = Field(description="When the gateway stored it (UTC).")
    seq: int
    layout_version: str | None = None
    score: float | None = None
    occluded: bool = False
    model: str | None = None
    model_version: str | None = Field(
        default=None, description="Rolled-out model version it runs (None: its configured one)."
    )
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
    model_version: str | None = Field(
        default=None, description="Rolled-out model version it runs (None: its configured one)."
    )
    model_update: str | None = Field(
        default=None, description="The last model roll-out's outcome, and why, in words."
    )
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


@router.get(
    "/cameras",
    response_model=list[CameraOut],
    dependencies=[allow(*EVERYONE)],
    responses={200: {"headers": {"X-Total-Count": TOTAL_HEADER}}},
)
def cameras(
    response: Response,
    backend: Backend,
    principal: CurrentPrincipal,
    view: CurrentBrandView,
    store: Annotated[str | None, Query(pattern=ID_PATTERN, description="Only this store.")] = None,
    camera: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only cameras with this id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = MAX_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> list[dict[str, Any]]:
    """The cameras the gateway has heard from or has a layout for, by store and camera
    (staff: their store's only; a brand: with its own slots only). `store` and `camera`
    filter, `limit`/`offset` page; `X-Total-Count` says how many match in all."""
    own = principal.stores_filter()
    if own is not None and store not in (None, own):
        response.headers["X-Total-Count"] = "0"
        return []
    store = own or store
    records = list_cameras(backend.db, store, camera, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(count_cameras(backend.db, store, camera))
    return records if view is None else [brand_camera(view, r) for r in records]


@router.get(
    "/cameras/{store}/{camera}",
    response_model=CameraOut,
    responses={404: {"description": "Unknown camera"}},
    dependencies=[allow(*EVERYONE)],
)
def camera(
    store: StoreId,
    camera: CameraId,
    backend: Backend,
    principal: CurrentPrincipal,
    view: CurrentBrandView,
) -> dict[str, Any]:
    """One camera: availability, latest shelf state, health, layout versions."""
    require_store(principal, store)
    record = find_camera(backend.db, store, camera)
    if record is None:
        raise HTTPException(404, f"unknown camera {store}/{camera}")
    return record if view is None else brand_camera(view, record)


@router.delete(
    "/cameras/{store}/{camera}",
    response_model=RemovedOut,
    responses={404: {"description": "Unknown camera"}},
    dependencies=[allow("admin")],
)
def delete_camera(store: StoreId, camera: CameraId, backend: Backend) -> dict[str, Any]:
    """Delete a camera and every row of it (admin only): availability, state, slot log,
    events, health, layout, settings and advice, so nothing of it stays in pickers,
    Devices or reports; the store's sale lines are kept. Its retained topics are
    cleared on the broker. Stop the node first: a camera that still sends comes back as
    a new one. Answers what was removed, per table."""
    with backend.db.transaction() as tx:
        removed = tx.delete_camera(store, camera)
    if not removed:
        raise HTTPException(404, f"unknown camera {store}/{camera}")
    backend.camera_removed(store, camera)
    return {"store": store, "camera": camera, "removed": removed}
