"""SQLite storage: WAL, recorded schema migrations, the slot change log, de-duplication,
queries."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.contract import EventType, SlotStatus
from gateway.storage.cameras import find_camera, list_cameras
from gateway.storage.connection import Database
from gateway.storage.errors import DatabaseError
from gateway.storage.events import list_events
from gateway.storage.layouts import find_layout
from gateway.storage.migrate import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Migration,
    load_migrations,
    migrate,
    statements,
)
from gateway.storage.slot_log import slot_history
from gateway.storage.sql import connect
from tests.support.gateway_store import CAMERA, STORE, sample_layout, shelf_event, shelf_state

S, E, L = SlotStatus.STOCKED, SlotStatus.EMPTY, SlotStatus.LOW


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database.in_dir(tmp_path / "data")
    database.open()
    yield database
    database.close()


def test_wal_mode_and_schema_version(db: Database) -> None:
    assert db.path.name == "shelfsense.db"
    assert db.journal_mode() == "wal"
    assert db.schema_version() == SCHEMA_VERSION
    with db.read() as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "cameras",
        "camera_state",
        "slot_states",
        "events",
        "health_latest",
        "health_history",
        "layouts",
        "dead_letters",
    } <= tables
    db.close()
    db.open()  # reopening an up-to-date file migrates nothing
    assert db.schema_version() == SCHEMA_VERSION


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "shelfsense.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DatabaseError, match="newer than this build"):
        Database(path).open()


def recorded_migrations(db: Database) -> list[tuple[int, str, str | None]]:
    with db.read() as conn:
        rows = conn.execute(
            "SELECT number, name, applied_at FROM schema_migrations ORDER BY number"
        )
        return [tuple(row) for row in rows]


def test_each_migration_file_is_applied_once_and_recorded(db: Database) -> None:
    recorded = recorded_migrations(db)
    assert [(number, name) for number, name, _ in recorded] == [
        (m.number, m.name) for m in MIGRATIONS
    ]
    # shipped files keep their number and name
    assert [name for _, name, _ in recorded[:5]] == [
        "initial",
        "pos_sales_and_products",
        "advice",
        "camera_settings",
        "users",
    ]
    assert len(recorded) == SCHEMA_VERSION == db.schema_version()
    assert all(applied_at for _, _, applied_at in recorded)
    db.close()
    db.open()
    assert recorded_migrations(db) == recorded


@pytest.mark.parametrize("old_version", [1, 3, SCHEMA_VERSION])
def test_a_database_from_before_recorded_migrations_opens(tmp_path: Path, old_version: int) -> None:
    """A file the old code made (its SQL, its user_version, no schema_migrations table):
    its migrations are recorded, not run again, and the later ones are applied."""
    path = tmp_path / "shelfsense.db"
    with sqlite3.connect(path) as conn:
        for migration in MIGRATIONS[:old_version]:
            conn.executescript(migration.sql)
        conn.execute(f"PRAGMA user_version = {old_version}")
        conn.execute("INSERT INTO cameras (store, camera) VALUES ('s1', 'c1')")
    db = Database(path)
    db.open()  # running a recorded migration again would fail: its tables exist
    try:
        recorded = recorded_migrations(db)
        assert [number for number, _, _ in recorded] == list(range(1, SCHEMA_VERSION + 1))
        assert [at for _, _, at in recorded[:old_version]] == [None] * old_version
        assert all(at for _, _, at in recorded[old_version:])
        assert db.schema_version() == SCHEMA_VERSION
        assert [c["camera"] for c in list_cameras(db)] == ["c1"]
    finally:
        db.close()


def test_a_failed_migration_leaves_the_version_before_it(tmp_path: Path) -> None:
    path = tmp_path / "shelfsense.db"
    migrations = [
        Migration(1, "first", "CREATE TABLE a (x INTEGER);"),
        Migration(2, "broken", "CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);"),
    ]
    conn = connect(path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="nowhere"):
            migrate(conn, path, migrations)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert [r[0] for r in conn.execute("SELECT number FROM schema_migrations")] == [1]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "a" in tables and "b" not in tables
    finally:
        conn.close()


def test_migration_files_are_numbered_without_gaps(tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (x);")
    (tmp_path / "0003_third.sql").write_text("CREATE TABLE c (x);")
    with pytest.raises(DatabaseError, match=r"numbered 1, 2, 3...; found \[1, 3\]"):
        load_migrations(tmp_path)
    (tmp_path / "0003_third.sql").rename(tmp_path / "second.sql")
    with pytest.raises(DatabaseError, match=r"second\.sql: a migration file is named"):
        load_migrations(tmp_path)
    (tmp_path / "second.sql").rename(tmp_path / "0002_second.sql")
    assert [(m.number, m.name) for m in load_migrations(tmp_path)] == [(1, "first"), (2, "second")]


def test_statements_end_where_sqlite_says() -> None:
    script = """
-- a comment; with a semicolon
CREATE TABLE a (x TEXT DEFAULT 'a;b');
CREATE TRIGGER t AFTER INSERT ON a BEGIN
    UPDATE a SET x = 'c'; DELETE FROM a WHERE x = 'd';
