"""The node's durable outbox: states and events wait in SQLite until the broker has them.

paho keeps QoS 1 messages in memory only, so a power cut, a SIGKILL or a crash of the node
would lose whatever the broker had not acknowledged. Every state and event is therefore
committed to this one-table SQLite queue *before* it is handed to paho, and its row is
deleted only when the broker's PUBACK arrives. After a restart the rows left over are sent
again, oldest first; the gateway drops the duplicates this can cause (event ids, state
timestamps), so each event is stored exactly once.

The file is in WAL mode with `synchronous=FULL`: a committed row survives a power cut, at
the cost of one fsync per write, which a node publishing a few messages a second affords.

Drop policy (the queue is bounded by `max_messages`, so an outage of days cannot fill the
SD card): when a new message would exceed the bound, the oldest *state* rows are dropped
first (a newer retained state supersedes them; only the slot history loses detail), then,
when no state is left to drop, the oldest *event* rows. Rows already handed to paho are
spared (paho is sending them anyway). Every dropped row is counted in `dropped`, which the
node reports as `outbox_dropped` in its health.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

KINDS = ("state", "event")
"""What the outbox holds; the drop policy drops `state` rows before `event` rows."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL
)
"""


class OutboxError(RuntimeError):
    """The outbox file cannot be opened or written; the message names the file."""


@dataclass(frozen=True)
class OutgoingMessage:
    """One message for the broker, as the outbox stores it."""

    kind: str
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


@dataclass(frozen=True)
class PendingMessage:
    """A stored message and its row id (the send order)."""

    id: int
    message: OutgoingMessage


class Outbox:
    """A bounded FIFO of outgoing messages in one SQLite file, safe to use from two threads
    (the node loop puts, paho's network thread removes)."""

    def __init__(self, path: str | Path, max_messages: int = 10_000) -> None:
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        self.path = Path(path)
        self.max_messages = max_messages
        self.dropped = 0
        self.protected_through = 0
        """Rows with an id up to this one are in paho's hands: the drop policy spares them."""
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=10.0
            )
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute(_SCHEMA)
            self._pending = self._conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        except (OSError, sqlite3.Error) as error:
            raise OutboxError(f"{self.path}: cannot open the outbox: {error}") from None

    @property
    def pending(self) -> int:
        """Messages not yet acknowledged by the broker."""
        return self._pending

    def put(self, messages: list[OutgoingMessage]) -> list[int]:
        """Store messages in one transaction (one fsync); returns their row ids in order.

        Applies the drop policy first when the new rows would exceed `max_messages`.
        """
        if not messages:
            return []
        with self._lock, self._transaction("store a message"):
            dropped = 0
            over = self._pending + len(messages) - self.max_messages
            if over > 0:
                dropped = self._drop(over)
            ids = []
            for m in messages:
                cursor = self._conn.execute(
                    "INSERT INTO outbox (kind, topic, payload, qos, retain) VALUES (?, ?, ?, ?, ?)",
                    (m.kind, m.topic, m.payload, m.qos, int(m.retain)),
                )
                ids.append(cursor.lastrowid)
        self._pending += len(messages) - dropped
        self.dropped += dropped
        return ids

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[None]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.Error as error:
            self._pending = self._conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
            raise OutboxError(f"{self.path}: cannot {doing}: {error}") from None

    def _drop(self, count: int) -> int:
        """Delete `count` rows by the drop policy (inside the caller's transaction)."""
        dropped = 0
        for kind in KINDS:
            if dropped >= count:
                break
            cursor = self._conn.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE kind = ? AND id > ?"
                " ORDER BY id LIMIT ?)",
                (kind, self.protected_through, count - dropped),
            )
            dropped += cursor.rowcount
        return dropped

    def after(self, row_id: int, limit: int) -> list[PendingMessage]:
        """Up to `limit` stored messages with an id above `row_id`, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, kind, topic, payload, qos, retain FROM outbox WHERE id > ?"
                " ORDER BY id LIMIT ?",
                (row_id, limit),
            ).fetchall()
        return [
            PendingMessage(r[0], OutgoingMessage(r[1], r[2], bytes(r[3]), r[4], bool(r[5])))
            for r in rows
        ]

    def remove(self, row_ids: list[int]) -> None:
        """Forget acknowledged messages (an id already gone is fine: it was dropped)."""
        if not row_ids:
            return
        with self._lock, self._transaction("remove a sent message"):
            cursor = self._conn.executemany(
                "DELETE FROM outbox WHERE id = ?", [(i,) for i in row_ids]
            )
        self._pending -= cursor.rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()
