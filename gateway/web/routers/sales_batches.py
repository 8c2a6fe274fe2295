"""`/api/pos/batches`: the sales import batches, and undoing one.

Every import (`POST /api/pos/sales`, `POST /api/pos/sales/csv`, `shelf-gateway pos
import`) is one batch whose id the import's answer shows. Deleting a batch removes
exactly the sale lines it stored; velocity is read from the stored lines, so it follows
at once, and the advice engine re-evaluates each store the batch touched.

Access: admins list, read and delete every batch; staff list and read the batches that
stored lines of their own store (the counts of other stores' lines are left out).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from edge.contract.ids import ID_PATTERN
from gateway.auth.access import CurrentPrincipal, Principal, allow
from gateway.auth.scoping import store_for
from gateway.retail import sales_batches
from gateway.web.backend import Backend
from gateway.web.params import MAX_LIMIT, MAX_ROW_ID

router = APIRouter(tags=["pos"])


class BatchOut(BaseModel):
    id: str
    source: str = Field(description="api (JSON batch), csv (API upload) or cli (pos import).")
    name: str | None = Field(default=None, description="The CSV file's name.")
    created_by: str | None = None
    created_at: datetime
    received: int
    accepted: int
    duplicates: int
    rejected: int
    flagged: int = Field(description="Accepted lines the screening noted.")
    lines: int = Field(description="Sale lines the batch holds now.")
    stores: dict[str, int] = Field(description="Lines held now, per store.")
    deleted_at: datetime | None = None
    deleted_by: str | None = None
    deleted_lines: int | None = None


class BatchDeletedOut(BaseModel):
    batch: str
    lines: int = Field(description="Sale lines removed.")
    stores: list[str] = Field(description="Stores whose lines were removed (advice redone).")


def _visible(principal: Principal, record: dict[str, Any]) -> dict[str, Any]:
    own = principal.stores_filter()
    if own is None:
        return record
    stores = {s: n for s, n in record["stores"].items() if s == own}
    return record | {"stores": stores, "lines": sum(stores.values())}


@router.get("/pos/batches", response_model=list[BatchOut], dependencies=[allow("admin", "staff")])
def list_batches(
    response: Response,
    backend: Backend,
    principal: CurrentPrincipal,
    store: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
) -> list[dict[str, Any]]:
    """Sales import batches, newest first, deleted ones included (marked); `store`:
    those that stored lines of it (staff: always their own). The total matching is in
    the `X-Total-Count` header."""
    rows, total = sales_batches.list_batches(
        backend.db, store=store_for(principal, store), limit=limit, offset=offset
    )
    response.headers["X-Total-Count"] = str(total)
    return [_visible(principal, r) for r in rows]


@router.get(
    "/pos/batches/{batch}",
    response_model=BatchOut,
    responses={404: {"description": "No such batch"}},
    dependencies=[allow("admin", "staff")],
)
def get_batch(
    batch: str,
    backend: Backend,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """One import batch (staff: only one that stored lines of their store)."""
    record = sales_batches.find_batch(backend.db, batch)
    own = principal.stores_filter()
    if record is None or (own is not None and own not in record["stores"]):
        raise HTTPException(404, f"no sales import batch {batch!r}")
    return _visible(principal, record)


@router.delete(
    "/pos/batches/{batch}",
    response_model=BatchDeletedOut,
    responses={404: {"description": "No such batch"}},
    dependencies=[allow("admin")],
)
def delete_batch(batch: str, backend: Backend, principal: CurrentPrincipal) -> dict[str, Any]:
    """Undo an import: remove exactly the sale lines this batch stored (lines it found
    already stored stay with the import that stored them). Velocity follows at once;
    advice is re-evaluated for each store the batch touched. The batch stays listed,
    marked deleted (who, when, lines). Admin only."""
    try:
        deleted = sales_batches.delete_batch(backend.db, batch, by=principal.name)
    except sales_batches.BatchNotFound as error:
        raise HTTPException(404, str(error)) from None
    if deleted.stores:
        backend.sales_removed(list(deleted.stores))
    return {"batch": deleted.batch, "lines": deleted.lines, "stores": list(deleted.stores)}
