"""HTTP routes for stock: goods receipts, stock counts, and stock on hand per GTIN.

Imports answer 200 with what happened to every line (stored, duplicate, or rejected with
its index or CSV row, field and message), like the POS import: a bad line never drops the
good ones; a body that is no batch at all is a 422 naming the problem.

Access: receipts and counts are sent by an admin or the store's staff (lines of another
store are rejected line by line); stock is read by admins, merchandisers and the store's
staff. Bare dates are read in the store's time zone (`pos.timezone`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from edge.contract.ids import ID_PATTERN
from gateway.auth.access import CurrentPrincipal, Principal, allow
from gateway.auth.scoping import require_store
from gateway.retail import catalogue, stock
from gateway.retail.batch_import import MAX_BATCH_LINES, LineError
from gateway.retail.shelf_stock import shelf_views
from gateway.web.backend import Backend
from gateway.web.params import BAD_BODY
from gateway.web.routers.retail import (
    _CSV_BODY,
    _CSV_ERRORS,
    LineErrorOut,
    _errors_out,
    _import_csv,
)

router = APIRouter()
STOCK_READERS = ("admin", "merchandiser", "staff")
LineT = TypeVar("LineT", stock.ReceiptLine, stock.CountLine)


class ReceiptsBatch(BaseModel):
    receipts: list[Any] = Field(
        max_length=MAX_BATCH_LINES,
        description="Receipt lines: store, gtin, quantity (>= 1), time (ISO 8601 with offset, "
        "or a date), supplier (optional), id (optional delivery note line id).",
        examples=[
            [
                {
                    "store": "store-1",
                    "gtin": "4006381333931",
                    "quantity": 24,
                    "time": "2024-05-03",
                    "supplier": "Metro",
                    "id": "DN-881-1",
                }
            ]
        ],
    )


class CountsBatch(BaseModel):
    counts: list[Any] = Field(
        max_length=MAX_BATCH_LINES,
        description="Counts: store, gtin, quantity (>= 0), time (ISO 8601 with offset, or a "
        "date), backroom_capacity (optional units).",
    )


class StockImportOut(BaseModel):
    received: int = Field(description="Lines in the request.")
    accepted: int = Field(description="Lines newly stored.")
    duplicates: int = Field(description="Lines stored before (same id, or same count).")
    rejected: int = Field(description="Lines refused (see errors).")
    errors: list[LineErrorOut]


class StockOut(BaseModel):
    gtin: str
    name: str | None
    on_hand: int | None = Field(description="Last count + receipts since - sales since.")
    basis: str = Field(description="'count', 'receipts' (no count yet) or 'none'.")
    counted: int | None
    counted_at: str | None
    received_since: int
    sold_since: int
    backroom_capacity: int | None
    shelf: dict[str, Any] | None = Field(
        description="From the layouts and cameras: capacity (facings x depth), estimated "
        "units now (None when a slot cannot be read) and each slot."
    )


def _own_store(
    principal: Principal, good: Sequence[tuple[int, LineT]], source: str | None
) -> tuple[list[tuple[int, LineT]], list[LineError]]:
    """Staff send their own store's lines only: others become line errors."""
    own = principal.stores_filter()
    if own is None:
        return list(good), []
    kept, errors = [], []
    for at, line in good:
        if line.store == own:
            kept.append((at, line))
        else:
            where = {"row": at, "source": source} if source else {"index": at}
            errors.append(
                LineError(
                    f"{principal.role} may send lines of store {own} only, not {line.store}",
                    "store",
                    **where,  # type: ignore[arg-type]
                )
            )
    return kept, errors


def _out(report: stock.StockImportReport) -> StockImportOut:
    return StockImportOut(
        received=report.received,
        accepted=report.accepted,
        duplicates=report.duplicates,
        rejected=report.rejected_lines,
        errors=_errors_out(sorted(report.rejected, key=lambda e: (e.row or 0, e.index or 0))),
    )


