"""`/api/events`: the shelf events cameras reported, newest first, scoped to the caller."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from edge.contract.ids import ID_PATTERN
from edge.contract.messages import EventType, SlotStatus
from gateway.auth.access import CurrentPrincipal, allow
from gateway.auth.scoping import CurrentBrandView, brand_events, store_for
from gateway.storage.events import list_events
from gateway.web.backend import Backend
from gateway.web.params import MAX_LIMIT, IsoTime

router = APIRouter(tags=["events"])


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


@router.get(
    "/events",
    response_model=list[EventOut],
    dependencies=[allow("admin", "staff", "merchandiser", "brand")],
)
def events(
    backend: Backend,
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
        backend.db,
        store=store_for(principal, store),
        camera=camera,
        type=type.value if type else None,
        since=since,
        skus=None if view is None else view.own_skus,
        limit=limit,
    )
    return rows if view is None else brand_events(view, rows)
