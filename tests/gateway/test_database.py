"""SQLite storage: WAL, schema versioning, the slot change log, de-duplication, queries."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.contract import EventType, SlotStatus
from gateway.storage.database import SCHEMA_VERSION, Database, DatabaseError
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


def test_readers_are_read_only(db: Database) -> None:
    with db.read() as conn, pytest.raises(sqlite3.OperationalError):
        conn.execute("DELETE FROM cameras")


def test_slot_states_log_changes_only(db: Database) -> None:
    t0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    now = datetime.now(UTC)
    with db.transaction() as tx:
        tx.touch_camera(STORE, CAMERA, now)
        assert tx.record_state(shelf_state(1, (S, E), ts=t0), now)
        assert tx.record_state(shelf_state(2, (S, E), ts=t0 + timedelta(seconds=1)), now)
        assert tx.record_state(shelf_state(3, (L, E), ts=t0 + timedelta(seconds=2)), now)
        # not newer than the stored state: ignored entirely
        assert not tx.record_state(shelf_state(9, (E, E), ts=t0 + timedelta(seconds=2)), now)
        assert not tx.record_state(shelf_state(0, (E, E), ts=t0), now)
    history = db.slot_history(STORE, CAMERA)
    assert [(h["slot"], h["status"], h["ts"][:19]) for h in history] == [
        (0, "stocked", "2025-01-01T12:00:00"),
        (1, "empty", "2025-01-01T12:00:00"),
        (0, "low", "2025-01-01T12:00:02"),
    ]
    camera = db.camera(STORE, CAMERA)
    assert camera is not None and camera["state"]["seq"] == 3


def test_slot_log_survives_a_reopen(db: Database) -> None:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    with db.transaction() as tx:
        tx.record_state(shelf_state(1, (S, E), ts=t0), t0)
    db.close()
    db.open()  # the per-slot cache is rebuilt from the log
    with db.transaction() as tx:
        tx.record_state(shelf_state(2, (S, S), ts=t0 + timedelta(seconds=5)), t0)
    assert [(h["slot"], h["status"]) for h in db.slot_history(STORE, CAMERA)] == [
        (0, "stocked"),
        (1, "empty"),
        (1, "stocked"),
    ]


def test_a_rolled_back_transaction_leaves_no_trace(db: Database) -> None:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(RuntimeError), db.transaction() as tx:
        tx.record_state(shelf_state(1, (S, E), ts=t0), t0)
        raise RuntimeError("boom")
    assert db.slot_history(STORE, CAMERA) == []
    with db.transaction() as tx:
        tx.record_state(shelf_state(1, (S, E), ts=t0), t0)
    assert len(db.slot_history(STORE, CAMERA)) == 2


def test_events_are_stored_once_and_queried_newest_first(db: Database) -> None:
    now = datetime.now(UTC)
    with db.transaction() as tx:
        assert tx.record_event(shelf_event("evt-0000000a", ago_s=30), now)
        assert not tx.record_event(shelf_event("evt-0000000a", ago_s=30), now)
        assert tx.record_event(shelf_event("evt-0000000b", type=EventType.RESTOCKED, ago_s=20), now)
        assert tx.record_event(shelf_event("evt-0000000c", ago_s=10), now)
    assert [e["id"] for e in db.events()] == ["evt-0000000c", "evt-0000000b", "evt-0000000a"]
    assert [e["id"] for e in db.events(type="restocked")] == ["evt-0000000b"]
    assert [e["id"] for e in db.events(since=now - timedelta(seconds=25))] == [
        "evt-0000000c",
        "evt-0000000b",
    ]
    assert [e["id"] for e in db.events(limit=1)] == ["evt-0000000c"]
    assert db.events(store="other") == []


def test_a_layout_lists_its_camera(db: Database) -> None:
    layout = sample_layout()
    with db.transaction() as tx:
        assert tx.save_layout("s9", "c9", layout, datetime.now(UTC)) == layout.version
    camera = db.camera("s9", "c9")
    assert camera is not None
    assert camera["online"] is False
    assert camera["configured_layout_version"] == layout.version
    stored = db.layout("s9", "c9")
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
        assert db.cameras() == []  # the uncommitted row is invisible, and no lock error
    finally:
        release.set()
        thread.join()
    assert [c["camera"] for c in db.cameras()] == ["c1"]
