"""Stock on hand per store and GTIN: goods received, stock counts, and what they add up to.

    stock on hand = last count + units received since - units sold since (POS)

Receipts and counts arrive like sales: a JSON batch (`POST /api/stock/receipts`,
`/api/stock/counts`), a CSV file (API upload or `shelf-gateway stock receipts` /
`stock counts`). Every line is validated on its own (`batch_import`): a bad line is
reported with its row or index and field, the good ones are stored.

Decisions a store needs to know:
- `time` is ISO 8601 with a UTC offset, or a bare date (`2024-05-03`), read as the
  start of that day in the store's time zone. A count and a receipt on the same day
  should carry times, or the receipt counts as before the count.
- A receipt line may carry `id` (delivery note + line): sent again, it is a duplicate,
  never a second delivery. A receipt names its `supplier` (optional): it then fulfils
  that supplier's oldest open order line of the GTIN (`purchase_orders`).
- A count is identified by (store, GTIN, time): the same count sent twice is stored once;
  a count's optional `backroom_capacity` says how many units the backroom holds, which
  the purchase suggestion adds to the shelf capacity from the layouts.
- Sales after the count are taken off including flagged lines (they left the shelf all
  the same) and returns put back. Without any count the stock is receipts - sales since
  the first receipt (`basis` "receipts"); with neither it is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from edge.contract.ids import Identifier
from gateway.retail.batch_import import LineError, LineReport, batch_lines, file_lines
from gateway.retail.pos import FUTURE_TOLERANCE, valid_gtin, valid_store
from gateway.retail.purchase_orders import apply_receipt
from gateway.storage.connection import Database
from gateway.storage.sql import db_time
from gateway.storage.transactions import Transaction

RECEIPTS_CSV_REQUIRED = ("store", "gtin", "quantity", "time")
RECEIPTS_CSV_OPTIONAL = ("supplier", "id")
COUNTS_CSV_REQUIRED = ("store", "gtin", "quantity", "time")
COUNTS_CSV_OPTIONAL = ("backroom_capacity",)
MAX_UNITS = 1_000_000
_INT_RE = re.compile(r"^[+-]?\d+$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _whole(value: Any, *, minimum: int) -> int:
    """A whole number of units >= minimum, from JSON or a CSV cell."""
    if isinstance(value, bool):
        raise ValueError(f"not a whole number ({value!r})")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and _INT_RE.match(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int):
        raise ValueError(f"not a whole number ({value!r})")
    if value < minimum:
        raise ValueError(f"must be {minimum} or more ({value})")
    if value > MAX_UNITS:
        raise ValueError(f"{value} is beyond {MAX_UNITS} units")
    return value


def _when(value: Any) -> datetime | date:
    """A time with a UTC offset (made UTC), or a bare date; not in the future."""
    if isinstance(value, str):
        text = value.strip()
        if _DATE_RE.match(text):
            try:
                value = date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"not a date ({text!r})") from None
        else:
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(
                    f"not an ISO 8601 time or date ({text!r}); e.g. 2024-05-03 or "
                    "2024-05-03T07:30:00+02:00"
                ) from None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"no UTC offset ({value.isoformat()!r}); write 2024-05-03T07:30:00+02:00, "
                "or a bare date 2024-05-03"
            )
        value = value.astimezone(UTC)
        if value > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise ValueError(f"in the future ({value.isoformat()!r})")
        return value
    if isinstance(value, date):
        if value > datetime.now(UTC).date() + FUTURE_TOLERANCE:
            raise ValueError(f"in the future ({value.isoformat()!r})")
        return value
    raise ValueError(f"not a time ({value!r})")


class _StockLine(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    store: Identifier
    gtin: str = Field(description="GTIN-8/12/13/14 with a valid check digit.")
    time: datetime | date = Field(
        description="ISO 8601 with a UTC offset, or a bare date (start of the local day)."
    )

    @field_validator("store", mode="before")
    @classmethod
    def _store(cls, value: Any) -> Any:
        return valid_store(value)

    @field_validator("gtin", mode="before")
    @classmethod
    def _gtin(cls, value: Any) -> str:
        return valid_gtin(value)

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> datetime | date:
        return _when(value)

    def at(self, tz: ZoneInfo) -> datetime:
        """The line's time in UTC; a bare date is the start of that day in `tz`."""
        if isinstance(self.time, datetime):
            return self.time
        return datetime.combine(self.time, time(0), tzinfo=tz).astimezone(UTC)


