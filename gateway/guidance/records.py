"""The head office's guidance as the store keeps it (tables of migration 0010).

A pull replaces the store's price references whole (HQ's latest is the truth) but
merges assortment items: an item keeps its id and the store's decision across pulls,
`current` says whether HQ still suggests it, and an open item HQ stopped suggesting
disappears from the page (a decided one stays, with its follow-up).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from gateway.storage.connection import Database
from gateway.storage.sql import db_time

Kind = Literal["add", "delist"]
Decision = Literal["accepted", "dismissed"]

PRICE_FIELDS = (
    "sku",
    "name",
    "brand",
    "price",
    "median",
    "low",
    "high",
    "stores",
    "basis",
    "radius_km",
    "diff_pct",
)


class ItemNotFound(LookupError):
    """No assortment item with that id (in that store)."""


class AlreadyDecided(ValueError):
    """The item was accepted or dismissed already."""


def save_pull(
    db: Database,
    store: str,
    prices: Sequence[dict[str, Any]],
    items: Sequence[dict[str, Any]],
    refreshed_at: datetime | None,
    at: datetime,
) -> None:
    """Store one successful pull: `prices` as the API gives them; `items` each with
    kind, sku, name, brand, rank, evidence and the rest as detail."""
    now = db_time(at)
    with db.transaction() as tx:
        tx.execute("DELETE FROM hq_price_refs WHERE store = ?", (store,))
        for ref in prices:
            tx.execute(
                f"INSERT INTO hq_price_refs (store, {', '.join(PRICE_FIELDS)}) "
                f"VALUES (?{', ?' * len(PRICE_FIELDS)})",
                (store, *(ref.get(f) for f in PRICE_FIELDS)),
            )
        tx.execute("UPDATE hq_assortment SET current = 0 WHERE store = ?", (store,))
        for item in items:
            detail = {k: v for k, v in item.items() if k not in ("kind", "sku", "name", "brand")}
            tx.execute(
                "INSERT INTO hq_assortment (store, kind, sku, name, brand, rank, evidence, "
                "detail, current, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?) "
                "ON CONFLICT (store, kind, sku) DO UPDATE SET name = excluded.name, "
                "brand = excluded.brand, rank = excluded.rank, evidence = excluded.evidence, "
                "detail = excluded.detail, current = 1",
                (
                    store,
                    item["kind"],
                    item["sku"],
                    item.get("name"),
                    item.get("brand"),
                    int(item["rank"]),
                    item["evidence"],
                    json.dumps(detail),
                    now,
                ),
            )
        _pull_row(tx, store, now, error=None, refreshed_at=refreshed_at)


def save_failure(db: Database, store: str, error: str, at: datetime) -> None:
    """Record a failed pull; the last good references and items stay."""
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO hq_guidance_pulls (store, attempted_at, error) VALUES (?, ?, ?) "
            "ON CONFLICT (store) DO UPDATE SET attempted_at = excluded.attempted_at, "
            "error = excluded.error",
            (store, db_time(at), error[:500]),
        )


def _pull_row(
    tx: Any, store: str, now: str, error: str | None, refreshed_at: datetime | None
) -> None:
    tx.execute(
        "INSERT INTO hq_guidance_pulls (store, pulled_at, refreshed_at, attempted_at, error) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (store) DO UPDATE SET pulled_at = excluded.pulled_at, "
        "refreshed_at = excluded.refreshed_at, attempted_at = excluded.attempted_at, "
        "error = excluded.error",
        (store, now, db_time(refreshed_at) if refreshed_at else None, now, error),
    )


def price_refs(db: Database, store: str) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = conn.execute(
            "SELECT * FROM hq_price_refs WHERE store = ? ORDER BY abs(diff_pct) DESC, sku",
            (store,),
        ).fetchall()
    return [dict(r) for r in rows]


def items(db: Database, store: str) -> list[dict[str, Any]]:
    """The store's current open items and every decided one, adds first, by rank."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT * FROM hq_assortment WHERE store = ? AND (current = 1 OR status != 'open') "
            "ORDER BY kind, status != 'open', rank, sku",
            (store,),
        ).fetchall()
    return [
        {**dict(r), "detail": json.loads(r["detail"]), "current": bool(r["current"])} for r in rows
    ]


def item(db: Database, item_id: int) -> dict[str, Any]:
    with db.read() as conn:
        row = conn.execute("SELECT * FROM hq_assortment WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        raise ItemNotFound(f"assortment item {item_id} not found")
    return {**dict(row), "detail": json.loads(row["detail"]), "current": bool(row["current"])}


def decide(
    db: Database,
    item_id: int,
    decision: Decision,
    at: datetime,
    by: str | None,
    reason: str | None = None,
) -> None:
    """Accept or dismiss an open item (AlreadyDecided when it is not open)."""
    with db.transaction() as tx:
        row = tx.execute("SELECT status FROM hq_assortment WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise ItemNotFound(f"assortment item {item_id} not found")
        if row[0] != "open":
            raise AlreadyDecided(f"assortment item {item_id} is {row[0]} already")
        tx.execute(
            "UPDATE hq_assortment SET status = ?, decided_at = ?, decided_by = ?, reason = ? "
            "WHERE id = ?",
            (decision, db_time(at), by, reason, item_id),
        )


def last_pull(db: Database, store: str) -> dict[str, Any] | None:
    with db.read() as conn:
        row = conn.execute("SELECT * FROM hq_guidance_pulls WHERE store = ?", (store,)).fetchone()
    return dict(row) if row else None
