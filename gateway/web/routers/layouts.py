"""`/api/layouts/{store}/{camera}`: the layout the gateway publishes to a camera, set as
JSON or imported from a planogram (CSV or JSON).

Layouts are changed by admins and installers (`LAYOUT_EDITORS`), who also take the
calibration snapshots; every user reads them (a brand: its own slots only); only an
admin deletes one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel

from edge.layout import Layout
from gateway.auth.access import EVERYONE, CurrentPrincipal, allow
from gateway.auth.scoping import CurrentBrandView, brand_layout, require_store
from gateway.shelf import planogram
from gateway.shelf.layout_guard import CatalogueConflict, UnknownCamera, check_layout
from gateway.storage.layouts import find_layout
from gateway.web.backend import Backend
from gateway.web.params import BAD_BODY, CameraId, StoreId
from gateway.web.routers.removal_models import RemovedOut

LAYOUT_EDITORS = ("admin", "installer")
"""Who changes layouts and takes snapshots (an image shows every brand and the store)."""

router = APIRouter(tags=["layouts"])

Create = Annotated[
    bool,
    Query(
        description="Add the store/camera if the gateway has never seen it (without it, "
        "an unknown store or camera is refused with 400, so a typo makes no phantom store)."
    ),
]

_SET_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Unknown store or camera (send create=true to add it)"},
    409: {"description": "A slot gives a known GTIN another name or brand; the detail names it"},
}


def _store(
    backend: Backend, store: str, camera: str, layout: Layout, create: bool
) -> dict[str, Any]:
    """Check the layout (known camera, catalogue agreement), store and publish it."""
    try:
        check_layout(backend.db, store, camera, layout, create=create)
    except UnknownCamera as error:
        raise HTTPException(400, str(error)) from None
    except CatalogueConflict as error:
        raise HTTPException(409, str(error)) from None
    backend.set_layout(store, camera, layout)
    record = find_layout(backend.db, store, camera)
    assert record is not None
    return record


class LayoutOut(BaseModel):
    store: str
    camera: str
    version: str
    layout: Layout
    updated_at: datetime


@router.get(
    "/layouts/{store}/{camera}",
    response_model=LayoutOut,
    responses={404: {"description": "No layout for this camera"}},
    dependencies=[allow(*EVERYONE)],
)
def get_layout(
    store: StoreId,
    camera: CameraId,
    backend: Backend,
    principal: CurrentPrincipal,
    view: CurrentBrandView,
) -> dict[str, Any]:
    """The layout the gateway publishes to a camera (a brand: its own slots only)."""
    require_store(principal, store)
    record = find_layout(backend.db, store, camera)
    if record is None:
        raise HTTPException(404, f"no layout for camera {store}/{camera}")
    return record if view is None else brand_layout(view, record)


@router.put(
    "/layouts/{store}/{camera}",
    response_model=LayoutOut,
    responses=BAD_BODY | _SET_ERRORS,
    dependencies=[allow(*LAYOUT_EDITORS)],
)
def put_layout(
    store: StoreId, camera: CameraId, layout: Layout, backend: Backend, create: Create = False
) -> dict[str, Any]:
    """Store a camera's layout and publish it as the camera's retained config.

    The camera must be known (heard from, or set up before) unless `create=true`; a slot
    may not give a catalogued GTIN another name or brand (409 naming row, slot and both
    values)."""
    return _store(backend, store, camera, layout, create)


@router.post(
    "/layouts/{store}/{camera}/planogram",
    response_model=LayoutOut,
    responses={422: {"description": "The planogram is wrong; the detail names lines"}}
    | _SET_ERRORS,
    dependencies=[allow(*LAYOUT_EDITORS)],
)
async def import_planogram(
    store: StoreId, camera: CameraId, request: Request, backend: Backend, create: Create = False
) -> dict[str, Any]:
    """Import a planogram (CSV, or JSON with Content-Type application/json) as the
    camera's layout; without picture coordinates the current layout's geometry is kept.
    Refused like PUT: unknown camera without `create=true` (400), catalogue conflict (409)."""
    text = (await request.body()).decode("utf-8", errors="replace")
    kind = "json" if "json" in request.headers.get("content-type", "") else None
    record = find_layout(backend.db, store, camera)
    current = Layout.model_validate(record["layout"]) if record else None
    try:
        layout = planogram.to_layout(planogram.parse(text, "planogram", kind), current)
    except planogram.PlanogramError as error:
        raise HTTPException(422, str(error)) from None
    return _store(backend, store, camera, layout, create)


@router.delete(
    "/layouts/{store}/{camera}",
    response_model=RemovedOut,
    responses={404: {"description": "No layout for this camera"}},
    dependencies=[allow("admin")],
)
def delete_layout(store: StoreId, camera: CameraId, backend: Backend) -> dict[str, Any]:
    """Delete a camera's layout (admin only). The camera stays known and keeps its
    history; it is sent an empty config (it reports no slots until it gets a new
    layout), and its open advice is dismissed with the reason `layout deleted`."""
    with backend.db.transaction() as tx:
        deleted = tx.delete_layout(store, camera, datetime.now(UTC))
    if not deleted:
        raise HTTPException(404, f"no layout for camera {store}/{camera}")
    backend.layout_removed(store, camera)
    return {"store": store, "camera": camera, "removed": {"layouts": 1}}
