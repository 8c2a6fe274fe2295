"""The shelf layout a camera watches: shelf rows, then slots, each assigned a SKU.

Coordinates are fractions of the camera frame (0..1), so a layout survives a change of
capture resolution. A slot's rectangle is its x-span within its row's y-span.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


def gtin_check_digit_ok(code: str) -> bool:
    """True when `code` is a GTIN-8/12/13/14 whose last digit is its GS1 check digit."""
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return False
    digits = [int(c) for c in code]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def with_check_digit(body: str) -> str:
    """Append the GS1 check digit to a GTIN body (7, 11, 12 or 13 digits)."""
    for digit in "0123456789":
        if gtin_check_digit_ok(body + digit):
            return body + digit
    raise ValueError(f"{body!r} is not a GTIN body of 7, 11, 12 or 13 digits")


class SlotSpec(BaseModel):
    """One slot: where it is, which product belongs there and how many."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0)
    x0: Fraction
    x1: Fraction
    sku: str | None = Field(default=None, description="GTIN-8/12/13/14 with a valid check digit.")
    name: str | None = None
    brand: str | None = None
    facings: int = Field(default=1, ge=1, description="Product fronts expected side by side.")
    depth: int = Field(default=1, ge=1, description="Units behind each front facing.")

    @field_validator("sku")
    @classmethod
    def _valid_gtin(cls, value: str | None) -> str | None:
        if value is not None and not gtin_check_digit_ok(value):
            raise ValueError(f"{value!r} is not a GTIN-8/12/13/14 with a valid check digit")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> SlotSpec:
        if self.x1 <= self.x0:
            raise ValueError(
                f"slot {self.index}: x1 ({self.x1}) must be greater than x0 ({self.x0})"
            )
        return self


class RowSpec(BaseModel):
    """One shelf row: the vertical band where its products stand."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0)
    y0: Fraction
    y1: Fraction
    label: str | None = Field(
        default=None,
        max_length=40,
        description="The shelf's own name as staff say it ('top', 'B3'); pages show it "
        "instead of the row number.",
    )
    slots: list[SlotSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> RowSpec:
        if self.y1 <= self.y0:
            raise ValueError(
                f"row {self.index}: y1 ({self.y1}) must be greater than y0 ({self.y0})"
            )
        indexes = [s.index for s in self.slots]
        if len(set(indexes)) != len(indexes):
            raise ValueError(f"row {self.index}: slot indexes repeat: {indexes}")
        return self


_NAMES_ADDED_LATER = ("aisle", "bay")
"""Layout fields that a version hash leaves out while unset (see `Layout.version`)."""


class Layout(BaseModel):
    """A camera's shelf layout, as calibrated from a reference image."""

    model_config = ConfigDict(extra="forbid")

    aisle: str | None = Field(
        default=None, max_length=40, description="The aisle's name or number in the store."
    )
    bay: str | None = Field(
        default=None,
        max_length=40,
        description="The shelf section's name in its aisle; pages show it instead of the "
        "camera id.",
    )
    rows: list[RowSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_rows(self) -> Layout:
        indexes = [r.index for r in self.rows]
        if len(set(indexes)) != len(indexes):
            raise ValueError(f"row indexes repeat: {indexes}")
        return self

    @property
    def version(self) -> str:
        """A short content hash: equal layouts have equal versions on every machine.

        The names added later (`aisle`, `bay`, a row's `label`) count only when set, so a
        layout without them keeps the version that nodes of the earlier release compute."""
        data = self.model_dump(mode="json")
        for key in _NAMES_ADDED_LATER:
            if data.get(key) is None:
                data.pop(key, None)
        for row in data["rows"]:
            if row.get("label") is None:
                row.pop("label", None)
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]

    def slot_boxes(self) -> list[tuple[RowSpec, SlotSpec, tuple[float, float, float, float]]]:
        """Every slot with its normalised (x0, y0, x1, y1) rectangle, row by row."""
        return [
            (row, slot, (slot.x0, row.y0, slot.x1, row.y1))
            for row in self.rows
            for slot in row.slots
        ]
