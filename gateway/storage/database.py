"""SQLite storage: schema, the one writer, and the API's read queries.

WAL mode lets API readers (each with its own connection) run while the ingest thread
writes; `synchronous=NORMAL` makes a commit cheap (no fsync per transaction; a power cut
can lose the last commits, never corrupt the file). The schema is versioned with
`PRAGMA user_version`; later changes append a migration to `MIGRATIONS`.

Times are stored as ISO 8601 UTC text with microseconds in one fixed format, so text
order is time order and every row is readable with the sqlite3 shell.

`slot_states` is a change log: a row is written when a slot's status or SKU changes, and
that state holds until the slot's next row. Durations (minutes empty) and time-weighted
compliance are computed from it without storing every frame.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edge.contract.messages import Health, ShelfEvent, ShelfState
from edge.layout import Layout

DB_FILE = "shelfsense.db"
DEAD_LETTER_KEEP = 10_000
"""Newest dead letters kept; a flood of bad messages must not fill the disk."""

_SCHEMA_V1 = """
CREATE TABLE cameras (
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    online INTEGER NOT NULL DEFAULT 0,
    last_seen TEXT,
    availability_at TEXT,
    PRIMARY KEY (store, camera)
) WITHOUT ROWID;

CREATE TABLE camera_state (
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    ts TEXT NOT NULL,
    seq INTEGER NOT NULL,
    layout_version TEXT,
    score REAL,
    occluded INTEGER NOT NULL,
    payload TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (store, camera)
) WITHOUT ROWID;

CREATE TABLE slot_states (
    id INTEGER PRIMARY KEY,
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    row INTEGER NOT NULL,
    slot INTEGER NOT NULL,
    sku TEXT,
    status TEXT NOT NULL,
    confidence REAL NOT NULL,
    gap_fraction REAL NOT NULL,
    ts TEXT NOT NULL
);
CREATE INDEX slot_states_camera_ts ON slot_states (store, camera, ts);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    ts TEXT NOT NULL,
    type TEXT NOT NULL,
    row INTEGER,
    slot INTEGER,
    sku TEXT,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX events_ts ON events (ts);
CREATE INDEX events_camera_ts ON events (store, camera, ts);
CREATE INDEX events_type_ts ON events (type, ts);

CREATE TABLE health_latest (
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    ts TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (store, camera)
) WITHOUT ROWID;

CREATE TABLE health_history (
    id INTEGER PRIMARY KEY,
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    ts TEXT NOT NULL,
    uptime_s REAL NOT NULL,
    frames_processed INTEGER NOT NULL,
    frames_failed INTEGER NOT NULL,
    camera_ok INTEGER NOT NULL,
    inference_ms REAL,
    fps REAL,
    cpu_temp_c REAL,
    payload TEXT NOT NULL
);
CREATE UNIQUE INDEX health_history_camera_ts ON health_history (store, camera, ts);

CREATE TABLE layouts (
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    version TEXT NOT NULL,
    layout TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (store, camera)
) WITHOUT ROWID;

CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    topic TEXT NOT NULL,
    reason TEXT NOT NULL,
    size INTEGER NOT NULL,
    payload BLOB NOT NULL,
    payload_text TEXT NOT NULL
);
"""

_SCHEMA_V2_POS = """
CREATE TABLE sales (
    store TEXT NOT NULL,
    id TEXT NOT NULL,
    ts TEXT NOT NULL,
    sku TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price TEXT NOT NULL,
    currency TEXT,
    source TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (store, id)
) WITHOUT ROWID;
CREATE INDEX sales_store_sku_ts ON sales (store, sku, ts);
CREATE INDEX sales_store_ts ON sales (store, ts);

