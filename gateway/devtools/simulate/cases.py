"""Hidden stock-outs planted in `shelf-gateway simulate`: where and when, from the seed.

A planted case is a restock that leaves the product out of shoppers' reach while the
slot looks stocked (`SimulatedShelf.hide`): only the till can tell, by sales that stop.
Cases go to slots where that is knowable within a shift, as the issue's rule states
it ("no sales for much longer than the expected time between sales"):

- the product sells at least `FAST_UNITS_PER_HOUR` (the simulated catalogue's fast
  movers): a slow mover's silence of a few hours is normal, so no rule can flag it;
- its SKU stands in no other slot of the store: the till reports sales per SKU, not
  per slot, so a SKU still selling from another shelf is not silent.

Cases start between `EARLIEST_S` and `LATEST_BEFORE_END_S` before the end (so a case
can be seen within the run); unasked, staff notice and bring the product forward after
`REVEAL_AFTER_S`. Times are whole frames.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

CASES_PER_CAMERA_PER_8H = 2
FAST_UNITS_PER_HOUR = 1.5
EARLIEST_S = 1800.0
LATEST_BEFORE_END_S = 4 * 3600.0
REVEAL_AFTER_S = (4 * 3600.0, 6 * 3600.0)


@dataclass(frozen=True)
class HiddenCase:
    """One planted case: camera (index), slot, the frame it starts at (shelf time
    `frame x interval`), and when staff would fix it unasked."""

    camera: int
    slot: tuple[int, int]
    frame: int
    reveal_after_s: float


def eligible_slots(shelves: Sequence[Any]) -> list[tuple[int, tuple[int, int]]]:
    """(camera index, slot) of fast movers whose SKU stands in one slot of the store."""
    count = Counter(stock.product.gtin for shelf in shelves for stock in shelf.slots.values())
    return [
        (n, key)
        for n, shelf in enumerate(shelves)
        for key, stock in sorted(shelf.slots.items())
        if count[stock.product.gtin] == 1 and stock.product.units_per_hour >= FAST_UNITS_PER_HOUR
    ]


def plan_hidden_cases(
    shelves: Sequence[Any], hours: float, interval_s: float, seed: int
) -> list[HiddenCase]:
    """`CASES_PER_CAMERA_PER_8H` per camera and 8 h (at least one), on distinct eligible
    slots, deterministic for the seed and the shelves."""
    rng = np.random.default_rng([seed, 5])
    slots = eligible_slots(shelves)
    wanted = max(1, math.ceil(CASES_PER_CAMERA_PER_8H * len(shelves) * hours / 8))
    picks = rng.permutation(len(slots))[:wanted]
    run_s = hours * 3600.0
    latest = max(EARLIEST_S, run_s - LATEST_BEFORE_END_S)
    cases = []
    for i in sorted(int(p) for p in picks):
        camera, slot = slots[i]
        start_s = float(rng.uniform(EARLIEST_S, latest))
        cases.append(
            HiddenCase(
                camera=camera,
                slot=slot,
                frame=round(start_s / interval_s),
                reveal_after_s=float(rng.uniform(*REVEAL_AFTER_S)),
            )
        )
    return cases


def plant_due(cases: Sequence[HiddenCase], frame: int, shelves: Sequence[Any]) -> None:
    """Plant the cases that start at `frame` (before the shelves step past it)."""
    for case in cases:
        if case.frame == frame:
            shelves[case.camera].hide(case.slot, reveal_after_s=case.reveal_after_s)


# ---- wrong-product and messy episodes ------------------------------------------------

DISPLAY_CASES_PER_CAMERA_PER_8H = 8
"""Of each kind: 3 cameras x 8 h give 24 wrong-product and 24 messy episodes planted, on
top of those the shelves make by themselves, so their precision and recall rest on more
than a handful."""
DISPLAY_FIX_AFTER_S = (1800.0, 5400.0)
"""Unasked, staff put the right product back / tidy after this long (the shelf's own
`fix_delay_s`); told by advice, sooner."""
DISPLAY_LATEST_BEFORE_END_S = 1800.0


@dataclass(frozen=True)
class DisplayCase:
    """One planted display fault: `wrong_product` (the slot refilled with its
    neighbour's product) or `messy`, on a camera (index) from a frame on. The slot is
    chosen when the case starts: the one the plan names if it shows its own product,
    full and tidy then, else the next such slot of that camera."""

    kind: str
    camera: int
    slot: tuple[int, int]
    frame: int
    fix_after_s: float


def plan_display_cases(
    shelves: Sequence[Any], hours: float, interval_s: float, seed: int
) -> list[DisplayCase]:
    """`DISPLAY_CASES_PER_CAMERA_PER_8H` of each kind per camera and 8 h (at least one),
    at times spread evenly over the run with a random offset, deterministic for the seed."""
    rng = np.random.default_rng([seed, 6])
    run_s = hours * 3600.0
    latest = max(EARLIEST_S, run_s - DISPLAY_LATEST_BEFORE_END_S)
    wanted = max(1, math.ceil(DISPLAY_CASES_PER_CAMERA_PER_8H * hours / 8))
    cases = []
    for camera, shelf in enumerate(shelves):
        slots = sorted(shelf.slots)
        for kind in ("wrong_product", "messy"):
            span = (latest - EARLIEST_S) / wanted
            for k in range(wanted):
                start_s = EARLIEST_S + span * (k + float(rng.uniform(0.0, 1.0)))
                cases.append(
                    DisplayCase(
                        kind=kind,
                        camera=camera,
                        slot=slots[int(rng.integers(len(slots)))],
                        frame=round(start_s / interval_s),
                        fix_after_s=float(rng.uniform(*DISPLAY_FIX_AFTER_S)),
                    )
                )
    return sorted(cases, key=lambda c: (c.frame, c.camera, c.kind))


def _plantable(shelf: Any, key: tuple[int, int], kind: str) -> bool:
    """The slot shows its own product, full, tidy, reachable, with no restock due (a
    restock would end the case at once); a wrong product needs a different neighbour."""
    stock = shelf.slots[key]
    clean = (
        stock.visible == stock.facings
        and not stock.messy
        and stock.shown is None
        and not stock.hidden
        and stock.restock_at is None
    )
    if kind == "wrong_product":
        return clean and shelf.neighbour_product(key) is not None
    return clean


def plant_display_due(
    cases: Sequence[DisplayCase], frame: int, shelves: Sequence[Any], seed: int
) -> list[tuple[DisplayCase, tuple[int, int]]]:
    """Plant the display cases starting at `frame`; returns each with the slot it went
    to (a case whose camera has no plantable slot then is skipped)."""
    planted = []
    for case in cases:
        if case.frame != frame:
            continue
        shelf = shelves[case.camera]
        slots = sorted(shelf.slots)
        first = slots.index(case.slot)
        key = next(
            (k for k in slots[first:] + slots[:first] if _plantable(shelf, k, case.kind)),
            None,
        )
        if key is None:
            continue
        if case.kind == "wrong_product":
            shelf.misplace(key, fix_after_s=case.fix_after_s)
        else:
            stock = shelf.slots[key]
            rng = np.random.default_rng([seed, 7, case.camera, frame])
            shelf.make_messy(stock, rng)
            stock.tidy_at = shelf.clock_s + case.fix_after_s
        planted.append((case, key))
    return planted