def _import(
    backend: Backend,
    principal: Principal,
    parsed: tuple[list[tuple[int, LineT]], list[LineError]],
    store: Callable[..., stock.StockImportReport],
    csv_name: str | None = None,
) -> StockImportOut:
    """Store parsed receipts or counts the caller may send; the others are line errors.
    Receipts and counts go through the same access check and report."""
    good, errors = parsed
    good, refused = _own_store(principal, good, csv_name)
    report = store(
        backend.db,
        good,
        errors + refused,
        tz=backend.settings.pos.zone,
        by=principal.name,
        source="api" if csv_name is None else "csv",
    )
    return _out(report)


@router.post(
    "/stock/receipts",
    response_model=StockImportOut,
    tags=["stock"],
    responses=BAD_BODY,
    dependencies=[allow("admin", "staff")],
)
def post_receipts(
    batch: ReceiptsBatch, backend: Backend, principal: CurrentPrincipal
) -> StockImportOut:
    """Record goods received; a receipt naming its supplier fulfils that supplier's open
    order of the GTIN."""
    return _import(backend, principal, stock.parse_receipts(batch.receipts), stock.store_receipts)


@router.post(
    "/stock/receipts/csv",
    response_model=StockImportOut,
    tags=["stock"],
    openapi_extra=_CSV_BODY,
    responses=_CSV_ERRORS,
    dependencies=[allow("admin", "staff")],
)
async def post_receipts_csv(
    request: Request, backend: Backend, principal: CurrentPrincipal
) -> StockImportOut:
    """Import a CSV of receipts (header: store,gtin,quantity,time[,supplier,id])."""

    def run(data: bytes, name: str) -> StockImportOut:
        parsed = stock.parse_receipts_csv(data, name)
        return _import(backend, principal, parsed, stock.store_receipts, name)

    return await _import_csv(request, run)


@router.post(
    "/stock/counts",
    response_model=StockImportOut,
    tags=["stock"],
    responses=BAD_BODY,
    dependencies=[allow("admin", "staff")],
)
def post_counts(
    batch: CountsBatch, backend: Backend, principal: CurrentPrincipal
) -> StockImportOut:
    """Record stock counts (each resets the stock on hand of its GTIN at its time)."""
    return _import(backend, principal, stock.parse_counts(batch.counts), stock.store_counts)


@router.post(
    "/stock/counts/csv",
    response_model=StockImportOut,
    tags=["stock"],
    openapi_extra=_CSV_BODY,
    responses=_CSV_ERRORS,
    dependencies=[allow("admin", "staff")],
)
async def post_counts_csv(
    request: Request, backend: Backend, principal: CurrentPrincipal
) -> StockImportOut:
    """Import a CSV of counts (header: store,gtin,quantity,time[,backroom_capacity])."""

    def run(data: bytes, name: str) -> StockImportOut:
        parsed = stock.parse_counts_csv(data, name)
        return _import(backend, principal, parsed, stock.store_counts, name)

    return await _import_csv(request, run)


@router.get(
    "/stock",
    response_model=list[StockOut],
    tags=["stock"],
    dependencies=[allow(*STOCK_READERS)],
)
def get_stock(
    backend: Backend,
    principal: CurrentPrincipal,
    store: Annotated[str, Query(pattern=ID_PATTERN)],
) -> list[StockOut]:
    """Stock on hand of every GTIN the store counted, received or has on its shelves,
    with the cameras' view of its shelf beside it."""
    require_store(principal, store)
    shelves = shelf_views(backend.db, store)
    gtins = sorted({*stock.stocked_gtins(backend.db, store), *shelves})
    names = catalogue.names(backend.db, gtins)
    held = stock.stock_on_hand(backend.db, store, gtins)
    return [
        StockOut(
            gtin=g,
            name=names.get(g, (None, None))[0],
            on_hand=held[g].on_hand,
            basis=held[g].basis,
            counted=held[g].counted,
            counted_at=held[g].counted_at.isoformat() if held[g].counted_at else None,
            received_since=held[g].received_since,
            sold_since=held[g].sold_since,
            backroom_capacity=held[g].backroom_capacity,
            shelf=shelves[g].as_dict() if g in shelves else None,
        )
        for g in gtins
    ]