class ReceiptLine(_StockLine):
    """Units of one GTIN delivered to the store."""

    quantity: int = Field(description="Units received, 1 or more.")
    supplier: str | None = Field(default=None, min_length=1, max_length=100)
    id: str | None = Field(
        default=None, min_length=1, max_length=128, description="Delivery note line id."
    )

    @field_validator("quantity", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> int:
        return _whole(value, minimum=1)


class CountLine(_StockLine):
    """Units of one GTIN counted in the store (shelf and backroom) at a time."""

    quantity: int = Field(description="Units counted, 0 or more.")
    backroom_capacity: int | None = Field(
        default=None, description="Units the backroom holds for this GTIN."
    )

    @field_validator("quantity", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> int:
        return _whole(value, minimum=0)

    @field_validator("backroom_capacity", mode="before")
    @classmethod
    def _backroom(cls, value: Any) -> int | None:
        return None if value is None else _whole(value, minimum=0)


@dataclass
class StockImportReport(LineReport):
    """What an import did: counts, and every rejected line with its position and field."""

    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[LineError] = field(default_factory=list)

    def summary(self, source: str) -> str:
        return (
            f"{source}: {self.received} line(s): {self.accepted} stored, "
            f"{self.duplicates} duplicate(s), {self.rejected_lines} rejected"
        )


def parse_receipts(items: Sequence[Any]) -> tuple[list[tuple[int, ReceiptLine]], list[LineError]]:
    return batch_lines(ReceiptLine, items)


def parse_receipts_csv(
    data: bytes | str, source: str
) -> tuple[list[tuple[int, ReceiptLine]], list[LineError]]:
    return file_lines(ReceiptLine, data, source, RECEIPTS_CSV_REQUIRED, RECEIPTS_CSV_OPTIONAL)


def parse_counts(items: Sequence[Any]) -> tuple[list[tuple[int, CountLine]], list[LineError]]:
    return batch_lines(CountLine, items)


def parse_counts_csv(
    data: bytes | str, source: str
) -> tuple[list[tuple[int, CountLine]], list[LineError]]:
    return file_lines(CountLine, data, source, COUNTS_CSV_REQUIRED, COUNTS_CSV_OPTIONAL)


def _insert_receipt(
    tx: Transaction, line: ReceiptLine, tz: ZoneInfo, by: str, source: str, now: str
) -> bool:
    """Store one receipt (False for a duplicate line id) and apply it to an open order."""
    cursor = tx.execute(
        "INSERT OR IGNORE INTO goods_receipts (store, line_id, gtin, ts, quantity, supplier,"
        " source, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            line.store,
            line.id,
            line.gtin,
            db_time(line.at(tz)),
            line.quantity,
            line.supplier,
            source,
            by,
            now,
        ),
    )
    if cursor.rowcount == 0:
        return False
    if line.supplier:
        order = apply_receipt(tx, line.store, line.supplier, line.gtin, line.quantity, line.at(tz))
        if order is not None:
            tx.execute(
                "UPDATE goods_receipts SET purchase_order = ? WHERE id = ?",
                (order, cursor.lastrowid),
            )
    return True


def _insert_count(
    tx: Transaction, line: CountLine, tz: ZoneInfo, by: str, source: str, now: str
) -> bool:
    """Store one count (False for a duplicate: same store, GTIN and time)."""
    cursor = tx.execute(
        "INSERT OR IGNORE INTO stock_counts (store, gtin, ts, quantity, backroom_capacity,"
        " source, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            line.store,
            line.gtin,
            db_time(line.at(tz)),
            line.quantity,
            line.backroom_capacity,
            source,
            by,
            now,
        ),
    )
    return bool(cursor.rowcount)


LineT = TypeVar("LineT", ReceiptLine, CountLine)


def _store_lines(
    db: Database,
    lines: Sequence[tuple[int, LineT]],
    errors: Sequence[LineError],
    insert: Callable[[Transaction, LineT, ZoneInfo, str, str, str], bool],
    *,
    tz: ZoneInfo,
    by: str,
    source: str,
) -> StockImportReport:
    """Insert validated lines in one transaction, counting the stored and the duplicates
    (lines `insert` found stored before)."""
    report = StockImportReport.of(lines, errors)
    now = db_time(datetime.now(UTC))
    with db.transaction() as tx:
        for _, line in lines:
            if insert(tx, line, tz, by, source, now):
                report.accepted += 1
            else:
                report.duplicates += 1
    return report


