"""Reads about cameras: each known camera with its latest state, health and layout
version, and per-camera settings."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from gateway.storage.connection import Database
from gateway.storage.slot_log import held_status

_CAMERA_SELECT = (
    "SELECT c.store, c.camera, c.online, c.last_seen, c.availability_at,"
    " s.payload AS state_payload, s.updated_at AS state_updated_at,"
    " h.payload AS health_payload, h.received_at AS health_received_at,"
    " l.version AS configured_layout_version"
    " FROM cameras c"
    " LEFT JOIN camera_state s ON s.store = c.store AND s.camera = c.camera"
    " LEFT JOIN health_latest h ON h.store = c.store AND h.camera = c.camera"
    " LEFT JOIN layouts l ON l.store = c.store AND l.camera = c.camera"
)


def _camera_record(row: sqlite3.Row) -> dict[str, Any]:
    state = json.loads(row["state_payload"]) if row["state_payload"] else None
    if state is not None:
        state["updated_at"] = row["state_updated_at"]
    health = json.loads(row["health_payload"]) if row["health_payload"] else None
    if health is not None:
        health["updated_at"] = row["health_received_at"]
    return {
        "store": row["store"],
        "camera": row["camera"],
        "online": bool(row["online"]),
        "last_seen": row["last_seen"],
        "availability_at": row["availability_at"],
        "state": state,
        "layout_version": state.get("layout_version") if state else None,
        "configured_layout_version": row["configured_layout_version"],
        "score": state.get("score") if state else None,
        "health": health,
    }


def _with_held(db: Database, record: dict[str, Any]) -> dict[str, Any]:
    """Each occluded slot of the state with what it holds (`held_status`: the node's
    word, else the slot log's) and since when (`held_since`, from the log)."""
    state = record["state"]
    for reading in state["slots"] if state else ():
        reading.setdefault("held_status", None)
        reading["held_since"] = None
        if reading.get("status") != "occluded":
            reading["held_status"] = None
            continue
        logged = held_status(db, record["store"], record["camera"], reading["row"], reading["slot"])
        if logged is None:
            continue
        status, since = logged
        reading["held_status"] = reading["held_status"] or status
        if reading["held_status"] == status:
            reading["held_since"] = since
    return record


def _where(store: str | None, camera: str | None) -> tuple[str, list[str]]:
    clauses, params = [], []
    for column, value in (("store", store), ("camera", camera)):
        if value is not None:
            clauses.append(f"c.{column} = ?")
            params.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_cameras(
    db: Database,
    store: str | None = None,
    camera: str | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Known cameras (of one store, or with one camera id) with their latest state,
    health and layout version, ordered by store and camera; `limit`/`offset` page."""
    where, params = _where(store, camera)
    sql = _CAMERA_SELECT + where + " ORDER BY c.store, c.camera LIMIT ? OFFSET ?"
    with db.read() as conn:
        rows = conn.execute(sql, [*params, -1 if limit is None else limit, offset]).fetchall()
    return [_with_held(db, _camera_record(r)) for r in rows]


def count_cameras(db: Database, store: str | None = None, camera: str | None = None) -> int:
    """How many cameras `list_cameras` would list without a page."""
    where, params = _where(store, camera)
    with db.read() as conn:
        return conn.execute(f"SELECT count(*) FROM cameras c{where}", params).fetchone()[0]


def find_camera(db: Database, store: str, camera: str) -> dict[str, Any] | None:
    with db.read() as conn:
        row = conn.execute(
            _CAMERA_SELECT + " WHERE c.store = ? AND c.camera = ?", (store, camera)
        ).fetchone()
    return _with_held(db, _camera_record(row)) if row else None


def snapshots_enabled(db: Database, store: str, camera: str) -> bool:
    with db.read() as conn:
        row = conn.execute(
            "SELECT snapshots_enabled FROM camera_settings WHERE store = ? AND camera = ?",
            (store, camera),
        ).fetchone()
    return bool(row["snapshots_enabled"]) if row else False


def camera_settings(db: Database) -> list[dict[str, Any]]:
    """Cameras with settings (whether snapshots are enabled), for publishing configs."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT store, camera, snapshots_enabled FROM camera_settings"
        ).fetchall()
    return [dict(r) | {"snapshots_enabled": bool(r["snapshots_enabled"])} for r in rows]


def known_cameras(db: Database) -> set[tuple[str, str]]:
    """(store, camera) of every camera the gateway has heard from or set up."""
    with db.read() as conn:
        rows = conn.execute("SELECT store, camera FROM cameras").fetchall()
    return {(r["store"], r["camera"]) for r in rows}
