"""The one writer: every write the gateway makes goes through a `Transaction`, valid
inside `Database.transaction()` only.

`slot_states` is a change log: `record_state` writes a row only when a slot's status or
SKU changes, and returns those changes, so listeners (the live feed) need not compare
states again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edge.contract.messages import Health, ShelfEvent, ShelfState
from edge.layout import Layout
from gateway.storage.removal import (
    CAMERA_TABLES,
    LAYOUT_DELETED_REASON,
    STORE_TABLES,
)
from gateway.storage.sql import db_time

DEAD_LETTER_KEEP = 10_000
"""Newest dead letters kept; a flood of bad messages must not fill the disk."""

CameraKey = tuple[str, str]
SlotKey = tuple[int, int]


@dataclass(frozen=True)
class SlotChange:
    """One slot whose product or status changed: the row `record_state` logged."""

    row: int
    slot: int
    sku: str | None
    status: str
    confidence: float
    gap_fraction: float


@dataclass(frozen=True)
class StateRecord:
    """What `record_state` did: `stored` is False for a state not newer than the stored
    one; `changes` are the slots it logged (none when nothing changed)."""

    stored: bool
    changes: tuple[SlotChange, ...] = ()


class SlotLogCache:
    """The last logged (sku, status) of each slot per camera, read once from the log so
    `record_state` compares without a query per frame. Cleared when a transaction rolls
    back, since it may hold what was never committed."""

    def __init__(self) -> None:
        self._cameras: dict[CameraKey, dict[SlotKey, tuple[str | None, str]]] = {}

    def of(self, conn: sqlite3.Connection, key: CameraKey) -> dict[SlotKey, tuple[str | None, str]]:
        cached = self._cameras.get(key)
        if cached is None:
            rows = conn.execute(
                "SELECT row, slot, sku, status FROM slot_states WHERE id IN ("
                " SELECT max(id) FROM slot_states WHERE store = ? AND camera = ?"
                " GROUP BY row, slot)",
                key,
            ).fetchall()
            cached = {(r["row"], r["slot"]): (r["sku"], r["status"]) for r in rows}
            self._cameras[key] = cached
        return cached

    def clear(self) -> None:
        self._cameras.clear()

    def forget(self, key: CameraKey) -> None:
        """Drop one camera's slots (its log was deleted)."""
        self._cameras.pop(key, None)


