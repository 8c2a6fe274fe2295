"""Reads of the slot change log.

`slot_states` holds a row when a slot's status or SKU changes, and that state holds
until the slot's next row. Durations (minutes empty) and time-weighted compliance are
computed from it without storing every frame.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.storage.connection import Database
from gateway.storage.sql import db_time


def slot_history(
    db: Database, store: str, camera: str, since: datetime | None = None
) -> list[dict[str, Any]]:
    """The slot change log of one camera, oldest first."""
    sql = (
        "SELECT row, slot, sku, status, confidence, gap_fraction, ts FROM slot_states"
        " WHERE store = ? AND camera = ?"
    )
    params: list[Any] = [store, camera]
    if since is not None:
        sql += " AND ts >= ?"
        params.append(db_time(since))
    with db.read() as conn:
        rows = conn.execute(sql + " ORDER BY ts, id", params).fetchall()
    return [dict(r) for r in rows]


HELD_LOOKBACK = 500
"""Log rows of one slot read back to find where its held status began."""


def held_status(
    db: Database, store: str, camera: str, row: int, slot: int
) -> tuple[str, str] | None:
    """What an occluded slot holds and since when, from its log: the last status seen
    before the occlusion, and when that status began (earlier occlusions inside the run
    do not end it). None when the log has no status but `occluded` for it."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT status, ts FROM slot_states WHERE store = ? AND camera = ? AND row = ?"
            " AND slot = ? ORDER BY id DESC LIMIT ?",
            (store, camera, row, slot, HELD_LOOKBACK),
        ).fetchall()
    held: str | None = None
    since: str | None = None
    for status, ts in rows:
        if status == "occluded":
            continue
        if held is None:
            held = status
        elif status != held:
            break
        since = ts
    return (held, since) if held is not None and since is not None else None
