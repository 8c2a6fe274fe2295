"""Reads of the stored camera layouts (shelf rows, slots and their products)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from gateway.storage.connection import Database


def find_layout(db: Database, store: str, camera: str) -> dict[str, Any] | None:
    with db.read() as conn:
        row = conn.execute(
            "SELECT store, camera, version, layout, updated_at FROM layouts"
            " WHERE store = ? AND camera = ?",
            (store, camera),
        ).fetchone()
    return _layout_record(row) if row else None


def list_layouts(db: Database) -> list[dict[str, Any]]:
    with db.read() as conn:
        rows = conn.execute(
            "SELECT store, camera, version, layout, updated_at FROM layouts ORDER BY store, camera"
        ).fetchall()
    return [_layout_record(r) for r in rows]


def _layout_record(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "store": row["store"],
        "camera": row["camera"],
        "version": row["version"],
        "layout": json.loads(row["layout"]),
        "updated_at": row["updated_at"],
    }
