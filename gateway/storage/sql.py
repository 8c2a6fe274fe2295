"""Small helpers every storage module shares: the stored time format, list filters as
SQL, and how a connection is opened.

Times are stored as ISO 8601 UTC text with microseconds in one fixed format, so text
order is time order and every row is readable with the sqlite3 shell.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


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


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit `BEGIN IMMEDIATE`), rows
    by column name, waiting up to 10 s for another writer's lock."""
    conn = sqlite3.connect(path, timeout=10.0, check_same_thread=False, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn
