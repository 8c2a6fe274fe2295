"""`/api/cameras/{store}/{camera}/snapshot...`: calibration snapshots. Whether a camera
may send them (off until enabled), asking it for one (people blurred, with the layout
it proposes), and the last answer with its JPEG, kept in memory only.

Only layout editors (admins, installers) use these: an image shows every brand's products
and the store itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from edge.layout import Layout
from gateway.auth.access import allow
from gateway.mqtt.snapshots import SnapshotUnavailable, StoredSnapshot
from gateway.storage.cameras import snapshots_enabled
from gateway.web.backend import Backend
from gateway.web.params import BAD_BODY, CameraId, StoreId
from gateway.web.routers.layouts import LAYOUT_EDITORS

SNAPSHOT_TIMEOUT_S = 10.0

router = APIRouter(tags=["calibration"])


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


@router.get(
    "/cameras/{store}/{camera}/snapshots",
    response_model=SnapshotSettingOut,
    dependencies=[allow(*LAYOUT_EDITORS)],
)
def get_snapshot_setting(store: StoreId, camera: CameraId, backend: Backend) -> dict[str, Any]:
    """Whether the gateway lets this camera send snapshots (off until enabled)."""
    return {
        "store": store,
        "camera": camera,
        "snapshots_enabled": snapshots_enabled(backend.db, store, camera),
    }


@router.put(
    "/cameras/{store}/{camera}/snapshots",
    response_model=SnapshotSettingOut,
    responses=BAD_BODY,
    dependencies=[allow(*LAYOUT_EDITORS)],
)
def put_snapshot_setting(
    store: StoreId, camera: CameraId, setting: SnapshotSettingIn, backend: Backend
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
    dependencies=[allow(*LAYOUT_EDITORS)],
)
def take_snapshot(
    store: StoreId,
    camera: CameraId,
    backend: Backend,
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
    dependencies=[allow(*LAYOUT_EDITORS)],
)
def last_snapshot(store: StoreId, camera: CameraId, backend: Backend) -> dict[str, Any]:
    """The last snapshot answer (kept in memory only)."""
    stored = backend.snapshots.latest(store, camera)
    if stored is None:
        raise HTTPException(404, f"no snapshot of {store}/{camera} since the gateway started")
    return _snapshot_out(stored)


@router.get(
    "/cameras/{store}/{camera}/snapshot.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "No image"}},
    dependencies=[allow(*LAYOUT_EDITORS)],
)
def snapshot_image(store: StoreId, camera: CameraId, backend: Backend) -> Response:
    """The last snapshot's JPEG (people blurred); never cached."""
    stored = backend.snapshots.latest(store, camera)
    if stored is None or stored.jpeg is None:
        raise HTTPException(404, f"no snapshot image of {store}/{camera}")
    return Response(stored.jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