CREATE TABLE products (
    gtin TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    brand TEXT,
    category TEXT,
    pack_size TEXT,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX products_brand ON products (brand);
"""
"""POS sale lines (gateway/retail/pos.py; unit_price is exact decimal text) and the product
catalogue (gateway/retail/catalogue.py)."""

_SCHEMA_V3_ADVICE = """
CREATE TABLE advice (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    row INTEGER,
    slot INTEGER,
    kind TEXT NOT NULL,
    cause TEXT NOT NULL,
    sku TEXT,
    name TEXT,
    brand TEXT,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    urgency REAL NOT NULL,
    level TEXT NOT NULL,
    evidence TEXT NOT NULL,
    status TEXT NOT NULL,
    episode_start TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    acknowledged_at TEXT,
    resolved_at TEXT,
    verified INTEGER,
    resolution TEXT,
    dismissed_at TEXT,
    dismiss_reason TEXT
);
CREATE UNIQUE INDEX advice_active_key ON advice (key) WHERE status IN ('open', 'acknowledged');
CREATE INDEX advice_key_episode ON advice (key, episode_start);
CREATE INDEX advice_store_status ON advice (store, status, kind)
"""
"""Advice and its lifecycle (gateway/advice/store.py)."""

_SCHEMA_V4_CALIBRATION = """
CREATE TABLE camera_settings (
    store TEXT NOT NULL,
    camera TEXT NOT NULL,
    snapshots_enabled INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (store, camera)
) WITHOUT ROWID;
"""
"""Per-camera settings: snapshots are off until someone enables them for a camera."""

_SCHEMA_V5_USERS = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    prefix TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
"""
"""Users, API tokens and browser sessions (gateway/auth/users.py). Tokens and session ids
are stored as SHA-256 hashes only, passwords as Argon2id hashes."""

MIGRATIONS: list[str] = [
    _SCHEMA_V1,
    _SCHEMA_V2_POS,
    _SCHEMA_V3_ADVICE,
    _SCHEMA_V4_CALIBRATION,
    _SCHEMA_V5_USERS,
]
"""MIGRATIONS[i] takes a database from user_version i to i + 1."""

SCHEMA_VERSION = len(MIGRATIONS)

CameraKey = tuple[str, str]
SlotKey = tuple[int, int]


def db_time(value: datetime) -> str:
    """The one stored time format: UTC, microseconds, so text order is time order."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def sql_in(column: str, values: Collection[str]) -> tuple[str, list[str]]:
    """`column IN (?, ...)` with its parameters, for a filter by a set of values (a
    brand's GTINs); an empty set matches nothing."""
    if not values:
        return "0", []
    return f"{column} IN ({', '.join('?' * len(values))})", sorted(values)


def where_sql(
    equal: Mapping[str, Any],
    *,
    within: Mapping[str, Collection[str] | None] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[str, list[Any]]:
    """` WHERE ...` (or "") and its parameters for the usual list filters: each non-None
    `equal` value as `column = ?`, each non-None `within` set as `column IN (...)` (an
    empty set matches nothing), and `ts` from `since` (inclusive) to `until` (exclusive)."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in equal.items():
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    for column, values in (within or {}).items():
        if values is not None:
            clause, in_params = sql_in(column, values)
            where.append(clause)
            params.extend(in_params)
    for clause, moment in (("ts >= ?", since), ("ts < ?", until)):
        if moment is not None:
            where.append(clause)
            params.append(db_time(moment))
    return (" WHERE " + " AND ".join(where) if where else ""), params


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=10.0, check_same_thread=False, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


class DatabaseError(RuntimeError):
    """The database cannot be opened or has a schema newer than this build."""


class Transaction:
    """The write operations, valid inside `Database.transaction()` only."""

    def __init__(self, conn: sqlite3.Connection, db: Database) -> None:
        self._conn = conn
        self._db = db

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

    def record_state(self, state: ShelfState, received_at: datetime) -> bool:
        """Store the latest state unless a newer one is stored; log slot changes.

        Returns False for a state not newer than the stored one (a retained copy
        delivered again, or a late message), which changes nothing.
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
            return False
        known = self._db._slot_cache_for(self._conn, (state.store, state.camera))
        changed = []
        for reading in state.slots:
            key = (reading.row, reading.slot)
            now = (reading.sku, reading.status.value)
            if known.get(key) != now:
                known[key] = now
                changed.append(
                    (
                        state.store,
                        state.camera,
                        reading.row,
                        reading.slot,
                        reading.sku,
                        reading.status.value,
                        reading.confidence,
                        reading.gap_fraction,
                        ts,
                    )
                )
        if changed:
            self._conn.executemany(
                "INSERT INTO slot_states (store, camera, row, slot, sku, status, confidence,"
                " gap_fraction, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                changed,
            )
        return True

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
        # catalogue import (gateway/retail/catalogue.py) stays authoritative for what it knows.
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


class Database:
    """One SQLite file: a single locked writer connection, a fresh connection per reader."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._writer: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._slot_cache: dict[CameraKey, dict[SlotKey, tuple[str | None, str]]] = {}

    @classmethod
    def in_dir(cls, data_dir: str | Path) -> Database:
        return cls(Path(data_dir) / DB_FILE)

    @property
    def is_open(self) -> bool:
        return self._writer is not None

    def open(self) -> None:
        """Create the file and schema if needed and migrate an older schema."""
        if self._writer is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = _connect(self.path)
        except (OSError, sqlite3.Error) as error:
            raise DatabaseError(f"{self.path}: cannot open the database: {error}") from None
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise DatabaseError(f"{self.path}: cannot switch to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        self._writer = conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        if current > SCHEMA_VERSION:
            raise DatabaseError(
                f"{self.path}: schema version {current} is newer than this build "
                f"({SCHEMA_VERSION}); upgrade shelfsense"
            )
        for version in range(current, SCHEMA_VERSION):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            self._slot_cache.clear()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One write transaction; rolled back (and caches dropped) on any exception."""
        with self._lock:
            if self._writer is None:
                raise DatabaseError(f"{self.path}: the database is not open")
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(conn, self)
            except BaseException:
                conn.execute("ROLLBACK")
                self._slot_cache.clear()
                raise
            conn.execute("COMMIT")

    def _slot_cache_for(
        self, conn: sqlite3.Connection, key: CameraKey
    ) -> dict[SlotKey, tuple[str | None, str]]:
        """The last logged (sku, status) of each slot of a camera, read once from the log."""
        cached = self._slot_cache.get(key)
        if cached is None:
            rows = conn.execute(
                "SELECT row, slot, sku, status FROM slot_states WHERE id IN ("
                " SELECT max(id) FROM slot_states WHERE store = ? AND camera = ?"
                " GROUP BY row, slot)",
                key,
            ).fetchall()
            cached = {(r["row"], r["slot"]): (r["sku"], r["status"]) for r in rows}
            self._slot_cache[key] = cached
        return cached

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A short-lived read-only connection; WAL lets it read while the writer writes."""
        conn = _connect(self.path)
        try:
            conn.execute("PRAGMA query_only = ON")
            yield conn
        finally:
            conn.close()

    # ---- queries -------------------------------------------------------------------

    def ping(self) -> bool:
        """True when the file answers a query (for /api/health)."""
        try:
            with self.read() as conn:
                conn.execute("SELECT count(*) FROM cameras").fetchone()
            return True
        except sqlite3.Error:
            return False

    def journal_mode(self) -> str:
        with self.read() as conn:
            return conn.execute("PRAGMA journal_mode").fetchone()[0]

    def schema_version(self) -> int:
        with self.read() as conn:
            return conn.execute("PRAGMA user_version").fetchone()[0]

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

    @staticmethod
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

    def cameras(self, store: str | None = None) -> list[dict[str, Any]]:
        """Every known camera with its latest state, health and layout version."""
        sql = self._CAMERA_SELECT
        params: tuple[str, ...] = ()
        if store is not None:
            sql += " WHERE c.store = ?"
            params = (store,)
        with self.read() as conn:
            rows = conn.execute(sql + " ORDER BY c.store, c.camera", params).fetchall()
        return [self._camera_record(r) for r in rows]

    def camera(self, store: str, camera: str) -> dict[str, Any] | None:
        with self.read() as conn:
            row = conn.execute(
                self._CAMERA_SELECT + " WHERE c.store = ? AND c.camera = ?", (store, camera)
            ).fetchone()
        return self._camera_record(row) if row else None

    def events(
        self,
        *,
        store: str | None = None,
        camera: str | None = None,
        type: str | None = None,
        since: datetime | None = None,
        skus: Collection[str] | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Events newest first, filtered; `since` is inclusive; `skus` keeps events
        about those products only."""
        where, params = where_sql(
            {"store": store, "camera": camera, "type": type}, within={"sku": skus}, since=since
        )
        sql = "SELECT payload, received_at FROM events" + where
        sql += " ORDER BY ts DESC, received_at DESC LIMIT ?"
        params.append(limit)
        with self.read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [json.loads(r["payload"]) | {"received_at": r["received_at"]} for r in rows]

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """Rejected messages, newest first."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT id, received_at, topic, reason, size, payload_text FROM dead_letters"
                " ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            {
                "id": r["id"],
                "received_at": r["received_at"],
                "topic": r["topic"],
                "reason": r["reason"],
                "size": r["size"],
                "payload": r["payload_text"],
            }
            for r in rows
        ]

    def layout(self, store: str, camera: str) -> dict[str, Any] | None:
        with self.read() as conn:
            row = conn.execute(
                "SELECT store, camera, version, layout, updated_at FROM layouts"
                " WHERE store = ? AND camera = ?",
                (store, camera),
            ).fetchone()
        return self._layout_record(row) if row else None

    def layouts(self) -> list[dict[str, Any]]:
        with self.read() as conn:
            rows = conn.execute(
                "SELECT store, camera, version, layout, updated_at FROM layouts"
                " ORDER BY store, camera"
            ).fetchall()
        return [self._layout_record(r) for r in rows]

    @staticmethod
    def _layout_record(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "store": row["store"],
            "camera": row["camera"],
            "version": row["version"],
            "layout": json.loads(row["layout"]),
            "updated_at": row["updated_at"],
        }

    def snapshots_enabled(self, store: str, camera: str) -> bool:
        with self.read() as conn:
            row = conn.execute(
                "SELECT snapshots_enabled FROM camera_settings WHERE store = ? AND camera = ?",
                (store, camera),
            ).fetchone()
        return bool(row["snapshots_enabled"]) if row else False

    def camera_settings(self) -> list[dict[str, Any]]:
        """Cameras with settings (whether snapshots are enabled), for publishing configs."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT store, camera, snapshots_enabled FROM camera_settings"
            ).fetchall()
        return [dict(r) | {"snapshots_enabled": bool(r["snapshots_enabled"])} for r in rows]

    def slot_history(
        self, store: str, camera: str, since: datetime | None = None
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
        with self.read() as conn:
            rows = conn.execute(sql + " ORDER BY ts, id", params).fetchall()
        return [dict(r) for r in rows]

    def health_history(self, store: str, camera: str, limit: int = 100) -> list[dict[str, Any]]:
        """Health reports of one camera, newest first."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT ts, uptime_s, frames_processed, frames_failed, camera_ok, inference_ms,"
                " fps, cpu_temp_c FROM health_history WHERE store = ? AND camera = ?"
                " ORDER BY ts DESC LIMIT ?",
                (store, camera, limit),
            ).fetchall()
        return [dict(r) | {"camera_ok": bool(r["camera_ok"])} for r in rows]
