"""What the cameras say about a GTIN's shelf: its capacity and the units on it now.

The layouts know where each GTIN stands (camera, row, slot) and how many units a full
slot holds (facings x depth); the cameras' latest state says how each slot looks now.
The units on the shelf are estimated from the gap the camera sees: a stocked slot with
a 20 % gap holds about 80 % of its capacity, an empty one none. An occluded slot counts
as what it held before the occlusion; a wrong-product or messy slot cannot be read
(the estimate then leaves it out and says so). This sits beside the counted stock on
hand (`stock`): the camera sees the front of the shelf, the count sees everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.storage.cameras import list_cameras
from gateway.storage.connection import Database
from gateway.storage.layouts import list_layouts

READABLE = {"stocked": None, "low": None, "empty": 0.0}
"""Statuses whose units the gap tells (empty: none at all)."""


@dataclass
class SlotView:
    camera: str
    row: int
    slot: int
    capacity: int
    status: str | None
    units: int | None
    """Estimated units now; None when the camera cannot tell."""


@dataclass
class ShelfView:
    """One GTIN's slots in the store."""

    gtin: str
    slots: list[SlotView] = field(default_factory=list)

    @property
    def capacity(self) -> int:
        return sum(s.capacity for s in self.slots)

    @property
    def units(self) -> int | None:
        """Estimated units on the shelf; None unless every slot could be read."""
        if not self.slots or any(s.units is None for s in self.slots):
            return None
        return sum(s.units or 0 for s in self.slots)

    def as_dict(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "units": self.units,
            "slots": [
                {
                    "camera": s.camera,
                    "row": s.row,
                    "slot": s.slot,
                    "capacity": s.capacity,
                    "status": s.status,
                    "units": s.units,
                }
                for s in self.slots
            ],
        }


def _estimate(capacity: int, reading: dict[str, Any] | None) -> tuple[str | None, int | None]:
    if reading is None:
        return None, None
    status = reading.get("status")
    seen = reading.get("held_status") if status == "occluded" else status
    if seen not in READABLE:
        return status, None
    if seen == "empty":
        return status, 0
    gap = float(reading.get("gap_fraction") or 0.0)
    return status, round(capacity * max(0.0, 1.0 - gap))


def shelf_views(db: Database, store: str) -> dict[str, ShelfView]:
    """Each GTIN the store's layouts place, with its slots' capacity and estimated units."""
    states = {
        c["camera"]: {(r["row"], r["slot"]): r for r in (c["state"] or {}).get("slots", [])}
        for c in list_cameras(db, store)
    }
    views: dict[str, ShelfView] = {}
    for record in list_layouts(db):
        if record["store"] != store:
            continue
        camera = record["camera"]
        for row in record["layout"].get("rows", []):
            for slot in row.get("slots", []):
                gtin = slot.get("sku")
                if not gtin:
                    continue
                capacity = int(slot.get("facings", 1)) * int(slot.get("depth", 1))
                reading = states.get(camera, {}).get((row["index"], slot["index"]))
                status, units = _estimate(capacity, reading)
                views.setdefault(gtin, ShelfView(gtin)).slots.append(
                    SlotView(camera, row["index"], slot["index"], capacity, status, units)
                )
    return views
