"""Planogram import: which product goes where on a camera's shelf, from CSV or JSON.

A planogram says, per slot, the shelf row and position, the product (GTIN with its GS1
check digit, name, brand), facings and depth. Picture coordinates are optional: a
planogram from a merchandising tool knows the shelf, not the camera, so without them
the geometry comes from the camera's current layout (calibrated on its picture), slot by
slot; without that either, rows split the picture's height evenly and slots split their
row in proportion to their facings, for the installer to correct on the calibration page.
See firmware_config/planogram.example.csv and .json.

CSV: a header line, then one line per slot; lines starting with `#` are comments.

    row,slot,sku,name,brand,facings,depth[,y0,y1,x0,x1]

JSON: `{"slots": [{"row": 0, "slot": 0, "sku": "...", ...}, ...]}` (or the bare list),
with the same names.

Every problem is reported at once, naming the line (CSV) or item (JSON) and the column.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from edge.layout import Layout, RowSpec, SlotSpec, gtin_check_digit_ok

COLUMNS = ("row", "slot", "sku", "name", "brand", "facings", "depth", "y0", "y1", "x0", "x1")
GEOMETRY = ("y0", "y1", "x0", "x1")


class PlanogramError(ValueError):
    """The planogram cannot be used; the message lists every problem, one per line."""


class PlanogramSlot(BaseModel):
    """One planogram line."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    row: int = Field(ge=0)
    slot: int = Field(ge=0)
    sku: str | None = None
    name: str | None = None
    brand: str | None = None
    facings: int = Field(default=1, ge=1)
    depth: int = Field(default=1, ge=1)
    y0: float | None = Field(default=None, ge=0, le=1)
    y1: float | None = Field(default=None, ge=0, le=1)
    x0: float | None = Field(default=None, ge=0, le=1)
    x1: float | None = Field(default=None, ge=0, le=1)

    @field_validator("sku")
    @classmethod
    def _gtin(cls, value: str | None) -> str | None:
        if value and not gtin_check_digit_ok(value):
            raise ValueError(f"{value!r} is not a GTIN-8/12/13/14 with a valid check digit")
        return value or None

    @property
    def has_geometry(self) -> bool:
        return all(getattr(self, k) is not None for k in GEOMETRY)


def _problems(where: str, error: ValidationError) -> list[str]:
    out = []
    for item in error.errors():
        column = ".".join(str(p) for p in item["loc"]) or "(line)"
        out.append(f"{where}, column {column}: {item['msg'].removeprefix('Value error, ')}")
    return out


def _blank_to_none(record: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in record.items()}


def parse_csv(text: str, source: str = "planogram") -> list[PlanogramSlot]:
    """Planogram lines from CSV text; PlanogramError lists every bad line."""
    lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise PlanogramError(f"{source}: no header line")
    header_number, header = lines[0]
    columns = [c.strip() for c in next(csv.reader([header]))]
    unknown = [c for c in columns if c not in COLUMNS]
    missing = [c for c in ("row", "slot") if c not in columns]
    problems = []
    if unknown:
        problems.append(
            f"{source} line {header_number}: unknown column(s) {', '.join(unknown)} "
            f"(known: {', '.join(COLUMNS)})"
        )
    if missing:
        problems.append(f"{source} line {header_number}: missing column(s) {', '.join(missing)}")
    if problems:
        raise PlanogramError("\n".join(problems))
    slots = []
    for number, line in lines[1:]:
        values = next(csv.reader([line]))
        where = f"{source} line {number}"
        if len(values) != len(columns):
            problems.append(f"{where}: {len(values)} values for {len(columns)} columns")
            continue
        try:
            slots.append(
                PlanogramSlot.model_validate(
                    _blank_to_none(dict(zip(columns, values, strict=True)))
                )
            )
        except ValidationError as error:
            problems += _problems(where, error)
    if problems:
        raise PlanogramError("\n".join(problems))
    return slots


