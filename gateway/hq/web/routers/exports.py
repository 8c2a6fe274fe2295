"""A brand's rows to take away: CSV or Parquet of exactly what the brand pages show.

`level=store`: one row per store and day (the brand x store x day result); `level=sku`:
one row per product, store and day. Scoped and filtered as the pages are (a brand its
own rows only), with the store's name, chain and region; no bookkeeping columns.
"""

from __future__ import annotations

import io
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Query
from fastapi.responses import Response

from gateway.auth.access import allow
from gateway.hq.web.backend import Backend, HqBackend
from gateway.hq.web.params import Brand, FilterParams
from gateway.hq.web.scope import HQ_READERS, CurrentScope, Scope
from gateway.hq.web.selection import Filters, select

router = APIRouter(prefix="/brands", tags=["exports"], dependencies=[allow(*HQ_READERS)])

Level = Annotated[
    Literal["store", "sku"],
    Query(description="store: a row per store and day; sku: a row per product, store and day."),
]
STORE_ROWS = [
    "day",
    "store",
    "store_name",
    "chain",
    "region",
    "brand",
    "osa",
    "facing_compliance",
    "oos_hours",
    "lost_sales",
    "units",
    "revenue",
    "price",
    "currency",
    "facings",
    "share_of_shelf",
    "shelf_level",
]
SKU_ROWS = [
    "day",
    "store",
    "store_name",
    "chain",
    "region",
    "brand",
    "sku",
    "name",
    "osa",
    "facing_compliance",
    "oos_hours",
    "lost_sales",
    "lost_units",
    "units",
    "revenue",
    "price",
    "currency",
]
CSV = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}
PARQUET = {
    200: {
        "content": {
            "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}}
        }
    }
}


def export_rows(
    backend: HqBackend, scope: Scope, brand: str, filters: Filters, level: str
) -> pd.DataFrame:
    """The brand's rows at `level`, in the caller's scope, with their stores."""
    result = "brand_store_days" if level == "store" else "sku_store_days"
    picked = select(backend, scope, result, filters, brand)
    columns = STORE_ROWS if level == "store" else SKU_ROWS
    if picked.rows.empty:
        return pd.DataFrame(columns=columns)
    rows = picked.with_stores(picked.rows)
    if level == "store":
        price = rows["revenue"] / rows["units"].where(rows["units"] > 0)
        rows = rows.assign(price=price)
    else:
        shelf = backend.brand_rows("products", brand)
        names = shelf.groupby("sku")["name"].first() if not shelf.empty else pd.Series()
        rows = rows.assign(name=rows["sku"].map(names))
    keys = ["day", "store"] if level == "store" else ["day", "store", "sku"]
    return rows[columns].sort_values(keys).reset_index(drop=True)


def _filename(brand: str, level: str, suffix: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in brand)
    return f'attachment; filename="shelfsense-{safe}-{level}.{suffix}"'


@router.get("/{brand}/export.csv", responses=CSV, response_class=Response)
def export_csv(
    brand: Brand,
    backend: Backend,
    scope: CurrentScope,
    filters: FilterParams,
    level: Level = "store",
) -> Response:
    """The brand's rows as CSV (UTF-8, a header row, rates as fractions)."""
    rows = export_rows(backend, scope, brand, filters, level)
    return Response(
        rows.to_csv(index=False),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _filename(brand, level, "csv")},
    )


@router.get("/{brand}/export.parquet", responses=PARQUET, response_class=Response)
def export_parquet(
    brand: Brand,
    backend: Backend,
    scope: CurrentScope,
    filters: FilterParams,
    level: Level = "store",
) -> Response:
    """The brand's rows as a Parquet file (for pandas, DuckDB, Spark...)."""
    rows = export_rows(backend, scope, brand, filters, level)
    out = io.BytesIO()
    rows.to_parquet(out, index=False)
    return Response(
        out.getvalue(),
        media_type="application/vnd.apache.parquet",
        headers={"Content-Disposition": _filename(brand, level, "parquet")},
    )
