"""HTTP routes for advice: list, one with its evidence, acknowledge, dismiss.

With a running Gateway the staff actions go through its advice service (the backend's
`advice`), so the store's retained MQTT advice list is republished; over a bare
database they only change the record.

Access: admins, staff (their store's), merchandisers and brands (advice about their own
products, never naming another brand's) read; admins and staff act.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from edge.contract.advice import AdviceKind, Evidence, Level, Sentence
from edge.contract.ids import ID_PATTERN
from gateway.advice import store as advice_store
from gateway.auth.access import CurrentPrincipal, Principal, allow
from gateway.auth.scoping import BrandView, CurrentBrandView, brand_advice, store_for
from gateway.storage.connection import Database
from gateway.web.backend import ApiBackend, Backend
from gateway.web.params import BAD_BODY, MAX_LIMIT, MAX_ROW_ID, reason_text

READERS = ("admin", "staff", "merchandiser", "brand")
ACTORS = ("admin", "staff")
AdviceStatus = Literal["open", "acknowledged", "resolved", "dismissed"]
AdviceId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Advice id.")]

router = APIRouter(tags=["advice"])


class AdviceOut(BaseModel):
    id: int
    store: str
    camera: str
    row: int | None = Field(description="Shelf row (for facings: the fast seller's).")
    slot: int | None
    sku: str | None
    name: str | None = Field(description="Product name, from the layout or the catalogue.")
    brand: str | None
    kind: AdviceKind
    cause: str = Field(description="e.g. empty, low, wrong_product, misplaced, no_sales.")
    status: AdviceStatus
    level: Level
    urgency: float = Field(description="Units at stake (estimated lost sales, see README).")
    action: str = Field(description="What to do, where.")
    reason: str = Field(description="Why, in words; the figures are in `evidence`.")
    action_phrase: Sentence | None = Field(
        default=None,
        description="`action` as a catalogue key (`advice.*`) and raw arguments, for pages "
        "in other languages; null for advice older than these (show `action`).",
    )
    reason_phrase: Sentence | None = Field(
        default=None,
        description="`reason` as a catalogue key and raw arguments; null: show `reason`.",
    )
    evidence: Evidence
    episode_start: datetime = Field(
        description="Start of the situation (empty since, last restock, last sale, ...)."
    )
    created_at: datetime
    updated_at: datetime = Field(description="Last refresh of the evidence or status.")
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = Field(default=None, description="The user who acknowledged.")
    resolved_at: datetime | None = None
    verified: bool | None = Field(
        default=None, description="Resolved because the camera (or the till) saw the fix."
    )
    resolution: str | None = None
    resolve_minutes: float | None = Field(default=None, description="resolved_at - created_at.")
    dismissed_at: datetime | None = None
    dismiss_reason: str | None = None
    dismissed_by: str | None = Field(default=None, description="The user who dismissed it.")


DismissReason = reason_text("Why it is dismissed (not only spaces).", advice_store.BLANK_REASON)


class DismissIn(BaseModel):
    reason: DismissReason


def _visible(
    db: Database, advice_id: int, principal: Principal, view: BrandView | None
) -> dict[str, Any]:
    """The advice if the caller may see it, else 404 (as if it did not exist)."""
    record = advice_store.get_advice(db, advice_id)
    if record is not None and not principal.sees_store(record["store"]):
        record = None
    if record is not None and view is not None:
        record = next(iter(brand_advice(view, [record])), None)
    if record is None:
        raise HTTPException(404, f"advice {advice_id} does not exist")
    return record


@router.get("/advice", response_model=list[AdviceOut], dependencies=[allow(*READERS)])
def list_advice(
    backend: Backend,
    principal: CurrentPrincipal,
    view: CurrentBrandView,
    store: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    status: Annotated[
        list[AdviceStatus] | None,
        Query(description="Repeat for several; default open and acknowledged."),
    ] = None,
    kind: AdviceKind | None = None,
    camera: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[dict[str, Any]]:
    """Advice, most urgent first (staff: their store's; a brand: its products')."""
    items = advice_store.list_advice(
        backend.db,
        store=store_for(principal, store),
        status=tuple(status or advice_store.ACTIVE),
        kind=kind.value if kind else None,
        camera=camera,
        skus=None if view is None else view.own_skus,
        limit=limit,
    )
    return items if view is None else brand_advice(view, items)


@router.get(
    "/advice/{advice_id}",
    response_model=AdviceOut,
    responses={404: {"description": "No such advice"}},
    dependencies=[allow(*READERS)],
)
def get_advice(
    advice_id: AdviceId, backend: Backend, principal: CurrentPrincipal, view: CurrentBrandView
) -> dict[str, Any]:
    """One advice with its evidence and lifecycle times."""
    return _visible(backend.db, advice_id, principal, view)


def _act(backend: ApiBackend, advice_id: int, by: str, reason: str | None = None) -> dict[str, Any]:
    """Acknowledge (no reason) or dismiss as user `by`, through the advice service when
    there is one; 404 for an unknown advice, 409 for a closed one."""
    service = backend.advice
    try:
        if reason is None:
            if service is not None:
                return service.acknowledge(advice_id, by=by)
            return advice_store.acknowledge(backend.db, advice_id, by=by)
        if service is not None:
            return service.dismiss(advice_id, reason, by=by)
        return advice_store.dismiss(backend.db, advice_id, reason, by=by)
    except advice_store.AdviceNotFound as error:
        raise HTTPException(404, str(error)) from None
    except advice_store.AdviceStateError as error:
        raise HTTPException(409, str(error)) from None


@router.post(
    "/advice/{advice_id}/acknowledge",
    response_model=AdviceOut,
    responses={404: {"description": "No such advice"}, 409: {"description": "Closed"}},
    dependencies=[allow(*ACTORS)],
)
def acknowledge(
    advice_id: AdviceId, backend: Backend, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Staff will act on it: open -> acknowledged. It is still resolved by the camera."""
    _visible(backend.db, advice_id, principal, None)
    return _act(backend, advice_id, principal.name)


@router.post(
    "/advice/{advice_id}/dismiss",
    response_model=AdviceOut,
    responses={
        **BAD_BODY,
        404: {"description": "No such advice"},
        409: {"description": "Closed"},
    },
    dependencies=[allow(*ACTORS)],
)
def dismiss(
    advice_id: AdviceId, body: DismissIn, backend: Backend, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Not worth doing or wrong; it stays away for this episode. A missing, empty or
    only-spaces reason is refused with 422: `detail[0].loc` is `["body", "reason"]` and
    `detail[0].msg` says what to write."""
    _visible(backend.db, advice_id, principal, None)
    return _act(backend, advice_id, principal.name, body.reason)
