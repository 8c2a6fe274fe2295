"""The head office's guidance at the store: nearby prices and assortment items, as the
last pull from the HQ stored them (`gateway.guidance`), and the store's decisions.

- `GET /api/guidance?store=`: the store's price references (its price beside the area
  median), its add and delist items with their status, and for accepted ones the
  follow-up from the store's own POS sales; when the last pull was, and its error.
- `POST /api/guidance/items/{id}/accept`, `/dismiss` (a reason): the store's decision.

Access: admins, staff (their store's) and merchandisers read; admins and staff decide.
Brands do not: the figures cover every brand on the store's shelves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from edge.contract.ids import ID_PATTERN
from gateway.auth.access import CurrentPrincipal, Principal, allow
from gateway.auth.scoping import require_store
from gateway.guidance import records
from gateway.guidance.followup import follow_up
from gateway.storage.connection import Database
from gateway.storage.sql import parse_time
from gateway.web.backend import Backend
from gateway.web.params import BAD_BODY, MAX_ROW_ID, reason_text

READERS = ("admin", "staff", "merchandiser")
ACTORS = ("admin", "staff")
ItemId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Assortment item id.")]

router = APIRouter(tags=["guidance"])


class PriceRefOut(BaseModel):
    sku: str
    name: str | None
    brand: str | None
    price: float = Field(description="This store's price (revenue / units at the HQ).")
    median: float = Field(description="Median price in the other nearby stores.")
    low: float
    high: float
    stores: int = Field(description="Other stores contributing (at least five).")
    basis: str = Field(description="radius: within radius_km; region: the same region.")
    radius_km: float | None
    diff_pct: float = Field(description="This store's price over the median, minus 1, in %.")


class FollowUp(BaseModel):
    days: float = Field(description="Days since the decision.")
    units: float = Field(description="Units of the SKU sold since (the store's POS).")
    per_week: float
    verdict: str = Field(
        description="add: waiting, selling or below; delist: selling off or sold out."
    )
    expected_per_week: float | None = None
    give_to_per_week: float | None = Field(
        default=None, description="delist: units a week since of what got the space."
    )
    give_to_before_per_week: float | None = None


class ItemOut(BaseModel):
    id: int
    kind: Literal["add", "delist"]
    sku: str
    name: str | None
    brand: str | None
    rank: int
    evidence: str
    detail: dict[str, Any] = Field(description="The HQ's figures behind the evidence.")
    current: bool = Field(description="The HQ still suggests it (as of the last pull).")
    first_seen: datetime
    status: Literal["open", "accepted", "dismissed"]
    decided_at: datetime | None
    decided_by: str | None
    reason: str | None
    follow_up: FollowUp | None


class GuidanceOut(BaseModel):
    store: str
    pulled_at: datetime | None = Field(description="The last successful pull from the HQ.")
    refreshed_at: datetime | None = Field(description="When the HQ computed these figures.")
    attempted_at: datetime | None
    error: str | None = Field(description="The last pull's error (the figures are older).")
    prices: list[PriceRefOut]
    adds: list[ItemOut]
    delists: list[ItemOut]


GuidanceDismissReason = reason_text(
    "Why it does not fit this store (not only spaces).",
    "write why the item does not fit this store",
)


class GuidanceDismissIn(BaseModel):
    reason: GuidanceDismissReason


def _item_out(db: Database, item: dict[str, Any], now: datetime) -> ItemOut:
    return ItemOut(**item, follow_up=follow_up(db, item, now))


@router.get("/guidance", response_model=GuidanceOut, dependencies=[allow(*READERS)])
def guidance(
    backend: Backend,
    principal: CurrentPrincipal,
    store: Annotated[str, Query(pattern=ID_PATTERN)],
) -> GuidanceOut:
    """The store's guidance from the head office (staff: their own store only)."""
    require_store(principal, store)
    db = backend.db
    pull = records.last_pull(db, store) or {}
    now = datetime.now(UTC)
    items = [_item_out(db, i, now) for i in records.items(db, store)]
    return GuidanceOut(
        store=store,
        pulled_at=parse_time(pull.get("pulled_at")),
        refreshed_at=parse_time(pull.get("refreshed_at")),
        attempted_at=parse_time(pull.get("attempted_at")),
        error=pull.get("error"),
        prices=[PriceRefOut(**p) for p in records.price_refs(db, store)],
        adds=[i for i in items if i.kind == "add"],
        delists=[i for i in items if i.kind == "delist"],
    )


def _decide(
    db: Database, item_id: int, principal: Principal, decision: records.Decision, reason: str | None
) -> ItemOut:
    try:
        item = records.item(db, item_id)
        require_store(principal, item["store"])
        records.decide(db, item_id, decision, datetime.now(UTC), principal.name, reason)
    except records.ItemNotFound as error:
        raise HTTPException(404, str(error)) from None
    except records.AlreadyDecided as error:
        raise HTTPException(409, str(error)) from None
    return _item_out(db, records.item(db, item_id), datetime.now(UTC))


DECISION_ERRORS = {404: {"description": "No such item"}, 409: {"description": "Decided"}}


@router.post(
    "/guidance/items/{item_id}/accept",
    response_model=ItemOut,
    responses=DECISION_ERRORS,
    dependencies=[allow(*ACTORS)],
)
def accept(item_id: ItemId, backend: Backend, principal: CurrentPrincipal) -> ItemOut:
    """The store will do it (stock the SKU, or take it off); followed up from then on."""
    return _decide(backend.db, item_id, principal, "accepted", None)


@router.post(
    "/guidance/items/{item_id}/dismiss",
    response_model=ItemOut,
    responses={**BAD_BODY, **DECISION_ERRORS},
    dependencies=[allow(*ACTORS)],
)
def dismiss(
    item_id: ItemId, body: GuidanceDismissIn, backend: Backend, principal: CurrentPrincipal
) -> ItemOut:
    """Not for this store, with the reason (422 without one, as advice dismissals)."""
    return _decide(backend.db, item_id, principal, "dismissed", body.reason)
