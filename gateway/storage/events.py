"""Reads of shelf events (restocked, emptied, ...), stored once per event id."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from gateway.storage.connection import Database
from gateway.storage.sql import where_sql


def list_events(
    db: Database,
    *,
    store: str | None = None,
    camera: str | None = None,
    type: str | None = None,
    since: datetime | None = None,
    skus: Collection[str] | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Events newest first, filtered; `since` is inclusive; `skus` keeps events about
    those products only."""
    where, params = where_sql(
        {"store": store, "camera": camera, "type": type}, within={"sku": skus}, since=since
    )
    sql = "SELECT payload, received_at FROM events" + where
    sql += " ORDER BY ts DESC, received_at DESC LIMIT ?"
    params.append(limit)
    with db.read() as conn:
        rows = conn.execute(sql, params).fetchall()
    return [json.loads(r["payload"]) | {"received_at": r["received_at"]} for r in rows]
