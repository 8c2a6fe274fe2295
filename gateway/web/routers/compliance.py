"""`/api/cameras/{store}/{camera}/compliance`: one camera's display compliance score
(README: Display compliance), overall and per brand, from the stored slot states."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import Field

from edge.contract.compliance import Compliance
from gateway.auth.access import EVERYONE, CurrentPrincipal, allow
from gateway.auth.scoping import CurrentBrandView, brand_compliance, require_store
from gateway.shelf.compliance import camera_compliance
from gateway.storage.layouts import find_layout
from gateway.web.backend import Backend
from gateway.web.params import CameraId, IsoTime, StoreId

router = APIRouter(tags=["cameras"])


class ComplianceOut(Compliance):
    store: str
    camera: str
    at: datetime | None = Field(description="The moment scored; None: the latest states.")
    layout_version: str


@router.get(
    "/cameras/{store}/{camera}/compliance",
    response_model=ComplianceOut,
    responses={404: {"description": "No layout for this camera"}},
    dependencies=[allow(*EVERYONE)],
)
def compliance(
    store: StoreId,
    camera: CameraId,
    backend: Backend,
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
    db = backend.db
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
