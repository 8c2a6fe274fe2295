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
