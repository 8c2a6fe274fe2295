"""A store's assortment guidance: SKUs to add (they sell in similar stores) and SKUs to
delist (slow per facing while on the shelf), with the evidence and what to give the
space to (`gateway.hq.assortment` says how they are found).

Access: admin, merchandiser (a scoped one: its chain's or region's stores) and the
store's own staff (the store gateway pulls with a `staff:<store>` token).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gateway.auth.access import allow
from gateway.hq.web.backend import Backend
from gateway.hq.web.figures import records
from gateway.hq.web.guidance_access import STORE_GUIDANCE_READERS, StoreInReach

router = APIRouter(tags=["assortment"], dependencies=[allow(*STORE_GUIDANCE_READERS)])


class AddItem(BaseModel):
    rank: int = Field(description="1 = the most promising for this store.")
    sku: str
    name: str | None
    brand: str | None
    expected_per_week: float = Field(
        description="Median weekly units in the similar stores that sell it, times the "
        "share of similar stores that sell it."
    )
    median_per_week: float = Field(description="Median weekly units where it sells.")
    sellers: int = Field(description="Similar stores selling it (at least five).")
    peers: int = Field(description="Similar stores considered.")
    nearby_peers: int = Field(description="Of those, same-format stores within radius_km.")
    radius_km: float
    in_region: bool | None = Field(
        default=None,
        description="The nearby stores are the same region's (this store has no location), "
        "not those within radius_km; null from results older than this field.",
    )
    evidence: str = Field(description='e.g. "sells 9 a week in 7 of 10 similar stores".')


class DelistItem(BaseModel):
    rank: int = Field(description="1 = the slowest per facing.")
    sku: str
    name: str | None
    brand: str | None
    facings: int
    per_week: float = Field(description="Units a week while watched.")
    per_facing_week: float
    osa: float = Field(description="Share of the watched time it was on the shelf.")
    weeks: float = Field(description="Weeks of watched shelf the figures cover.")
    give_to_sku: str | None = Field(description="What the facings could go to.")
    give_to_name: str | None
    give_to_kind: str | None = Field(description="add: a new SKU; extend: a fast seller here.")
    give_to_per_week: float | None
    evidence: str


class AssortmentOut(BaseModel):
    store: str
    refreshed_at: datetime | None = Field(description="When the analytics last ran.")
    adds: list[AddItem]
    delists: list[DelistItem]


@router.get("/stores/{store}/assortment", response_model=AssortmentOut)
def store_assortment(store: StoreInReach, backend: Backend) -> AssortmentOut:
    """The store's add and delist candidates, best first (empty until the analytics
    job has run)."""
    adds = backend.result("assortment_adds")
    delists = backend.result("assortment_delists")
    adds = adds[adds["store"] == store].sort_values("rank")
    delists = delists[delists["store"] == store].sort_values("rank")
    return AssortmentOut(
        store=store,
        refreshed_at=backend.refreshed_at(),
        adds=[AddItem(**r) for r in records(adds.drop(columns="store"))],
        delists=[DelistItem(**r) for r in records(delists.drop(columns="store"))],
    )
