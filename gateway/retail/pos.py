"""Point-of-sale sale lines: validation, idempotent storage and queries.

Sales arrive three ways: `POST /api/pos/sales` (JSON batch), a CSV file (API upload or
`shelf-gateway pos import`) and MQTT `{prefix}/{store}/pos_sales` from the tills. All
three validate each line with `SaleLine` and store it with `record_sales`, so a line
means the same whichever way it came.

Decisions a till integrator needs to know:
- A line is identified by (store, id): sending it again is harmless (counted as a
  duplicate, never double counted). The same id with different content is rejected and
  the stored line is kept: a correction is a new line (a return is a negative quantity).
- `time` must carry a UTC offset (`...Z` or `+02:00`); a time without one is rejected
  rather than guessed, because a wrong guess shifts every hour-of-day sales profile.
  Every line is then screened (`sales_screen`: a line in the future or long before the
  store's first data is refused; a quantity far beyond the SKU's history is kept but
  flagged and left out of velocity), and an import's lines form one batch
  (`sales_batches`) that can be deleted.
- `quantity` is a whole number of units, not 0; negative for a return. Velocity counts
  only positive lines (a return is not negative demand).
- `unit_price` is a decimal >= 0 stored exactly (as text), `currency` an optional ISO 4217
  code. `sku` is the GTIN-8/12/13/14 as printed (check digit verified, no zero-padding),
  so it matches the SKUs of the shelf layouts.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from edge.contract.ids import Identifier, is_identifier
from edge.contract.messages import SCHEMA_VERSION
from edge.layout import gtin_check_digit_ok
from gateway.retail.batch_import import (
    MAX_BATCH_LINES,
    Checked,
    LineError,
    batch_lines,
    file_lines,
    iter_batch_lines,
    iter_csv_lines,
    validate_line,
)
from gateway.retail.sales_batches import BatchSpec, open_batch, set_counts
from gateway.retail.sales_screen import SalesScreen
from gateway.storage.connection import Database
from gateway.storage.sql import db_time, where_sql
from gateway.storage.transactions import Transaction

SALES_CSV_REQUIRED = ("id", "time", "store", "sku", "quantity", "unit_price")
SALES_CSV_OPTIONAL = ("currency",)
MAX_QUANTITY = 100_000
FUTURE_TOLERANCE = timedelta(days=1)
CHUNK_LINES = 5_000
"""Lines per write transaction, so a big import never holds the writer for long."""

SaleSource = Literal["api", "csv", "mqtt"]
_INT_RE = re.compile(r"^[+-]?\d+$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def valid_gtin(value: Any) -> str:
    """A GTIN string with a valid check digit; ValueError naming the value otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"not a GTIN ({_show(value)})")
    code = value.strip()
    if not gtin_check_digit_ok(code):
        raise ValueError(f"{code!r} is not a GTIN-8/12/13/14 with a valid check digit")
    return code


def valid_store(value: Any) -> Any:
    """Friendlier message than the pattern's for a store id that is not a topic level."""
    if isinstance(value, str) and not is_identifier(value):
        raise ValueError(
            f"not a store id ({_show(value)}): 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return value


def price_text(value: Decimal) -> str:
    """The one stored form of a price: plain decimal, no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


class SaleLine(BaseModel):
    """One line of a till receipt: so many units of one SKU at one price."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(
        min_length=1,
        max_length=128,
        description="Sale line id, unique within the store (e.g. receipt number + line).",
    )
    time: datetime = Field(description="When it was sold, ISO 8601 with a UTC offset.")
    store: Identifier
    sku: str = Field(description="GTIN-8/12/13/14 with a valid check digit.")
    quantity: int = Field(description="Units sold; negative for a return; never 0.")
    unit_price: Decimal = Field(description="Price of one unit, >= 0.")
    currency: str | None = Field(default=None, description="ISO 4217 code, e.g. EUR.")

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise ValueError("must not be empty")
            if any(ord(c) < 32 or ord(c) == 127 for c in value):
                raise ValueError(f"contains control characters ({_show(value)})")
        return value

    @field_validator("time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f"not an ISO 8601 time ({_show(value)})") from None
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(
                    f"no UTC offset ({value.isoformat()!r}); write the till's time as "
                    "2024-05-01T09:30:00+02:00 or in UTC as 2024-05-01T07:30:00Z"
                )
            value = value.astimezone(UTC)
            if value > datetime.now(UTC) + FUTURE_TOLERANCE:
                raise ValueError(
                    f"more than a day in the future ({value.isoformat()!r}); check the till's clock"
                )
        return value

    @field_validator("store", mode="before")
    @classmethod
    def _store(cls, value: Any) -> Any:
        return valid_store(value)

    @field_validator("sku", mode="before")
    @classmethod
    def _sku(cls, value: Any) -> str:
        return valid_gtin(value)

    @field_validator("quantity", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(f"not an integer ({value!r})")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and _INT_RE.match(value.strip()):
            value = int(value.strip())
        if not isinstance(value, int):
            raise ValueError(f"not an integer ({_show(value)})")
        if value == 0:
            raise ValueError("must not be 0 (a return is negative)")
        if abs(value) > MAX_QUANTITY:
            raise ValueError(f"{value} is beyond ±{MAX_QUANTITY} units")
        return value

    @field_validator("unit_price", mode="before")
    @classmethod
    def _unit_price(cls, value: Any) -> Decimal:
        if isinstance(value, bool):
            raise ValueError(f"not a number ({value!r})")
        try:
            if isinstance(value, float):
                value = Decimal(repr(value))
            elif isinstance(value, int | str):
                value = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"not a number ({_show(value)})") from None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"not a number ({_show(value)})")
        if value < 0:
            raise ValueError(f"must be 0 or more ({value})")
        if value >= Decimal(10) ** 9:
            raise ValueError(f"{value} is beyond 999999999.99")
        return Decimal(price_text(value))

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any) -> Any:
        if isinstance(value, str):
            code = value.strip().upper()
            if not code:
                return None
            if not _CURRENCY_RE.match(code):
                raise ValueError(f"not an ISO 4217 code like EUR ({_show(value)})")
            return code
        return value

    @property
    def revenue(self) -> Decimal:
        return self.quantity * self.unit_price


# ---- storage -------------------------------------------------------------------------


class Outcome(NamedTuple):
    """What `record_sales` did with one line: `reason` says why a conflict or a refusal
    (`field` names the field at fault); an accepted line may carry the screening's
    `flag` (stored, left out of velocity) and `note` (for the import report)."""

    status: Literal["accepted", "duplicate", "conflict", "refused"]
    reason: str | None = None
    field: str | None = None
    flag: str | None = None
    note: str | None = None


def _stored_outcome(tx: Transaction, line: SaleLine, values: tuple[Any, ...]) -> Outcome | None:
    """Duplicate or conflict when (store, id) is stored already; None when it is not."""
    stored = tx.execute(
        "SELECT ts, sku, quantity, unit_price, currency FROM sales WHERE store = ? AND id = ?",
        (line.store, line.id),
    ).fetchone()
    if stored is None:
        return None
    names = ("time", "sku", "quantity", "unit_price", "currency")
    differences = [
        f"{name} {new!r} here, {old!r} stored"
        for name, new, old in zip(names, (*values, line.currency), tuple(stored), strict=True)
        if new != old
    ]
    if not differences:
        return Outcome("duplicate")
    return Outcome(
        "conflict",
        f"{line.id!r} is already stored for {line.store} with different content "
        f"({'; '.join(differences)}); a correction needs a new line id",
        "id",
    )


