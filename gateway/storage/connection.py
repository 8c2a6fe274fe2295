"""The database file: opening it (WAL, schema migrations), the one write transaction at
a time, and short-lived read connections.

WAL mode lets API readers (each with its own connection) run while the ingest thread
writes; `synchronous=NORMAL` makes a commit cheap (no fsync per transaction; a power cut
can lose the last commits, never corrupt the file).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway.storage.errors import DatabaseError
from gateway.storage.migrate import migrate, user_version
from gateway.storage.sql import connect
from gateway.storage.transactions import SlotLogCache, Transaction

DB_FILE = "shelfsense.db"


class Database:
    """One SQLite file: a single locked writer connection, a fresh connection per reader."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._writer: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._slot_log = SlotLogCache()

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
            conn = connect(self.path)
        except (OSError, sqlite3.Error) as error:
            raise DatabaseError(f"{self.path}: cannot open the database: {error}") from None
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise DatabaseError(f"{self.path}: cannot switch to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn, self.path)
        except BaseException:
            conn.close()
            raise
        self._writer = conn

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            self._slot_log.clear()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One write transaction; rolled back (and caches dropped) on any exception."""
        with self._lock:
            if self._writer is None:
                raise DatabaseError(f"{self.path}: the database is not open")
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(conn, self._slot_log)
            except BaseException:
                conn.execute("ROLLBACK")
                self._slot_log.clear()
                raise
            conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A short-lived read-only connection; WAL lets it read while the writer writes."""
        conn = connect(self.path)
        try:
            conn.execute("PRAGMA query_only = ON")
            yield conn
        finally:
            conn.close()

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
            return user_version(conn)
