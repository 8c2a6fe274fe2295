"""The sanity rules a sale line meets before it is stored, whichever way it came.

A till export with a wrong year, a till clock in another time zone, or a quantity typed
with extra zeros would otherwise be folded into the velocity every advice rests on. The
rules (README and firmware_config/INSTALL.md, "Sales import", say the same):

- Future: a line dated more than `FUTURE_SKEW` after the gateway's clock is refused
  (a sale cannot have happened yet: the till's clock or time zone is wrong).
- Before the store existed: the store's first data is its earliest stored sale line or
  camera record, as it was when the import began. A line dated more than
  `BACKFILL_DAYS` before it is refused (a wrong year); a line dated before it but within
  that is kept as history (loading a till's past weeks is how a camera-equipped store
  gets a velocity) and noted in the import report. A store with no data at all has no
  first data yet: its first import sets it.
- Quantity: once a SKU has sold on `HISTORY_LINES` lines or more in a store, a line of
  more than `QUANTITY_FACTOR` times the largest of them is kept (the revenue is real)
  but flagged (`sales.flag = 'quantity'`) and left out of velocity: one bulk order, or
  a typo, is not shelf demand. It is noted in the import report; if it was a typo,
  delete the import's batch and import the corrected file.

Refused lines are reported (import report, or the dead letter of an MQTT message) with
the field and the reason; nothing else of their import is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from gateway.storage.sql import db_time
from gateway.storage.transactions import Transaction

FUTURE_SKEW = timedelta(minutes=15)
BACKFILL_DAYS = 366
HISTORY_LINES = 5
QUANTITY_FACTOR = 10
QUANTITY_FLAG = "quantity"

_FIRST_DATA = (
    "SELECT min(ts) FROM ("
    " SELECT min(ts) AS ts FROM sales WHERE store = ? AND flag IS NULL"
    " UNION ALL SELECT min(ts) FROM slot_states WHERE store = ?"
    " UNION ALL SELECT min(ts) FROM events WHERE store = ?"
    " UNION ALL SELECT min(ts) FROM health_history WHERE store = ?)"
)


class SaleLine(Protocol):
    """What the rules read of a sale line (`pos.SaleLine`, which imports this module)."""

    @property
    def store(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def time(self) -> datetime: ...
    @property
    def quantity(self) -> int: ...


@dataclass(frozen=True)
class Verdict:
    """What the rules say of one line: `refused` (the reason), or kept with a `flag`
    (stored, left out of velocity) and/or a `note` for the import report."""

    field: str = "time"
    refused: str | None = None
    flag: str | None = None
    note: str | None = None


@dataclass
class _History:
    lines: int
    largest: int


@dataclass
class SalesScreen:
    """The rules for one import (or one MQTT message): each store's first data and each
    SKU's history are read once, when first needed, and follow what the import stores."""

    now: datetime
    _first: dict[str, datetime | None] = field(default_factory=dict)
    _history: dict[tuple[str, str], _History] = field(default_factory=dict)

    def first_data(self, tx: Transaction, store: str) -> datetime | None:
        if store not in self._first:
            found = tx.execute(_FIRST_DATA, (store,) * 4).fetchone()[0]
            self._first[store] = datetime.fromisoformat(found) if found else None
        return self._first[store]

    def _sku_history(self, tx: Transaction, store: str, sku: str) -> _History:
        key = (store, sku)
        if key not in self._history:
            lines, largest = tx.execute(
                "SELECT count(*), coalesce(max(quantity), 0) FROM sales WHERE store = ?"
                " AND sku = ? AND quantity > 0 AND flag IS NULL",
                (store, sku),
            ).fetchone()
            self._history[key] = _History(lines, largest)
        return self._history[key]

    def check(self, tx: Transaction, line: SaleLine) -> Verdict:
        """The verdict on one line (read-only: call `kept` once it is stored)."""
        if line.time > self.now + FUTURE_SKEW:
            return Verdict(
                refused=f"dated {line.time.isoformat()}, after the gateway's clock "
                f"({self.now.isoformat(timespec='seconds')}): a sale cannot be in the future; "
                "check the till's clock and time zone",
            )
        first = self.first_data(tx, line.store)
        note = None
        if first is not None and line.time < first:
            if line.time < first - timedelta(days=BACKFILL_DAYS):
                return Verdict(
                    refused=f"dated {line.time.isoformat()}, more than {BACKFILL_DAYS} days "
                    f"before the store's first data ({db_time(first)}): a wrong year? Lines "
                    "this old are not kept",
                )
            note = f"dated before the store's first data ({db_time(first)}): kept as sales history"
        history = self._sku_history(tx, line.store, line.sku)
        limit = QUANTITY_FACTOR * history.largest
        if line.quantity > 0 and history.lines >= HISTORY_LINES and line.quantity > limit:
            return Verdict(
                field="quantity",
                flag=QUANTITY_FLAG,
                note=f"{line.quantity} units is more than {QUANTITY_FACTOR}x the largest "
                f"earlier line of {line.sku} in {line.store} ({history.largest}): kept, left "
                "out of velocity",
            )
        return Verdict(note=note)

    def kept(self, line: SaleLine, verdict: Verdict) -> None:
        """A line was stored: an unflagged sale joins its SKU's history."""
        history = self._history.get((line.store, line.sku))
        if history is not None and verdict.flag is None and line.quantity > 0:
            history.lines += 1
            history.largest = max(history.largest, line.quantity)