def record_sales(
    tx: Transaction,
    lines: Sequence[SaleLine],
    *,
    source: SaleSource,
    received_at: datetime,
    batch: str | None = None,
    screen: SalesScreen | None = None,
) -> list[Outcome]:
    """Insert each line once, after the screening rules (`sales_screen`); one Outcome
    per line, in order. `batch`: the import batch the new lines belong to."""
    screen = screen or SalesScreen(received_at)
    outcomes = []
    received = db_time(received_at)
    for line in lines:
        values = (db_time(line.time), line.sku, line.quantity, price_text(line.unit_price))
        verdict = screen.check(tx, line)
        if verdict.refused is not None:
            known = _stored_outcome(tx, line, values)  # sent again after it was stored
            outcomes.append(known or Outcome("refused", verdict.refused, verdict.field))
            continue
        cursor = tx.execute(
            "INSERT OR IGNORE INTO sales (store, id, ts, sku, quantity, unit_price, currency,"
            " source, received_at, batch, flag) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (line.store, line.id, *values, line.currency, source, received, batch, verdict.flag),
        )
        if cursor.rowcount == 1:
            screen.kept(line, verdict)
            outcomes.append(
                Outcome("accepted", field=verdict.field, flag=verdict.flag, note=verdict.note)
            )
            continue
        known = _stored_outcome(tx, line, values)
        assert known is not None
        outcomes.append(known)
    return outcomes


SalesListener = Callable[[Sequence[SaleLine]], None]
"""Told about newly stored lines after their commit (the InfluxDB exporter)."""

MAX_REPORTED = 1000
"""Errors and notes an import report lists (the counts are always complete): a file of
a million bad lines must not fill the gateway's memory with messages."""


@dataclass
class ImportReport:
    """What an import did: counts, its batch, and the first `MAX_REPORTED` rejected
    lines (position and field) and notes (lines kept but flagged)."""

    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[LineError] = field(default_factory=list)
    notes: list[LineError] = field(default_factory=list)
    batch: str | None = None
    rejected_count: int = 0
    noted: int = 0
    flagged: int = 0

    @property
    def rejected_lines(self) -> int:
        """Lines refused (a line with two bad fields counts once)."""
        return self.rejected_count

    def reject(self, errors: Sequence[LineError]) -> None:
        self.rejected_count += 1
        room = MAX_REPORTED - len(self.rejected)
        self.rejected.extend(errors[: max(0, room)])

    def note(self, note: LineError, flagged: bool) -> None:
        self.noted += 1
        self.flagged += flagged
        if len(self.notes) < MAX_REPORTED:
            self.notes.append(note)

    def counts(self) -> dict[str, int]:
        return {
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected_count,
            "flagged": self.noted,
        }

    def summary(self, source: str) -> str:
        return (
            f"{source}: {self.received} line(s): {self.accepted} accepted, "
            f"{self.duplicates} duplicate(s), {self.rejected_lines} rejected; "
            f"{self.noted} noted ({self.flagged} left out of velocity); batch {self.batch}"
        )


def store_stream(
    db: Database,
    items: Iterable[Checked[SaleLine]],
    *,
    source: SaleSource,
    batch: BatchSpec,
    csv_source: str | None = None,
    on_stored: SalesListener | None = None,
) -> ImportReport:
    """Store checked lines (position = CSV row or JSON index) as one import batch,
    `CHUNK_LINES` per transaction as they come, and report per line. Memory stays flat
    however many lines come: only the current chunk and the report's first messages
    are held. A bad line (a list of errors) is counted and reported."""
    now = datetime.now(UTC)
    report = ImportReport()
    screen = SalesScreen(now)
    items = iter(items)
    first = next(items, None)  # a file that cannot be read at all fails here, before its batch
    items = itertools.chain([] if first is None else [first], items)
    with db.transaction() as tx:
        report.batch = open_batch(tx, batch, now)
    chunk: list[tuple[int, SaleLine]] = []

    def where(position: int) -> dict[str, Any]:
        return {"row": position, "source": csv_source} if csv_source else {"index": position}

    def flush() -> None:
        with db.transaction() as tx:
            outcomes = record_sales(
                tx,
                [line for _, line in chunk],
                source=source,
                received_at=now,
                batch=report.batch,
                screen=screen,
            )
            stored = _tally(report, chunk, outcomes, where)
            set_counts(tx, report.batch or "", report.counts())
        if on_stored is not None and stored:
            on_stored(stored)
        chunk.clear()

    for item in items:
        report.received += 1
        if isinstance(item, list):
            report.reject(item)
            continue
        chunk.append(item)
        if len(chunk) >= CHUNK_LINES:
            flush()
    flush()
    report.rejected.sort(key=lambda e: (e.row or 0, e.index or 0))
    return report