def store_receipts(
    db: Database,
    lines: Sequence[tuple[int, ReceiptLine]],
    errors: Sequence[LineError],
    *,
    tz: ZoneInfo,
    by: str = "unknown",
    source: str = "api",
) -> StockImportReport:
    """Store validated receipt lines in one transaction; duplicates (same store and id)
    are counted, not stored twice."""
    return _store_lines(db, lines, errors, _insert_receipt, tz=tz, by=by, source=source)


def store_counts(
    db: Database,
    lines: Sequence[tuple[int, CountLine]],
    errors: Sequence[LineError],
    *,
    tz: ZoneInfo,
    by: str = "unknown",
    source: str = "api",
) -> StockImportReport:
    """Store validated counts in one transaction; a count at the same store, GTIN and
    time as a stored one is a duplicate."""
    return _store_lines(db, lines, errors, _insert_count, tz=tz, by=by, source=source)


# ---- stock on hand ------------------------------------------------------------------------


@dataclass(frozen=True)
class StockOnHand:
    """One GTIN's stock in one store and how it was worked out."""

    gtin: str
    on_hand: int | None
    """None when the store has neither a count nor a receipt of it."""
    basis: Literal["count", "receipts", "none"]
    counted: int | None = None
    counted_at: datetime | None = None
    received_since: int = 0
    sold_since: int = 0
    backroom_capacity: int | None = None


def _stock_of(conn: Any, store: str, gtin: str) -> StockOnHand:
    count = conn.execute(
        "SELECT ts, quantity FROM stock_counts WHERE store = ? AND gtin = ? ORDER BY ts DESC"
        " LIMIT 1",
        (store, gtin),
    ).fetchone()
    backroom = conn.execute(
        "SELECT backroom_capacity FROM stock_counts WHERE store = ? AND gtin = ?"
        " AND backroom_capacity IS NOT NULL ORDER BY ts DESC LIMIT 1",
        (store, gtin),
    ).fetchone()
    backroom_capacity = backroom[0] if backroom else None
    if count is not None:
        since = count["ts"]
        basis: Literal["count", "receipts", "none"] = "count"
        counted = int(count["quantity"])
    else:
        first = conn.execute(
            "SELECT min(ts) FROM goods_receipts WHERE store = ? AND gtin = ?", (store, gtin)
        ).fetchone()[0]
        if first is None:
            return StockOnHand(gtin, None, "none", backroom_capacity=backroom_capacity)
        since, basis, counted = first, "receipts", None
    # A count at time t includes receipts and sales up to t; receipts exactly at the
    # count's time (bare dates) count as before it.
    op = ">" if basis == "count" else ">="
    received = conn.execute(
        f"SELECT coalesce(sum(quantity), 0) FROM goods_receipts WHERE store = ? AND gtin = ?"
        f" AND ts {op} ?",
        (store, gtin, since),
    ).fetchone()[0]
    sold = conn.execute(
        "SELECT coalesce(sum(quantity), 0) FROM sales WHERE store = ? AND sku = ? AND ts > ?",
        (store, gtin, since),
    ).fetchone()[0]
    return StockOnHand(
        gtin=gtin,
        on_hand=(counted or 0) + int(received) - int(sold),
        basis=basis,
        counted=counted,
        counted_at=datetime.fromisoformat(since) if basis == "count" else None,
        received_since=int(received),
        sold_since=int(sold),
        backroom_capacity=backroom_capacity,
    )


def stock_on_hand(db: Database, store: str, gtins: Iterable[str]) -> dict[str, StockOnHand]:
    """Stock on hand of each GTIN in the store (see the module doc)."""
    with db.read() as conn:
        return {gtin: _stock_of(conn, store, gtin) for gtin in dict.fromkeys(gtins)}


def stocked_gtins(db: Database, store: str) -> list[str]:
    """GTINs the store has counted or received."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT gtin FROM stock_counts WHERE store = ? UNION"
            " SELECT gtin FROM goods_receipts WHERE store = ? ORDER BY gtin",
            (store, store),
        ).fetchall()
    return [r[0] for r in rows]
