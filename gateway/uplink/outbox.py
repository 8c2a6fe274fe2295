"""The store gateway's durable uplink to the head office: an outbox and its forwarder.

Every envelope is committed to a SQLite file (WAL, `synchronous=FULL`: a committed row
survives a power cut) *before* it is sent, and its row is deleted only after the transport
has durably accepted it. After an outage, of minutes or days, the rows waiting are sent
again oldest first; one sent twice (a crash between the ack and the delete) is dropped by
its id, by the transport or by the head office's idempotent writes.

Drop policy: the outbox is bounded by `max_messages`, so an outage of weeks cannot fill
the disk. When it is full, the oldest rows of the least needed kind go first:
HEALTH (superseded by the next health report), then ROLLUP (derivable again from the
store's own database), then EVENT, then SALES, and PRODUCTS / PROFILE last (each replaces
what the head office knows of the store). Every dropped row is counted, by kind, in the
outbox file, so the count survives restarts and shows on Devices. A row being sent may be
dropped too; if that send succeeds, it arrives all the same (and still counts as dropped).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from gateway.uplink.contract import Envelope, Kind
from gateway.uplink.settings import HqUplinkSettings
from gateway.uplink.transport import LocalTransport, Publisher, TransportError

log = logging.getLogger(__name__)

DROP_ORDER: tuple[tuple[Kind, ...], ...] = (
    (Kind.HEALTH,),
    (Kind.ROLLUP,),
    (Kind.EVENT,),
    (Kind.SALES,),
    (Kind.PRODUCTS, Kind.PROFILE),
)
"""Which kinds the drop policy removes first (the oldest row within a class goes first)."""
_RANK = {kind: rank for rank, kinds in enumerate(DROP_ORDER) for kind in kinds}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    rank INTEGER NOT NULL,
    created REAL NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_drop ON outbox (rank, seq);
CREATE TABLE IF NOT EXISTS dropped (
    kind TEXT PRIMARY KEY,
    count INTEGER NOT NULL
);
"""


class OutboxError(RuntimeError):
    """The outbox file cannot be opened or written; the message names the file."""