def parse_json(text: str, source: str = "planogram") -> list[PlanogramSlot]:
    """Planogram items from JSON text (`{"slots": [...]}` or a list)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanogramError(
            f"{source} line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    items = data.get("slots") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise PlanogramError(f'{source}: expected {{"slots": [...]}} or a list of slots')
    slots, problems = [], []
    for i, item in enumerate(items):
        where = f"{source} item {i}"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected an object")
            continue
        try:
            slots.append(PlanogramSlot.model_validate(_blank_to_none(item)))
        except ValidationError as error:
            problems += _problems(where, error)
    if problems:
        raise PlanogramError("\n".join(problems))
    return slots


def parse(text: str, source: str = "planogram", kind: str | None = None) -> list[PlanogramSlot]:
    """CSV or JSON (by `kind`, else by the first character)."""
    kind = kind or ("json" if text.lstrip()[:1] in ("{", "[") else "csv")
    return parse_json(text, source) if kind == "json" else parse_csv(text, source)


def to_layout(slots: Iterable[PlanogramSlot], current: Layout | None = None) -> Layout:
    """The layout a planogram describes; geometry as the module docstring says."""
    slots = list(slots)
    if not slots:
        raise PlanogramError("the planogram has no slots")
    by_row: dict[int, list[PlanogramSlot]] = {}
    seen: set[tuple[int, int]] = set()
    problems = []
    for item in slots:
        if (item.row, item.slot) in seen:
            problems.append(f"row {item.row}, slot {item.slot} is listed twice")
        seen.add((item.row, item.slot))
        by_row.setdefault(item.row, []).append(item)
    if problems:
        raise PlanogramError("\n".join(problems))
    old = {(r.index, s.index): (r, s) for r, s, _ in current.slot_boxes()} if current else {}
    old_rows = {r.index: r for r in current.rows} if current else {}
    row_indexes = sorted(by_row)
    rows = []
    for n, index in enumerate(row_indexes):
        items = sorted(by_row[index], key=lambda s: s.slot)
        y0, y1 = _row_span(items, old_rows.get(index), n, len(row_indexes))
        spans = _slot_spans(items, old)
        rows.append(
            RowSpec(
                index=index,
                y0=y0,
                y1=y1,
                label=old_rows[index].label if index in old_rows else None,
                slots=[
                    SlotSpec(
                        index=item.slot,
                        x0=x0,
                        x1=x1,
                        sku=item.sku,
                        name=item.name,
                        brand=item.brand,
                        facings=item.facings,
                        depth=item.depth,
                    )
                    for item, (x0, x1) in zip(items, spans, strict=True)
                ],
            )
        )
    try:
        # The store's own names (aisle, bay, shelf labels) are the installer's, not the
        # merchandising tool's: a planogram keeps them.
        return Layout(
            aisle=current.aisle if current else None,
            bay=current.bay if current else None,
            rows=rows,
        )
    except ValidationError as error:
        raise PlanogramError("; ".join(e["msg"] for e in error.errors())) from None


def _row_span(
    items: list[PlanogramSlot], old: RowSpec | None, n: int, count: int
) -> tuple[float, float]:
    with_geometry = [i for i in items if i.has_geometry]
    if with_geometry:
        first = with_geometry[0]
        for other in with_geometry[1:]:
            if (other.y0, other.y1) != (first.y0, first.y1):
                raise PlanogramError(
                    f"row {first.row}: slots {first.slot} and {other.slot} give different "
                    f"y0/y1 ({first.y0}-{first.y1} and {other.y0}-{other.y1})"
                )
        assert first.y0 is not None and first.y1 is not None
        return first.y0, first.y1
    if old is not None:
        return old.y0, old.y1
    return round(n / count, 4), round((n + 1) / count, 4)


def _slot_spans(
    items: list[PlanogramSlot], old: dict[tuple[int, int], tuple[RowSpec, SlotSpec]]
) -> list[tuple[float, float]]:
    if all(i.has_geometry for i in items):
        return [(float(i.x0), float(i.x1)) for i in items]  # type: ignore[arg-type]
    if all((i.row, i.slot) in old for i in items):
        return [(old[(i.row, i.slot)][1].x0, old[(i.row, i.slot)][1].x1) for i in items]
    total = sum(i.facings for i in items)
    spans, x = [], 0.0
    for item in items:
        width = item.facings / total
        spans.append((round(x, 4), round(min(1.0, x + width), 4)))
        x += width
    return spans


def load(path: Path, current: Layout | None = None) -> Layout:
    """Read a planogram file (.csv or .json) into a layout."""
    text = path.read_text(encoding="utf-8")
    kind = "json" if path.suffix.lower() == ".json" else "csv"
    return to_layout(parse(text, str(path), kind), current)


def to_csv(layout: Layout) -> str:
    """A layout as planogram CSV with geometry (what `load` reads back unchanged)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row, slot, _ in layout.slot_boxes():
        writer.writerow(
            [
                row.index,
                slot.index,
                slot.sku or "",
                slot.name or "",
                slot.brand or "",
                slot.facings,
                slot.depth,
                row.y0,
                row.y1,
                slot.x0,
                slot.x1,
            ]
        )
    return out.getvalue()
