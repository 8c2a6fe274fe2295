"""What a new layout may not do: name a camera the gateway has never seen, or re-brand
a product the catalogue already knows.

A store or camera id with a typo would otherwise make a phantom store that shows up in
every picker, in Devices and in a brand's audit; a layout slot with another brand for a
known GTIN would move that product's sales into the other brand's audit. Adding a new
camera is an explicit choice (`create=True`), and changing what a GTIN is stays a
catalogue edit by an admin (`retail.catalogue.edit_product`), which is logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge.layout import Layout
from gateway.retail.catalogue import names
from gateway.storage.cameras import known_cameras
from gateway.storage.connection import Database


class UnknownCamera(LookupError):
    """The layout names a store or camera the gateway has never seen."""


class CatalogueConflict(ValueError):
    """The layout says a GTIN is another product or brand than the catalogue does."""


@dataclass(frozen=True)
class Conflict:
    """One slot that disagrees with the catalogue (or with another slot of the layout)."""

    row: int
    slot: int
    gtin: str
    field: str
    known: str
    given: str
    known_from: str

    def __str__(self) -> str:
        return (
            f"row {self.row}, slot {self.slot}: GTIN {self.gtin} has {self.field} "
            f"{self.known!r} in {self.known_from}, this layout says {self.given!r}"
        )


def require_known_camera(db: Database, store: str, camera: str) -> None:
    """UnknownCamera naming the store or camera, with the known ones to choose from."""
    cameras = known_cameras(db)
    if (store, camera) in cameras:
        return
    stores = sorted({s for s, _ in cameras})
    hint = "to add it, send the request again with ?create=true"
    if store not in stores:
        known = ", ".join(stores) or "none yet"
        raise UnknownCamera(
            f"store {store!r} is unknown to this gateway (known stores: {known}); {hint}"
        )
    in_store = ", ".join(sorted(c for s, c in cameras if s == store))
    raise UnknownCamera(
        f"camera {camera!r} is unknown in store {store} (known cameras: {in_store}); {hint}"
    )


def _same(a: str, b: str) -> bool:
    """Equal but for case and spacing: 'ACME' and 'Acme' are one brand."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def catalogue_conflicts(db: Database, layout: Layout) -> list[Conflict]:
    """Slots whose name or brand differs from the catalogue's entry for their GTIN, or
    from an earlier slot of this layout with the same GTIN. A slot that leaves name or
    brand empty agrees with anything."""
    slots = [(row, slot) for row, slot, _ in layout.slot_boxes() if slot.sku]
    catalogued = names(db, [slot.sku for _, slot in slots if slot.sku])
    first_seen: dict[str, tuple[int, int, str | None, str | None]] = {}
    found: list[Conflict] = []
    for row, slot in slots:
        gtin = slot.sku
        assert gtin is not None
        if gtin in catalogued:
            name, brand = catalogued[gtin]
            source = "the catalogue"
        elif gtin in first_seen:
            r, s, name, brand = first_seen[gtin]
            source = f"row {r}, slot {s} of this layout"
        else:
            first_seen[gtin] = (row.index, slot.index, slot.name, slot.brand)
            continue
        for field, known, given in (("name", name, slot.name), ("brand", brand, slot.brand)):
            if known and given and not _same(known, given):
                found.append(Conflict(row.index, slot.index, gtin, field, known, given, source))
    return found


def check_layout(db: Database, store: str, camera: str, layout: Layout, *, create: bool) -> None:
    """Raise UnknownCamera (unless `create`) or CatalogueConflict (every conflict, one
    per line, and how to change the catalogue instead)."""
    if not create:
        require_known_camera(db, store, camera)
    conflicts = catalogue_conflicts(db, layout)
    if conflicts:
        lines = "\n".join(str(c) for c in conflicts)
        raise CatalogueConflict(
            f"{lines}\nA layout cannot change what a GTIN is: fix the slot, or have an "
            "admin change the product in the catalogue (PATCH /api/catalogue/{gtin})"
        )