def _tally(
    report: ImportReport,
    chunk: Sequence[tuple[int, SaleLine]],
    outcomes: Sequence[Outcome],
    where: Callable[[int], dict[str, Any]],
) -> list[SaleLine]:
    """Count a chunk's outcomes into the report; the lines newly stored."""
    stored = []
    for (position, line), outcome in zip(chunk, outcomes, strict=True):
        if outcome.status == "accepted":
            report.accepted += 1
            stored.append(line)
            if outcome.note is not None:
                report.note(
                    LineError(outcome.note, outcome.field, **where(position)),
                    outcome.flag is not None,
                )
        elif outcome.status == "duplicate":
            report.duplicates += 1
        else:
            message = outcome.reason or outcome.status
            report.reject([LineError(message, outcome.field, **where(position))])
    return stored


def store_lines(
    db: Database,
    lines: Sequence[tuple[int, SaleLine]],
    errors: Sequence[LineError],
    *,
    source: SaleSource,
    csv_source: str | None = None,
    on_stored: SalesListener | None = None,
    batch: BatchSpec | None = None,
) -> ImportReport:
    """`store_stream` of lines already validated (`errors`: the lines that were not),
    as one batch (by default unnamed, from `source`)."""
    bad: dict[tuple[int | None, int | None], list[LineError]] = {}
    for error in errors:
        bad.setdefault((error.row, error.index), []).append(error)
    items: list[Checked[SaleLine]] = [*lines, *bad.values()]
    return store_stream(
        db,
        items,
        source=source,
        batch=batch or BatchSpec(source, csv_source),
        csv_source=csv_source,
        on_stored=on_stored,
    )


# ---- the three ways in ---------------------------------------------------------------


def parse_sales_batch(items: Sequence[Any]) -> tuple[list[tuple[int, SaleLine]], list[LineError]]:
    """A JSON batch: (index, line) for the good lines, errors naming index and field."""
    return batch_lines(SaleLine, items)


def parse_sales_csv(
    data: bytes | str, source: str
) -> tuple[list[tuple[int, SaleLine]], list[LineError]]:
    """A CSV file (header required, see SALES_CSV_REQUIRED); ImportFileError if unreadable."""
    return file_lines(SaleLine, data, source, SALES_CSV_REQUIRED, SALES_CSV_OPTIONAL)


def iter_sales_batch(items: Sequence[Any]) -> Iterator[Checked[SaleLine]]:
    """The lines of a JSON batch, checked one at a time."""
    return iter_batch_lines(SaleLine, items)


def iter_sales_csv(text: IO[str], source: str) -> Iterator[Checked[SaleLine]]:
    """The lines of a CSV stream, checked one at a time as they are read (see
    `batch_import.csv_rows`); ImportFileError for a bad header, before any line."""
    return iter_csv_lines(SaleLine, text, source, SALES_CSV_REQUIRED, SALES_CSV_OPTIONAL)


class PosMessage(NamedTuple):
    """What one MQTT POS message did; `problem` (the dead letter's reason) if any line or
    the whole message was refused."""

    accepted: list[SaleLine]
    duplicates: int
    problem: str | None


