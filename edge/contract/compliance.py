"""The display compliance score, computed by the node and the gateway alike.

The definition lives in one place, README.md section "Display compliance"; this module is
its one implementation. In short: credited facings / expected facings over a camera's
slots (stocked counts whole, low half, empty / wrong_product / messy nothing, occluded as
last seen, never-seen slots not at all), and per brand the share of shelf by facings and
by slot width, and the brand's own score. It depends on slot statuses and the layout
only, so the gateway reproduces the node's score from the stored slot states.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, Field

from edge.contract.messages import SlotReading, SlotStatus
from edge.layout import Layout

CREDIT: dict[SlotStatus, float] = {
    SlotStatus.STOCKED: 1.0,
    SlotStatus.LOW: 0.5,
    SlotStatus.EMPTY: 0.0,
    SlotStatus.WRONG_PRODUCT: 0.0,
    SlotStatus.MESSY: 0.0,
}
"""Share of a slot's expected facings credited per (visible) status."""

NO_BRAND = "(no brand)"

SlotKey = tuple[int, int]


def effective_status(status: SlotStatus, held: SlotStatus | None) -> SlotStatus | None:
    """The status that counts: an occluded slot counts as it was last seen; None when
    the slot does not count (never seen, or unknown)."""
    if status == SlotStatus.OCCLUDED:
        status = held if held is not None else SlotStatus.UNKNOWN
    return status if status in CREDIT else None


class BrandCompliance(BaseModel):
    """One brand's place on a camera's shelf."""

    brand: str
    slots: int
    facings: int = Field(description="Expected facings of the brand's slots.")
    facings_share: float = Field(description="Brand facings / all expected facings.")
    linear_share: float = Field(description="Brand slot widths / all slot widths.")
    score: float | None = Field(description="Compliance over the brand's slots.")


class Compliance(BaseModel):
    """A camera's compliance score, its parts and the per-brand breakdown."""

    score: float | None = Field(description="Credited / expected facings; None: no slot seen.")
    credited_facings: float
    expected_facings: int = Field(description="Facings of the slots that count.")
    slots_counted: int
    brands: list[BrandCompliance] = Field(default_factory=list)


@dataclass
class _Sums:
    credited: float = 0.0
    expected: int = 0
    counted: int = 0

    def add(self, facings: int, status: SlotStatus | None) -> None:
        if status is None:
            return
        self.credited += CREDIT[status] * facings
        self.expected += facings
        self.counted += 1

    @property
    def score(self) -> float | None:
        return round(self.credited / self.expected, 4) if self.expected else None


def compliance(layout: Layout, statuses: Mapping[SlotKey, SlotStatus | None]) -> Compliance:
    """The score of `layout` given each slot's effective status (see `effective_status`);
    slots missing from `statuses` do not count."""
    total = _Sums()
    by_brand: dict[str, _Sums] = {}
    shelf = {"facings": 0, "width": 0.0}
    brand_shelf: dict[str, dict[str, float]] = {}
    for row, slot, _box in layout.slot_boxes():
        status = statuses.get((row.index, slot.index))
        brand = slot.brand or NO_BRAND
        total.add(slot.facings, status)
        by_brand.setdefault(brand, _Sums()).add(slot.facings, status)
        place = brand_shelf.setdefault(brand, {"slots": 0, "facings": 0, "width": 0.0})
        place["slots"] += 1
        place["facings"] += slot.facings
        place["width"] += slot.x1 - slot.x0
        shelf["facings"] += slot.facings
        shelf["width"] += slot.x1 - slot.x0
    brands = [
        BrandCompliance(
            brand=brand,
            slots=int(place["slots"]),
            facings=int(place["facings"]),
            facings_share=round(place["facings"] / shelf["facings"], 4),
            linear_share=round(place["width"] / shelf["width"], 4) if shelf["width"] else 0.0,
            score=by_brand[brand].score,
        )
        for brand, place in sorted(brand_shelf.items())
    ]
    return Compliance(
        score=total.score,
        credited_facings=round(total.credited, 4),
        expected_facings=total.expected,
        slots_counted=total.counted,
        brands=brands,
    )


def of_readings(layout: Layout, readings: Iterable[SlotReading]) -> Compliance:
    """The compliance of published slot readings (a `ShelfState`'s slots)."""
    statuses = {(r.row, r.slot): effective_status(r.status, r.held_status) for r in readings}
    return compliance(layout, statuses)
