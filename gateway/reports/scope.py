"""What a report covers: a time range and optional store, brand and category filters.

Routes build the scope from the query and the caller's principal (a staff user's store,
a brand user's brand are forced), so a report never sees rows outside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from edge.layout import Layout, RowSpec, SlotSpec


class ScopeError(ValueError):
    """A scope that cannot be reported on (end before start, too many buckets);
    `field` names the query parameter at fault."""

    def __init__(self, message: str, field: str = "until") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ReportScope:
    since: datetime
    until: datetime
    store: str | None = None
    brand: str | None = None
    category: str | None = None

    def __post_init__(self) -> None:
        if self.until <= self.since:
            raise ScopeError(
                f"until ({self.until.isoformat()}) must be after since ({self.since.isoformat()})"
            )

    def sees_store(self, store: str) -> bool:
        return self.store is None or self.store == store

    def sees_brand(self, brand: str | None) -> bool:
        """Brands match case-insensitively, as the access rules do."""
        if self.brand is None:
            return True
        return brand is not None and brand.casefold() == self.brand.casefold()

    def slot_in_scope(self, slot: SlotSpec, categories: dict[str, str | None]) -> bool:
        """Whether a layout slot belongs to the report (brand and product category)."""
        if not self.sees_brand(slot.brand):
            return False
        if self.category is None:
            return True
        category = categories.get(slot.sku or "")
        return category is not None and category.casefold() == self.category.casefold()

    def narrow(self, layout: Layout, categories: dict[str, str | None]) -> Layout:
        """The layout with only the slots in scope (rows left empty are dropped)."""
        rows = []
        for row in layout.rows:
            slots = [s for s in row.slots if self.slot_in_scope(s, categories)]
            if slots:
                rows.append(RowSpec(index=row.index, y0=row.y0, y1=row.y1, slots=slots))
        return Layout(rows=rows)