class UplinkOutbox:
    """A bounded FIFO of envelopes in one SQLite file, safe to share between threads."""

    def __init__(self, path: str | Path, max_messages: int = 1_000_000) -> None:
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        self.path = Path(path)
        self.max_messages = max_messages
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=10.0
            )
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.executescript(_SCHEMA)
            self._backlog = self._conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        except (OSError, sqlite3.Error) as error:
            raise OutboxError(f"{self.path}: cannot open the uplink outbox: {error}") from None

    @property
    def backlog(self) -> int:
        """Envelopes waiting to be accepted by the transport."""
        return self._backlog

    @property
    def dropped_by_kind(self) -> dict[str, int]:
        """Envelopes the drop policy removed, by kind, since the file was made."""
        with self._lock:
            return dict(self._conn.execute("SELECT kind, count FROM dropped").fetchall())

    @property
    def dropped(self) -> int:
        return sum(self.dropped_by_kind.values())

    @property
    def lag_s(self) -> float:
        """Age of the oldest waiting envelope (0 when none waits)."""
        with self._lock:
            row = self._conn.execute("SELECT min(created) FROM outbox").fetchone()
        return max(0.0, time.time() - row[0]) if row[0] is not None else 0.0

    def put(self, envelopes: Sequence[Envelope]) -> int:
        """Store envelopes in one transaction, then apply the drop policy; returns how many
        were new (an id already waiting is not stored twice)."""
        if not envelopes:
            return 0
        now = time.time()
        with self._lock, self._transaction("store an envelope"):
            cursor = self._conn.executemany(
                "INSERT OR IGNORE INTO outbox (id, kind, rank, created, data)"
                " VALUES (?, ?, ?, ?, ?)",
                [(e.id, e.kind.value, _RANK[e.kind], now, e.to_bytes()) for e in envelopes],
            )
            added = max(cursor.rowcount, 0)
            count = self._conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
            if count > self.max_messages:
                count -= self._drop(count - self.max_messages)
            self._backlog = count
        return added

    def _drop(self, over: int) -> int:
        """Delete `over` rows by the drop policy (inside the caller's transaction)."""
        victims = self._conn.execute(
            "SELECT seq, kind FROM outbox ORDER BY rank, seq LIMIT ?", (over,)
        ).fetchall()
        counts: dict[str, int] = {}
        for _, kind in victims:
            counts[kind] = counts.get(kind, 0) + 1
        self._conn.executemany("DELETE FROM outbox WHERE seq = ?", [(seq,) for seq, _ in victims])
        self._conn.executemany(
            "INSERT INTO dropped (kind, count) VALUES (?, ?)"
            " ON CONFLICT (kind) DO UPDATE SET count = count + excluded.count",
            list(counts.items()),
        )
        if victims:
            log.warning(
                "uplink outbox %s full (%d): dropped %s",
                self.path,
                self.max_messages,
                ", ".join(f"{n} {kind}" for kind, n in counts.items()),
            )
        return len(victims)

    def oldest(self, limit: int) -> list[tuple[int, Envelope]]:
        """Up to `limit` waiting envelopes with their row seq, oldest first. A row that no
        longer parses (a damaged file) is dropped, counted and logged, never returned."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, kind, data FROM outbox ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        result, damaged = [], []
        for seq, kind, data in rows:
            try:
                result.append((seq, Envelope.from_bytes(bytes(data))))
            except (ValidationError, ValueError) as error:
                log.error(
                    "uplink outbox %s: row %d (%s) is damaged: %s", self.path, seq, kind, error
                )
                damaged.append((seq, kind))
        if damaged:
            with self._lock, self._transaction("drop a damaged row"):
                for seq, kind in damaged:
                    self._conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
                    self._conn.execute(
                        "INSERT INTO dropped (kind, count) VALUES (?, 1)"
                        " ON CONFLICT (kind) DO UPDATE SET count = count + 1",
                        (kind,),
                    )
                self._backlog = self._conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        return result

    def remove(self, seqs: Sequence[int]) -> None:
        """Forget envelopes the transport accepted (a seq already gone was dropped: fine)."""
        if not seqs:
            return
        with self._lock, self._transaction("remove a sent envelope"):
            self._conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
            self._backlog = self._conn.execute("SELECT count(*) FROM outbox").fetchone()[0]

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
            raise OutboxError(f"{self.path}: cannot {doing}: {error}") from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()


@dataclass(frozen=True)
class UplinkStatus:
    """What the Devices page shows of the uplink."""

    backlog: int
    dropped: int
    dropped_by_kind: dict[str, int]
    lag_s: float
    last_sent_at: datetime | None
    sent: int
    last_error: str | None
    """Why the last send failed, while the transport is down; None once it works."""


class Uplink:
    """The outbox plus a forwarder thread that drains it through a `Publisher`.

    `send` only stores (it never blocks on the network); the forwarder sends whatever
    waits every `flush_interval_s`, or at once when a full `batch` waits, and backs off
    (0.5 s doubling up to `backoff_max_s`) while the transport refuses.
    """

    def __init__(
        self,
        outbox: UplinkOutbox,
        publisher: Publisher,
        batch: int = 500,
        flush_interval_s: float = 1.0,
        backoff_max_s: float = 30.0,
    ) -> None:
        self.outbox = outbox
        self.publisher = publisher
        self.batch = batch
        self.flush_interval_s = flush_interval_s
        self.backoff_max_s = backoff_max_s
        self.sent = 0
        self.last_sent_at: datetime | None = None
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(
        cls,
        settings: HqUplinkSettings,
        data_dir: Path,
        store: str,
        local: LocalTransport | None = None,
    ) -> Uplink:
        """The uplink a config asks for: to `local` (the in-process head office of the demo,
        which must then be given) or to a NATS JetStream cluster."""
        publisher: Publisher
        if settings.local:
            if local is None:
                raise ValueError("hq.url is `local` but no in-process head office runs here")
            publisher = local.publisher(store)
        else:
            from gateway.uplink.jetstream import JetStreamPublisher  # nats-py only when used

            publisher = JetStreamPublisher(
                list(settings.url),
                user=settings.user,
                password=settings.password.get_secret_value() if settings.password else None,
                inbox_prefix=settings.inbox_prefix,
                name=f"uplink-{store}",
                ack_timeout_s=settings.ack_timeout_s,
            )
        outbox = UplinkOutbox(settings.path or data_dir / "hq-outbox.db", settings.max_messages)
        return cls(outbox, publisher, settings.batch, settings.flush_interval_s)

    @property
    def backlog(self) -> int:
        return self.outbox.backlog

    @property
    def dropped(self) -> int:
        return self.outbox.dropped

    @property
    def lag_s(self) -> float:
        return self.outbox.lag_s

    def status(self) -> UplinkStatus:
        by_kind = self.outbox.dropped_by_kind
        return UplinkStatus(
            backlog=self.outbox.backlog,
            dropped=sum(by_kind.values()),
            dropped_by_kind=by_kind,
            lag_s=self.outbox.lag_s,
            last_sent_at=self.last_sent_at,
            sent=self.sent,
            last_error=self.last_error,
        )

    def send(self, envelopes: Sequence[Envelope]) -> None:
        """Store envelopes for the head office; returns once they are on disk."""
        self.outbox.put(envelopes)
        if self.outbox.backlog >= self.batch:
            self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="hq-uplink", daemon=True)
            self._thread.start()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Ask the forwarder to send now and wait until nothing waits; False on timeout
        (the transport is down: the rows stay in the outbox)."""
        deadline = time.monotonic() + timeout_s
        with self._idle:
            while self.outbox.backlog:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.set()
                self._idle.wait(min(left, 0.2))
        return True

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the forwarder and close the publisher and the outbox; waiting rows stay
        in the file for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self.publisher.close()
        self.outbox.close()

    def _run(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            rows = self.outbox.oldest(self.batch)
            if not rows:
                with self._idle:
                    self._idle.notify_all()
                self._wake.wait(self.flush_interval_s)
                self._wake.clear()
                continue
            try:
                self.publisher.publish([envelope for _, envelope in rows])
            except Exception as error:  # the forwarder must outlive any failure
                if not isinstance(error, TransportError):
                    log.exception("uplink: publishing failed unexpectedly")
                if self.last_error is None:
                    log.warning(
                        "uplink to the head office is down (%s); %d envelopes wait",
                        error,
                        self.outbox.backlog,
                    )
                self.last_error = str(error) or type(error).__name__
                backoff = min(max(backoff * 2, 0.5), self.backoff_max_s)
                self._stop.wait(backoff)
                continue
            # The status first, then the rows: `flush` returns once the backlog is empty,
            # and by then the status must already say the link is back.
            recovered = self.last_error is not None
            self.last_error = None
            self.sent += len(rows)
            self.last_sent_at = datetime.now(UTC)
            backoff = 0.0
            self.outbox.remove([seq for seq, _ in rows])
            if recovered:
                log.info("uplink to the head office is back; %d envelopes wait", self.backlog)
            if len(rows) < self.batch:
                with self._idle:
                    self._idle.notify_all()
                self._wake.wait(self.flush_interval_s)
                self._wake.clear()
