"""The stores a caller may see, with their chain and region (for filters and labels).

A brand sees the stores that carry its products; a merchandiser those of its chain or
region (or all); an admin all. A store's name, chain and region are not brand data.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gateway.auth.access import allow
from gateway.hq.web.backend import Backend
from gateway.hq.web.figures import records
from gateway.hq.web.scope import HQ_READERS, CurrentScope

router = APIRouter(prefix="/stores", tags=["stores"], dependencies=[allow(*HQ_READERS)])


class StoreOut(BaseModel):
    store: str
    name: str | None
    chain: str | None
    region: str | None
    format: str | None
    currency: str | None


class StoresOut(BaseModel):
    stores: list[StoreOut]
    chains: list[str] = Field(description="The chains of these stores.")
    regions: list[str] = Field(description="The regions of these stores.")


@router.get("", response_model=StoresOut)
def stores(backend: Backend, scope: CurrentScope) -> StoresOut:
    """Every store in the caller's scope, by id."""
    profiles = scope.stores(backend.result("profiles"))
    if scope.brand is not None:
        ids: set[str] = set()
        for result in ("brand_store_days", "products"):
            rows = backend.brand_rows(result, scope.brand)  # type: ignore[arg-type]
            ids |= set(rows["store"]) if not rows.empty else set()
        profiles = profiles[profiles["store"].isin(ids)] if not profiles.empty else profiles
    if profiles.empty:
        return StoresOut(stores=[], chains=[], regions=[])
    table = profiles.sort_values("store")
    columns = ["store", "name", "chain", "region", "format", "currency"]
    return StoresOut(
        stores=[StoreOut(**r) for r in records(table[columns])],
        chains=sorted(set(table["chain"].dropna())),
        regions=sorted(set(table["region"].dropna())),
    )