class Transaction:
    """The write operations, valid inside `Database.transaction()` only."""

    def __init__(self, conn: sqlite3.Connection, slot_log: SlotLogCache) -> None:
        self._conn = conn
        self._slot_log = slot_log

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """One statement in this transaction, for modules that own their tables (pos.py,
        catalogue.py) so their SQL lives beside their model."""
        return self._conn.execute(sql, params)

    def touch_camera(self, store: str, camera: str, seen_at: datetime) -> None:
        """Note that a camera was heard from (its row appears on first contact)."""
        self._conn.execute(
            "INSERT INTO cameras (store, camera, last_seen) VALUES (?, ?, ?) "
            "ON CONFLICT (store, camera) DO UPDATE SET last_seen = "
            "max(coalesce(cameras.last_seen, ''), excluded.last_seen)",
            (store, camera, db_time(seen_at)),
        )

    def record_availability(self, store: str, camera: str, online: bool, at: datetime) -> None:
        """Online/offline in arrival order: a Last Will carries its connect-time `ts`,
        older than the `online` it follows, so payload times cannot order these."""
        self._conn.execute(
            "INSERT INTO cameras (store, camera, online, availability_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (store, camera) DO UPDATE SET online = excluded.online, "
            "availability_at = excluded.availability_at",
            (store, camera, int(online), db_time(at)),
        )

    def record_state(self, state: ShelfState, received_at: datetime) -> StateRecord:
        """Store the latest state unless a newer one is stored; log and return the slots
        whose product or status changed.

        A state not newer than the stored one (a retained copy delivered again, or a late
        message) changes nothing: `stored` is False.
        """
        ts = db_time(state.ts)
        cursor = self._conn.execute(
            "INSERT INTO camera_state (store, camera, ts, seq, layout_version, score, occluded,"
            " payload, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (store, camera) DO UPDATE SET ts = excluded.ts, seq = excluded.seq, "
            "layout_version = excluded.layout_version, score = excluded.score, "
            "occluded = excluded.occluded, payload = excluded.payload, "
            "updated_at = excluded.updated_at WHERE excluded.ts > camera_state.ts",
            (
                state.store,
                state.camera,
                ts,
                state.seq,
                state.layout_version,
                state.score,
                int(state.occluded),
                state.model_dump_json(),
                db_time(received_at),
            ),
        )
        if cursor.rowcount == 0:
            return StateRecord(stored=False)
        known = self._slot_log.of(self._conn, (state.store, state.camera))
        changes = []
        for reading in state.slots:
            now = (reading.sku, reading.status.value)
            if known.get((reading.row, reading.slot)) != now:
                known[(reading.row, reading.slot)] = now
                changes.append(
                    SlotChange(
                        reading.row,
                        reading.slot,
                        reading.sku,
                        reading.status.value,
                        reading.confidence,
                        reading.gap_fraction,
                    )
                )
        if changes:
            self._conn.executemany(
                "INSERT INTO slot_states (store, camera, row, slot, sku, status, confidence,"
                " gap_fraction, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        state.store,
                        state.camera,
                        c.row,
                        c.slot,
                        c.sku,
                        c.status,
                        c.confidence,
                        c.gap_fraction,
                        ts,
                    )
                    for c in changes
                ],
            )
        return StateRecord(stored=True, changes=tuple(changes))

    def record_event(self, event: ShelfEvent, received_at: datetime) -> bool:
        """Insert an event once; False when its id is already stored (a duplicate)."""
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO events (id, store, camera, ts, type, row, slot, sku, payload,"
            " received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.id,
                event.store,
                event.camera,
                db_time(event.ts),
                event.type.value,
                event.row,
                event.slot,
                event.sku,
                event.model_dump_json(),
                db_time(received_at),
            ),
        )
        return cursor.rowcount == 1

    def record_health(self, health: Health, received_at: datetime) -> bool:
        """Append to the history (once per camera and ts) and keep the newest as latest."""
        ts = db_time(health.ts)
        payload = health.model_dump_json()
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO health_history (store, camera, ts, uptime_s, frames_processed,"
            " frames_failed, camera_ok, inference_ms, fps, cpu_temp_c, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                health.store,
                health.camera,
                ts,
                health.uptime_s,
                health.frames_processed,
                health.frames_failed,
                int(health.camera_ok),
                health.inference_ms,
                health.fps,
                health.cpu_temp_c,
                payload,
            ),
        )
        self._conn.execute(
            "INSERT INTO health_latest (store, camera, ts, payload, received_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (store, camera) DO UPDATE SET ts = excluded.ts,"
            " payload = excluded.payload, received_at = excluded.received_at"
            " WHERE excluded.ts > health_latest.ts",
            (health.store, health.camera, ts, payload, db_time(received_at)),
        )
        return cursor.rowcount == 1

    def record_dead_letter(
        self, topic: str, reason: str, payload: bytes, received_at: datetime, keep_bytes: int
    ) -> None:
        """Keep a rejected message (its first `keep_bytes`) with the reason, for people."""
        kept = payload[:keep_bytes]
        self._conn.execute(
            "INSERT INTO dead_letters (received_at, topic, reason, size, payload, payload_text)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                db_time(received_at),
                topic,
                reason,
                len(payload),
                kept,
                kept.decode("utf-8", errors="replace"),
            ),
        )

    def prune_dead_letters(self, keep: int = DEAD_LETTER_KEEP) -> None:
        self._conn.execute(
            "DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - ?", (keep,)
        )

    def save_layout(self, store: str, camera: str, layout: Layout, at: datetime) -> str:
        """Store a camera's layout (the camera is listed from then on, its products join
        the catalogue); returns its version."""
        version = layout.version
        self._conn.execute(
            "INSERT INTO layouts (store, camera, version, layout, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (store, camera) DO UPDATE SET"
            " version = excluded.version, layout = excluded.layout,"
            " updated_at = excluded.updated_at",
            (store, camera, version, layout.model_dump_json(), db_time(at)),
        )
        self._conn.execute(
            "INSERT OR IGNORE INTO cameras (store, camera) VALUES (?, ?)", (store, camera)
        )
        # Named products of a layout join the catalogue the calibration page offers; the
        # catalogue import stays authoritative for what it knows.
        self._conn.executemany(
            "INSERT INTO products (gtin, name, brand, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (gtin) DO NOTHING",
            [
                (slot.sku, slot.name, slot.brand, db_time(at))
                for _, slot, _ in layout.slot_boxes()
                if slot.sku and slot.name
            ],
        )
        return version

    def set_snapshots_enabled(self, store: str, camera: str, enabled: bool, at: datetime) -> None:
        self._conn.execute(
            "INSERT INTO camera_settings (store, camera, snapshots_enabled, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (store, camera) DO UPDATE SET"
            " snapshots_enabled = excluded.snapshots_enabled, updated_at = excluded.updated_at",
            (store, camera, int(enabled), db_time(at)),
        )
        self._conn.execute(
            "INSERT OR IGNORE INTO cameras (store, camera) VALUES (?, ?)", (store, camera)
        )

    # ---- deletes (what each removes: storage/removal.py) -------------------------------

    def delete_camera(self, store: str, camera: str) -> dict[str, int]:
        """Remove every row of one camera; rows removed per table (none: unknown)."""
        removed = {
            table: self._conn.execute(
                f"DELETE FROM {table} WHERE store = ? AND camera = ?", (store, camera)
            ).rowcount
            for table in CAMERA_TABLES
        }
        self._slot_log.forget((store, camera))
        return {table: n for table, n in removed.items() if n}

    def delete_store(self, store: str) -> dict[str, int]:
        """Remove every camera of a store and its sale lines; rows removed per table."""
        removed: dict[str, int] = {}
        cameras = self._conn.execute(
            "SELECT camera FROM cameras WHERE store = ? UNION SELECT camera FROM layouts"
            " WHERE store = ? UNION SELECT camera FROM advice WHERE store = ?",
            (store, store, store),
        ).fetchall()
        for (camera,) in cameras:
            for table, n in self.delete_camera(store, camera).items():
                removed[table] = removed.get(table, 0) + n
        for table in STORE_TABLES:
            n = self._conn.execute(f"DELETE FROM {table} WHERE store = ?", (store,)).rowcount
            if n:
                removed[table] = n
        return removed

    def delete_layout(self, store: str, camera: str, at: datetime) -> bool:
        """Remove a camera's layout and dismiss its open advice; False when it had none."""
        cursor = self._conn.execute(
            "DELETE FROM layouts WHERE store = ? AND camera = ?", (store, camera)
        )
        if cursor.rowcount == 0:
            return False
        self._conn.execute(
            "UPDATE advice SET status = 'dismissed', dismissed_at = ?, dismiss_reason = ?,"
            " updated_at = ? WHERE store = ? AND camera = ? AND status IN ('open', 'acknowledged')",
            (db_time(at), LAYOUT_DELETED_REASON, db_time(at), store, camera),
        )
        return True
