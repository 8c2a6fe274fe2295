"""The head office's store: a partitioned Parquet dataset, written exactly once per message.

Layout: `<root>/<table>/day=YYYY-MM-DD/shard=NN/<batch>.parquet`. Partitioning by day
and by store (hashed into `SHARDS` shards, so one ingest batch from a thousand stores
writes a bounded number of files) lets a distributed engine read only the days and
stores a question needs; the same files work on a laptop and on object storage.

Exactly once: JetStream drops a duplicate id within its window, but a store that was
offline for days resends what it cannot know was stored, and an ingest process killed
after writing but before acking gets its batch redelivered. So every message id is
recorded in a SQLite index (`ids.db`, WAL, shared by the ingest processes of one host)
in the same transaction that names the batch's files, and a batch is written in three
steps: (1) drop the ids already indexed, (2) write the new rows to `*.parquet.tmp`,
(3) commit the ids with the file names, then rename the files into place. A crash
before (3) leaves only `.tmp` files that no index row names (removed at the next open);
a crash after it leaves `.tmp` files the index names (renamed at the next open). Readers
ignore `.tmp` files.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from gateway.hq.tables import SCHEMAS, TABLE_OF, rows_of
from gateway.uplink.contract import Envelope

SHARDS = 32
INDEX_FILE = "ids.db"

_INDEX_SCHEMA = """
CREATE TABLE IF NOT EXISTS stored (
    msg_id TEXT PRIMARY KEY,
    batch TEXT NOT NULL,
    stored_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batch_files (
    batch TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (batch, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS replaced_files (
    batch TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (batch, path)
) WITHOUT ROWID;
"""


def shard_of(store: str) -> int:
    """A store's shard: stable across processes and machines (not Python's hash())."""
    return int.from_bytes(hashlib.blake2b(store.encode(), digest_size=2).digest()) % SHARDS


@dataclass(frozen=True)
class WriteResult:
    """What one `write` did: messages stored, duplicates dropped, bad messages skipped."""

    stored: int
    duplicates: int
    rejected: list[str]


class HqStore:
    """Writes envelopes into the Parquet dataset under `root`; one per ingest process."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.root / INDEX_FILE, timeout=60, check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_INDEX_SCHEMA)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # no other process is mid-batch meanwhile
            try:
                self._recover()
            finally:
                self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def table_path(self, table: str) -> Path:
        return self.root / table

    def stored_count(self) -> int:
        """Messages stored so far (each id once)."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM stored").fetchone()[0])

    def has(self, msg_ids: Iterable[str]) -> set[str]:
        """Which of these ids are stored."""
        with self._lock:
            return self._indexed(list(msg_ids))

    def write(self, envelopes: list[Envelope]) -> WriteResult:
        """Store each new message's rows once; safe to call again with the same messages,
        from several processes at once (the index's write lock orders them)."""
        unique = {env.id: env for env in envelopes}
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # one writer at a time across processes
            temps: dict[Path, Path] = {}
            try:
                already = self._indexed(list(unique))
                fresh = [env for mid, env in unique.items() if mid not in already]
                rows_by_file, rejected = self._rows_by_file(fresh)
                batch = uuid.uuid4().hex
                temps = self._write_temps(rows_by_file, batch)
                stored_ids = [env.id for env in fresh if env.id not in rejected]
                self._db.executemany(
                    "INSERT INTO stored (msg_id, batch) VALUES (?, ?)",
                    [(mid, batch) for mid in stored_ids],
                )
                self._db.executemany(
                    "INSERT INTO batch_files (batch, path) VALUES (?, ?)",
                    [(batch, str(final.relative_to(self.root))) for final in temps],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                for temp in temps.values():
                    temp.unlink(missing_ok=True)
                raise
            for final, temp in temps.items():
                _move_into_place(temp, final)
        return WriteResult(len(stored_ids), len(envelopes) - len(fresh), sorted(rejected))

    def _indexed(self, ids: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT msg_id FROM stored WHERE msg_id IN ({marks})", chunk)
            found.update(r[0] for r in rows)
        return found

    def _rows_by_file(
        self, envelopes: list[Envelope]
    ) -> tuple[dict[tuple[str, str, int], list[dict]], set[str]]:
        grouped: dict[tuple[str, str, int], list[dict]] = defaultdict(list)
        rejected: set[str] = set()
        for env in envelopes:
            try:
                rows = rows_of(env)
            except ValueError:
                rejected.add(env.id)
                continue
            table, shard = TABLE_OF[env.kind], shard_of(env.store)
            for row in rows:
                grouped[(table, row["day"], shard)].append(row)
        return grouped, rejected

    def _write_temps(
        self, rows_by_file: dict[tuple[str, str, int], list[dict]], batch: str
    ) -> dict[Path, Path]:
        temps: dict[Path, Path] = {}
        for (table, day, shard), rows in rows_by_file.items():
            folder = self.root / table / f"day={day}" / f"shard={shard:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            final = folder / f"{batch}.parquet"
            temp = final.with_name(final.name + ".tmp")
            schema = SCHEMAS[table]
            columns = {name: [row.get(name) for row in rows] for name in schema.names}
            pq.write_table(pa.table(columns, schema=schema), temp)
            temps[final] = temp
        return temps

    def compact(self, min_files: int = 2) -> int:
        """Merge each partition's small batch files into one; how many partitions merged.

        Ingest writes a file per batch and partition, so a day of a busy stream leaves many
        small files, and an engine pays per file. A merged file is committed like a batch,
        with the files it replaces; they are deleted once it is in place (a crash between
        the two is finished at the next open). Run it where no reader is mid-scan, as the
        analytics job does before it reads.
        """
        merged = 0
        with self._lock:
            for folder in sorted({p.parent for p in self.root.glob("*/day=*/shard=*/*.parquet")}):
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    files = sorted(folder.glob("*.parquet"))
                    if len(files) < min_files:
                        self._db.execute("ROLLBACK")
                        continue
                    batch = f"compact-{uuid.uuid4().hex}"
                    final = folder / f"{batch}.parquet"
                    temp = final.with_name(final.name + ".tmp")
                    pq.write_table(pa.concat_tables(pq.read_table(f) for f in files), temp)
                    self._db.execute(
                        "INSERT INTO batch_files (batch, path) VALUES (?, ?)",
                        (batch, str(final.relative_to(self.root))),
                    )
                    self._db.executemany(
                        "INSERT INTO replaced_files (batch, path) VALUES (?, ?)",
                        [(batch, str(f.relative_to(self.root))) for f in files],
                    )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                _move_into_place(temp, final)
                self._drop_replaced(batch)
                merged += 1
        return merged

    def _drop_replaced(self, batch: str) -> None:
        for (path,) in self._db.execute(
            "SELECT path FROM replaced_files WHERE batch = ?", (batch,)
        ).fetchall():
            (self.root / path).unlink(missing_ok=True)
        self._db.execute("DELETE FROM replaced_files WHERE batch = ?", (batch,))

    def _recover(self) -> None:
        """Finish or undo the batches a crash interrupted (see the module docstring)."""
        named = {self.root / path for (path,) in self._db.execute("SELECT path FROM batch_files")}
        for temp in self.root.glob("*/day=*/shard=*/*.parquet.tmp"):
            final = temp.with_name(temp.name.removesuffix(".tmp"))
            if final in named:
                _move_into_place(temp, final)
            else:
                temp.unlink()
        for (batch,) in self._db.execute("SELECT DISTINCT batch FROM replaced_files").fetchall():
            self._drop_replaced(batch)  # its merged file is in place: the old ones go


def _move_into_place(temp: Path, final: Path) -> None:
    """Rename a committed batch file; another process's recovery may have done it first."""
    try:
        temp.replace(final)
    except FileNotFoundError:
        if not final.exists():
            raise
