"""Sales import batches: every import (API batch, CSV upload, `shelf-gateway pos
import`) is one batch with an id its response shows, so a wrong import can be undone.

Deleting a batch removes exactly the lines it stored (a line that an earlier import or
a till message had stored already stays with that one); velocity is computed from the
stored lines, so it follows at once, and the caller tells the advice engine which
stores changed. The batch's record stays, marked deleted (who, when, how many lines).
Lines from the tills over MQTT belong to no batch.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.storage.connection import Database
from gateway.storage.sql import db_time
from gateway.storage.transactions import Transaction

COUNTS = ("received", "accepted", "duplicates", "rejected", "flagged")


class BatchNotFound(LookupError):
    """No import batch with that id."""


@dataclass(frozen=True)
class BatchSpec:
    """What an import says of itself: how it came (`api`, `csv`, `cli`), the file's
    name, and who sent it."""

    source: str
    name: str | None = None
    by: str | None = None


@dataclass(frozen=True)
class BatchDeleted:
    batch: str
    lines: int
    stores: tuple[str, ...]


def new_batch_id(at: datetime) -> str:
    """Sortable and readable: `imp-20260302-101500-3fa2c1`."""
    return f"imp-{at.astimezone(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def open_batch(tx: Transaction, spec: BatchSpec, at: datetime) -> str:
    batch = new_batch_id(at)
    tx.execute(
        "INSERT INTO sales_batches (id, source, name, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (batch, spec.source, spec.name, spec.by, db_time(at)),
    )
    return batch


def set_counts(tx: Transaction, batch: str, counts: dict[str, int]) -> None:
    tx.execute(
        "UPDATE sales_batches SET " + ", ".join(f"{c} = ?" for c in COUNTS) + " WHERE id = ?",
        (*(counts[c] for c in COUNTS), batch),
    )


_SELECT = (
    "SELECT id, source, name, created_by, created_at, received, accepted, duplicates,"
    " rejected, flagged, deleted_at, deleted_by, deleted_lines FROM sales_batches"
)


def _with_stores(db: Database, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each batch with the lines it holds now, per store."""
    ids = [r["id"] for r in rows]
    held: dict[str, dict[str, int]] = {i: {} for i in ids}
    if ids:
        marks = ", ".join("?" * len(ids))
        with db.read() as conn:
            for r in conn.execute(
                f"SELECT batch, store, count(*) AS n FROM sales WHERE batch IN ({marks})"
                " GROUP BY batch, store",
                ids,
            ):
                held[r["batch"]][r["store"]] = r["n"]
    return [r | {"lines": sum(held[r["id"]].values()), "stores": held[r["id"]]} for r in rows]


def list_batches(
    db: Database, *, store: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Batches newest first (of one store: those that stored lines of it) and the total."""
    where, params = "", []
    if store is not None:
        where = (
            " WHERE id IN (SELECT DISTINCT batch FROM sales WHERE store = ? AND batch IS NOT NULL)"
        )
        params.append(store)
    with db.read() as conn:
        total = conn.execute(f"SELECT count(*) FROM sales_batches{where}", params).fetchone()[0]
        rows = conn.execute(
            f"{_SELECT}{where} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
    return _with_stores(db, [dict(r) for r in rows]), total


def find_batch(db: Database, batch: str) -> dict[str, Any] | None:
    with db.read() as conn:
        row = conn.execute(f"{_SELECT} WHERE id = ?", (batch,)).fetchone()
    return _with_stores(db, [dict(row)])[0] if row else None


def delete_batch(db: Database, batch: str, *, by: str) -> BatchDeleted:
    """Remove the lines `batch` stored and mark it deleted; BatchNotFound if unknown.
    Deleting a deleted batch again removes nothing."""
    with db.transaction() as tx:
        if tx.execute("SELECT 1 FROM sales_batches WHERE id = ?", (batch,)).fetchone() is None:
            raise BatchNotFound(f"no sales import batch {batch!r}")
        stores = tuple(
            r[0]
            for r in tx.execute(
                "SELECT DISTINCT store FROM sales WHERE batch = ? ORDER BY store", (batch,)
            )
        )
        lines = tx.execute("DELETE FROM sales WHERE batch = ?", (batch,)).rowcount
        tx.execute(
            "UPDATE sales_batches SET deleted_at = coalesce(deleted_at, ?),"
            " deleted_by = coalesce(deleted_by, ?),"
            " deleted_lines = coalesce(deleted_lines, 0) + ? WHERE id = ?",
            (db_time(datetime.now(UTC)), by, lines, batch),
        )
    return BatchDeleted(batch, lines, stores)