def store_pos_message(
    tx: Transaction,
    topic: str,
    store: str,
    payload: bytes,
    received_at: datetime,
    max_payload_bytes: int,
) -> PosMessage:
    """Validate and store one message from `{prefix}/{store}/pos_sales` in `tx`.

    The payload is one sale line, `{"sales": [...]}` or a JSON array of lines; a line
    without `store` takes the topic's. Good lines are stored even when others are not.
    """
    if len(payload) > max_payload_bytes:
        return PosMessage(
            [],
            0,
            f"{topic}: payload of {len(payload)} bytes exceeds max_payload_bytes "
            f"({max_payload_bytes})",
        )
    try:
        items = _pos_items(json.loads(payload.decode("utf-8")))
    except UnicodeDecodeError as error:
        return PosMessage([], 0, f"{topic}: payload is not UTF-8 (byte {error.start})")
    except json.JSONDecodeError as error:
        return PosMessage(
            [], 0, f"{topic}: not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        )
    except ValueError as error:
        return PosMessage([], 0, f"{topic}: {error}")
    batch = not (len(items) == 1 and items[0][0] is None)
    problems: list[str] = []
    lines: list[SaleLine] = []
    for index, item in items:
        where = f"sales[{index}]." if batch else ""
        if isinstance(item, dict):
            item = {"store": store} | item
        line, errors = validate_line(SaleLine, item, index=index)
        if line is not None and line.store != store:
            errors = [
                LineError(f"{line.store!r} does not match the topic's store {store!r}", "store")
            ]
            line = None
        if line is None:
            problems.extend(
                f"{where}{e.field or ''}{': ' if e.field else ''}{e.message}" for e in errors
            )
            continue
        lines.append(line)
    outcomes = record_sales(tx, lines, source="mqtt", received_at=received_at)
    accepted = [line for line, o in zip(lines, outcomes, strict=True) if o.status == "accepted"]
    duplicates = sum(o.status == "duplicate" for o in outcomes)
    problems.extend(
        f"{o.field}: {o.reason}" for o in outcomes if o.status in ("conflict", "refused")
    )
    return PosMessage(
        accepted, duplicates, f"{topic}: " + "; ".join(problems) if problems else None
    )


def _pos_items(data: Any) -> list[tuple[int | None, Any]]:
    """(index, item) of each line in a POS message; index None for a single-line message."""
    if isinstance(data, dict) and "sales" in data:
        version = data.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise ValueError(
                f"schema_version: unsupported {version!r}; this build reads {SCHEMA_VERSION}"
            )
        data = data["sales"]
        if not isinstance(data, list):
            raise ValueError("sales: expected a list of sale lines")
    elif isinstance(data, dict):
        return [(None, data)]
    if not isinstance(data, list):
        raise ValueError('expected a sale line, {"sales": [...]} or a list of sale lines')
    if not data:
        raise ValueError("no sale lines")
    if len(data) > MAX_BATCH_LINES:
        raise ValueError(f"{len(data)} sale lines; at most {MAX_BATCH_LINES} per message")
    return list(enumerate(data))


# ---- queries -------------------------------------------------------------------------


def sales(
    db: Database,
    *,
    store: str | None = None,
    sku: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    skus: Collection[str] | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Sale lines newest first; `since` inclusive, `until` exclusive; `skus` keeps
    lines of those products only."""
    where, params = where_sql(
        {"store": store, "sku": sku}, within={"sku": skus}, since=since, until=until
    )
    sql = (
        "SELECT store, id, ts, sku, quantity, unit_price, currency, source, received_at FROM sales"
    ) + where
    sql += " ORDER BY ts DESC, id DESC LIMIT ?"
    params.append(limit)
    with db.read() as conn:
        rows = conn.execute(sql, params).fetchall()
    return [
        {
            "id": r["id"],
            "time": r["ts"],
            "store": r["store"],
            "sku": r["sku"],
            "quantity": r["quantity"],
            "unit_price": Decimal(r["unit_price"]),
            "currency": r["currency"],
            "revenue": r["quantity"] * Decimal(r["unit_price"]),
            "source": r["source"],
            "received_at": r["received_at"],
        }
        for r in rows
    ]
