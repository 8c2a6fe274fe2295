"""The schema: numbered SQL files in `migrations/`, applied in order and recorded.

A file `NNNN_what.sql` takes the schema from version NNNN - 1 to NNNN; a schema change is
a new file, never an edit of one already shipped. Each file runs in its own transaction
together with its row in `schema_migrations` (number, name, applied_at) and `PRAGMA
user_version`, so a crash leaves the database at one version or the next.

`user_version` stays the version SQLite itself reports: databases made before migrations
were recorded carry only that, and on first open their migrations 1..N are recorded as
applied (applied_at NULL: when is not known) without running them again.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from gateway.storage.errors import DatabaseError
from gateway.storage.sql import db_time

MIGRATION_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")

RECORD_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT)"
)
"""Which migrations a database has had; created by the runner, so it precedes 0001."""


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str


def load_migrations(folder: Traversable) -> tuple[Migration, ...]:
    """The `NNNN_name.sql` files of `folder` in order; numbered 1, 2, 3... without gaps."""
    found = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = MIGRATION_FILE.fullmatch(entry.name)
        if match is None:
            raise DatabaseError(f"{entry}: a migration file is named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.number)
    numbers = [migration.number for migration in found]
    if numbers != list(range(1, len(found) + 1)):
        raise DatabaseError(f"{folder}: migrations must be numbered 1, 2, 3...; found {numbers}")
    return tuple(found)


MIGRATIONS = load_migrations(files(__package__) / "migrations")
SCHEMA_VERSION = len(MIGRATIONS)


def statements(script: str) -> Iterator[str]:
    """The statements of a script, split where SQLite says one is complete (so a `;` in a
    comment, a string or a trigger body does not end a statement)."""
    parts = script.split(";")
    pending = ""
    for part in parts[:-1]:
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    rest = pending + parts[-1]
    if rest.strip():
        yield rest.strip()  # a last statement without `;` (or only a comment)


def user_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(
    conn: sqlite3.Connection, source: str | Path, migrations: Sequence[Migration] = MIGRATIONS
) -> None:
    """Apply and record the migrations `conn`'s database lacks; `source` names it in errors.

    Raises DatabaseError for a schema newer than `migrations` (a newer build wrote it).
    Each step takes the write lock and looks again, so two processes opening the same
    new file apply each migration once.
    """
    if _up_to_date(conn, len(migrations)):
        return
    done = False
    while not done:
        conn.execute("BEGIN IMMEDIATE")
        try:
            done = _step(conn, source, migrations)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _up_to_date(conn: sqlite3.Connection, latest: int) -> bool:
    """True when nothing needs writing (the usual open), checked without the write lock."""
    try:
        recorded = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    except sqlite3.OperationalError:  # no such table: older than recorded migrations
        return False
    return user_version(conn) == latest == recorded


def _step(conn: sqlite3.Connection, source: str | Path, migrations: Sequence[Migration]) -> bool:
    """Record what the database already has, then apply the next migration; True when
    none is left."""
    current = user_version(conn)
    if current > len(migrations):
        raise DatabaseError(
            f"{source}: schema version {current} is newer than this build "
            f"({len(migrations)}); upgrade shelfsense"
        )
    conn.execute(RECORD_TABLE)
    recorded = {row[0] for row in conn.execute("SELECT number FROM schema_migrations")}
    conn.executemany(
        "INSERT INTO schema_migrations (number, name, applied_at) VALUES (?, ?, NULL)",
        [(m.number, m.name) for m in migrations[:current] if m.number not in recorded],
    )
    if current == len(migrations):
        return True
    migration = migrations[current]
    for statement in statements(migration.sql):
        conn.execute(statement)
    conn.execute(
        "INSERT INTO schema_migrations (number, name, applied_at) VALUES (?, ?, ?)",
        (migration.number, migration.name, db_time(datetime.now(UTC))),
    )
    conn.execute(f"PRAGMA user_version = {migration.number}")
    return current + 1 == len(migrations)
