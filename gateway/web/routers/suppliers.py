"""HTTP routes for suppliers and their price lists.

A price list import answers 200 with what happened to every line (rejected lines name
their row or index and field, including terms that differ from the supplier's first
line); a body that is no batch at all is a 422. Admins and store managers import price
lists; admins, merchandisers and staff read them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from gateway.auth.access import CurrentPrincipal, Principal, allow
from gateway.retail import suppliers
from gateway.retail.batch_import import MAX_BATCH_LINES
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


class PricesBatch(BaseModel):
    prices: list[Any] = Field(
        max_length=MAX_BATCH_LINES,
        description="Price list lines: supplier, gtin, pack_size, pack_price, lead_time_days, "
        "and the supplier's terms min_order_value, free_delivery_threshold, delivery_fee, "
        "order_days (e.g. 'Mon,Thu'), repeated on each of its lines.",
    )


class PriceListImportOut(BaseModel):
    received: int
    accepted: int = Field(description="Price lines stored (created or replaced).")
    suppliers: int = Field(description="Suppliers whose terms were stored.")
    rejected: int
    errors: list[LineErrorOut]


class SupplierOut(BaseModel):
    name: str
    min_order_value: str
    free_delivery_threshold: str | None
    delivery_fee: str
    lead_time_days: int
    order_days: str
    gtins: int = Field(description="GTINs on its price list.")
    updated_at: str


def _may_import(principal: Principal) -> None:
    if principal.kind != "admin" and not principal.manager:
        raise HTTPException(
            403, f"role {principal.role}: price lists are imported by an admin or a store manager"
        )


def _out(report: suppliers.PriceListReport) -> PriceListImportOut:
    return PriceListImportOut(
        received=report.received,
        accepted=report.accepted,
        suppliers=report.suppliers,
        rejected=report.rejected_lines,
        errors=_errors_out(report.rejected),
    )


@router.post(
    "/suppliers/prices",
    response_model=PriceListImportOut,
    tags=["suppliers"],
    responses=BAD_BODY,
    dependencies=[allow("admin", "staff")],
)
def post_prices(
    batch: PricesBatch, backend: Backend, principal: CurrentPrincipal
) -> PriceListImportOut:
    """Import price list lines (and the suppliers' terms) as JSON."""
    _may_import(principal)
    good, errors = suppliers.parse_prices(batch.prices)
    return _out(suppliers.store_prices(backend.db, good, errors))


@router.post(
    "/suppliers/prices/csv",
    response_model=PriceListImportOut,
    tags=["suppliers"],
    openapi_extra=_CSV_BODY,
    responses=_CSV_ERRORS,
    dependencies=[allow("admin", "staff")],
)
async def post_prices_csv(
    request: Request, backend: Backend, principal: CurrentPrincipal
) -> PriceListImportOut:
    """Import a price list CSV (header: supplier,gtin,pack_size,pack_price,lead_time_days
    [,min_order_value,free_delivery_threshold,delivery_fee,order_days])."""
    _may_import(principal)

    def run(data: bytes, name: str) -> suppliers.PriceListReport:
        good, errors = suppliers.parse_prices_csv(data, name)
        return suppliers.store_prices(backend.db, good, errors)

    return _out(await _import_csv(request, run))


@router.get(
    "/suppliers",
    response_model=list[SupplierOut],
    tags=["suppliers"],
    dependencies=[allow("admin", "merchandiser", "staff")],
)
def get_suppliers(backend: Backend) -> list[dict[str, Any]]:
    """Suppliers with their terms."""
    return suppliers.suppliers(backend.db)