END;
CREATE INDEX a_x ON a (x)
"""
    assert [s.splitlines()[-1] for s in statements(script)] == [
        "CREATE TABLE a (x TEXT DEFAULT 'a;b');",
        "END;",
        "CREATE INDEX a_x ON a (x)",
    ]


def test_readers_are_read_only(db: Database) -> None:
    with db.read() as conn, pytest.raises(sqlite3.OperationalError):
        conn.execute("DELETE FROM cameras")


def test_slot_states_log_changes_only(db: Database) -> None:
    t0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    now = datetime.now(UTC)
    with db.transaction() as tx:
        tx.touch_camera(STORE, CAMERA, now)
        first = tx.record_state(shelf_state(1, (S, E), ts=t0), now)
        same = tx.record_state(shelf_state(2, (S, E), ts=t0 + timedelta(seconds=1)), now)
        low = tx.record_state(shelf_state(3, (L, E), ts=t0 + timedelta(seconds=2)), now)
        assert first.stored and same.stored and low.stored
        # the slots each state changed, as logged
        assert [(c.slot, c.status) for c in first.changes] == [(0, "stocked"), (1, "empty")]
        assert same.changes == ()
        assert [(c.slot, c.status, c.sku) for c in low.changes] == [
            (0, "low", sample_layout().rows[0].slots[0].sku)
        ]
        # not newer than the stored state: ignored entirely
        late = tx.record_state(shelf_state(9, (E, E), ts=t0 + timedelta(seconds=2)), now)
        assert not late.stored and late.changes == ()
        assert not tx.record_state(shelf_state(0, (E, E), ts=t0), now).stored
    history = slot_history(db, STORE, CAMERA)
    assert [(h["slot"], h["status"], h["ts"][:19]) for h in history] == [
        (0, "stocked", "2025-01-01T12:00:00"),
        (1, "empty", "2025-01-01T12:00:00"),
        (0, "low", "2025-01-01T12:00:02"),
    ]
    camera = find_camera(db, STORE, CAMERA)
    assert camera is not None and camera["state"]["seq"] == 3


def test_slot_log_survives_a_reopen(db: Database) -> None:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    with db.transaction() as tx:
        tx.record_state(shelf_state(1, (S, E), ts=t0), t0)
    db.close()
    db.open()  # the per-slot cache is rebuilt from the log
    with db.transaction() as tx:
        recorded = tx.record_state(shelf_state(2, (S, S), ts=t0 + timedelta(seconds=5)), t0)
    assert [(c.slot, c.status) for c in recorded.changes] == [(1, "stocked")]
    assert [(h["slot"], h["status"]) for h in slot_history(db, STORE, CAMERA)] == [
        (0, "stocked"),
        (1, "empty"),
        (1, "stocked"),
    ]


def test_a_rolled_back_transaction_leaves_no_trace(db: Database) -> None:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.record_state(shelf_state(1, (S, E), ts=t0), t0)
        raise RuntimeError("boom")
    assert slot_history(db, STORE, CAMERA) == []
    with db.transaction() as tx:
        recorded = tx.record_state(shelf_state(1, (S, E), ts=t0), t0)
    assert len(recorded.changes) == 2  # the rolled-back changes are not remembered
    assert len(slot_history(db, STORE, CAMERA)) == 2


def test_events_are_stored_once_and_queried_newest_first(db: Database) -> None:
    now = datetime.now(UTC)
    with db.transaction() as tx:
        assert tx.record_event(shelf_event("evt-0000000a", ago_s=30), now)
        assert not tx.record_event(shelf_event("evt-0000000a", ago_s=30), now)
        assert tx.record_event(shelf_event("evt-0000000b", type=EventType.RESTOCKED, ago_s=20), now)
        assert tx.record_event(shelf_event("evt-0000000c", ago_s=10), now)
    assert [e["id"] for e in list_events(db)] == ["evt-0000000c", "evt-0000000b", "evt-0000000a"]
    assert [e["id"] for e in list_events(db, type="restocked")] == ["evt-0000000b"]
    assert [e["id"] for e in list_events(db, since=now - timedelta(seconds=25))] == [
        "evt-0000000c",
        "evt-0000000b",
    ]
    assert [e["id"] for e in list_events(db, limit=1)] == ["evt-0000000c"]
    assert list_events(db, store="other") == []


def test_a_layout_lists_its_camera(db: Database) -> None:
    layout = sample_layout()
    with db.transaction() as tx:
        assert tx.save_layout("s9", "c9", layout, datetime.now(UTC)) == layout.version
    camera = find_camera(db, "s9", "c9")
    assert camera is not None
    assert camera["online"] is False
    assert camera["configured_layout_version"] == layout.version
    stored = find_layout(db, "s9", "c9")
    assert stored is not None and stored["layout"] == layout.model_dump(mode="json")


def test_reads_run_while_a_write_transaction_is_open(db: Database) -> None:
    """WAL: a reader is not blocked by the writer holding an open transaction."""
    started, release = threading.Event(), threading.Event()

    def writer() -> None:
        with db.transaction() as tx:
            tx.touch_camera("s1", "c1", datetime.now(UTC))
            started.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert started.wait(10)
    try:
        assert list_cameras(db) == []  # the uncommitted row is invisible, and no lock error
    finally:
        release.set()
        thread.join()
    assert [c["camera"] for c in list_cameras(db)] == ["c1"]
