"""The demo's past week on its shelves: a slot state every 10 minutes for the days before
the demo starts, stored as a camera's states are, so the compliance chart shows a trend
the first time it is opened (as `demo_till` seeds a week of sales).

The story is simple and readable on the chart: shelves empty faster in the busy
afternoon, staff restock in opening hours only (so nights end low), a product is now and
then put in the wrong slot or the shelf gets messy, and the team gets better at restocking
over the week (the trend). Deterministic per seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from edge.contract.messages import ShelfState, SlotReading, SlotStatus
from edge.layout import Layout
from gateway.storage.connection import Database

HISTORY_DAYS = 7
STEP = timedelta(minutes=10)
OPEN_HOURS = range(7, 21)
"""Local hours in which staff restock and tidy."""

STOCKED, LOW, EMPTY = SlotStatus.STOCKED, SlotStatus.LOW, SlotStatus.EMPTY
WRONG, MESSY = SlotStatus.WRONG_PRODUCT, SlotStatus.MESSY


@dataclass(frozen=True)
class Odds:
    """Chances per 10-minute step at one moment of the week."""

    sell_down: float  # stocked -> low, low -> empty
    restock: float  # low/empty -> stocked
    misplace: float  # stocked -> wrong product
    mess: float  # stocked -> messy
    fix: float  # wrong product / messy -> stocked


def odds_at(local: datetime, progress: float) -> Odds:
    """`progress` runs 0..1 over the week: restocking starts slow and ends prompt."""
    busy = 1.6 if 12 <= local.hour < 19 else 0.4 if local.hour < 7 or local.hour >= 21 else 1.0
    staffed = local.hour in OPEN_HOURS
    care = progress**1.5
    return Odds(
        sell_down=0.04 * busy,
        restock=(0.015 + 0.45 * care) if staffed else 0.0,
        misplace=0.003 * busy,
        mess=0.005 * busy,
        fix=(0.02 + 0.25 * care) if staffed else 0.0,
    )


def next_status(status: SlotStatus, odds: Odds, rng: random.Random) -> SlotStatus:
    roll = rng.random()
    if status is STOCKED:
        if roll < odds.sell_down:
            return LOW
        if roll < odds.sell_down + odds.misplace:
            return WRONG
        if roll < odds.sell_down + odds.misplace + odds.mess:
            return MESSY
        return STOCKED
    if status in (LOW, EMPTY):
        if roll < odds.restock:
            return STOCKED
        return EMPTY if status is LOW and roll > 1 - odds.sell_down else status
    return STOCKED if roll < odds.fix else status


def seed_shelf_history(
    db: Database,
    store: str,
    camera: str,
    layout: Layout,
    now: datetime,
    *,
    days: int = HISTORY_DAYS,
    seed: int = 0,
) -> int:
    """Store the camera's states for the `days` before `now`; returns how many were kept
    (none when the database already holds newer states, e.g. a kept `--data-dir`)."""
    rng = random.Random(f"{seed}-{store}-{camera}")
    slots = [(row.index, slot.index, slot.sku) for row, slot, _box in layout.slot_boxes()]
    statuses = {(r, s): STOCKED for r, s, _sku in slots}
    start = now - timedelta(days=days)
    total = (now - start) / STEP
    stored = 0
    with db.transaction() as tx:
        for step in range(int(total) - 1):  # the present belongs to the live camera
            at = start + step * STEP
            odds = odds_at(at.astimezone(), step / total)
            for key, status in statuses.items():
                statuses[key] = next_status(status, odds, rng)
            state = ShelfState(
                store=store,
                camera=camera,
                ts=at,
                seq=step,
                layout_version=layout.version,
                slots=[
                    SlotReading(row=r, slot=s, sku=sku, status=statuses[(r, s)])
                    for r, s, sku in slots
                ],
            )
            stored += tx.record_state(state, received_at=at).stored
    return stored
