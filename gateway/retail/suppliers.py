"""Suppliers and their price lists: what each sells, in which packs, at what price, on
which terms.

A price list is a CSV (or JSON batch) with one line per supplier and GTIN:

    supplier,gtin,pack_size,pack_price,min_order_value,free_delivery_threshold,
    delivery_fee,lead_time_days,order_days

`min_order_value`, `free_delivery_threshold` (empty: delivery is never free),
`delivery_fee` and `order_days` (e.g. `Mon,Thu`; empty: every day) are the supplier's
terms and repeat on each of its lines; a line whose terms differ from an earlier line of
the same supplier in the same file is rejected naming the field and that row, so a typo
cannot silently change a supplier's terms. Importing a line replaces the stored price of
that (supplier, GTIN) and the supplier's terms; lines not in the file stay as they were.
Money is exact decimal text, as in sales.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.retail.batch_import import LineError, LineReport, batch_lines, file_lines
from gateway.retail.pos import price_text, valid_gtin
from gateway.retail.supplier_choice import Offer, SupplierTerms
from gateway.storage.connection import Database
from gateway.storage.sql import db_time

PRICES_CSV_REQUIRED = ("supplier", "gtin", "pack_size", "pack_price", "lead_time_days")
PRICES_CSV_OPTIONAL = ("min_order_value", "free_delivery_threshold", "delivery_fee", "order_days")
TERM_FIELDS = (
    "min_order_value",
    "free_delivery_threshold",
    "delivery_fee",
    "lead_time_days",
    "order_days",
)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_INT_RE = re.compile(r"^\d+$")


def _money(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"not an amount ({value!r})")
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not an amount ({value!r})") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"must be an amount of 0 or more ({value!r})")
    if amount >= Decimal(10) ** 9:
        raise ValueError(f"{amount} is beyond 999999999.99")
    return Decimal(price_text(amount))


def _count(value: Any, what: str, lo: int, hi: int) -> int:
    if isinstance(value, str) and _INT_RE.match(value.strip()):
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"not a whole number ({value!r})")
    if not lo <= value <= hi:
        raise ValueError(f"{what} must be {lo} to {hi} ({value})")
    return value


def parse_order_days(value: Any) -> tuple[int, ...]:
    """Weekday numbers (Monday = 0) from 'Mon,Thu', 'mon thu', '0,3' or 'daily'."""
    if value is None:
        return tuple(range(7))
    if isinstance(value, list | tuple):
        parts = [str(v) for v in value]
    elif isinstance(value, str):
        text = value.strip().lower()
        if text in ("", "daily", "all", "every day"):
            return tuple(range(7))
        parts = re.split(r"[\s,;/]+", text)
    else:
        raise ValueError(f"not a list of weekdays ({value!r})")
    days = set()
    for part in filter(None, (p.strip().lower() for p in parts)):
        if part.isdigit() and int(part) < 7:
            days.add(int(part))
        elif part in DAY_NAMES or part in FULL_DAY_NAMES:
            days.add(DAY_NAMES.index(part[:3]))
        else:
            raise ValueError(f"{part!r} is not a weekday; write e.g. Mon,Thu (or 0,3)")
    if not days:
        raise ValueError("names no weekday; write e.g. Mon,Thu, or leave it empty for daily")
    return tuple(sorted(days))


def order_days_text(days: Iterable[int]) -> str:
    """'Mon,Thu' (or 'daily') for weekday numbers."""
    days = sorted(set(days))
    if days == list(range(7)):
        return "daily"
    return ",".join(DAY_NAMES[d].capitalize() for d in days)


class PriceLine(BaseModel):
    """One line of a supplier's price list, with the supplier's terms."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    supplier: str = Field(min_length=1, max_length=100)
    gtin: str
    pack_size: int = Field(description="Units in one pack, 1 or more.")
    pack_price: Decimal = Field(description="Price of one pack, >= 0.")
    min_order_value: Decimal = Decimal(0)
    free_delivery_threshold: Decimal | None = None
    delivery_fee: Decimal = Decimal(0)
    lead_time_days: int = Field(description="Days from order to delivery, 0-60.")
    order_days: tuple[int, ...] = Field(
        default=tuple(range(7)), description="Weekdays it takes orders: Mon,Thu; empty: daily."
    )

    @field_validator("supplier", mode="before")
    @classmethod
    def _supplier(cls, value: Any) -> Any:
        if isinstance(value, str) and any(ord(c) < 32 for c in value):
            raise ValueError("contains control characters")
        return value

    @field_validator("gtin", mode="before")
    @classmethod
    def _gtin(cls, value: Any) -> str:
        return valid_gtin(value)

    @field_validator("pack_size", mode="before")
    @classmethod
    def _pack_size(cls, value: Any) -> int:
        return _count(value, "pack size", 1, 100_000)

    @field_validator("lead_time_days", mode="before")
    @classmethod
    def _lead(cls, value: Any) -> int:
        return _count(value, "lead time", 0, 60)

    @field_validator("pack_price", "min_order_value", "delivery_fee", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Decimal:
        return _money(value)

    @field_validator("free_delivery_threshold", mode="before")
    @classmethod
    def _threshold(cls, value: Any) -> Decimal | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return _money(value)

    @field_validator("order_days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> tuple[int, ...]:
        return parse_order_days(value)

    def terms(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in TERM_FIELDS)


@dataclass
class PriceListReport(LineReport):
    received: int = 0
    accepted: int = 0
    suppliers: int = 0
    rejected: list[LineError] = field(default_factory=list)

    def summary(self, source: str) -> str:
        return (
            f"{source}: {self.received} line(s): {self.accepted} stored for "
            f"{self.suppliers} supplier(s), {self.rejected_lines} rejected"
        )


def consistent_terms(
    lines: Sequence[tuple[int, PriceLine]], source: str | None = None
) -> tuple[list[tuple[int, PriceLine]], list[LineError]]:
    """Lines whose supplier terms agree with the supplier's first line in the batch; the
    others become errors naming the field and the first line."""
    first: dict[str, tuple[int, PriceLine]] = {}
    good: list[tuple[int, PriceLine]] = []
    errors: list[LineError] = []
    for at, line in lines:
        if line.supplier not in first:
            first[line.supplier] = (at, line)
            good.append((at, line))
            continue
        at0, line0 = first[line.supplier]
        bad = [
            n for n, a, b in zip(TERM_FIELDS, line0.terms(), line.terms(), strict=True) if a != b
        ]
        if not bad:
            good.append((at, line))
            continue
        where = f"row {at0}" if source else f"line {at0}"
        pos = {"row": at, "source": source} if source else {"index": at}
        for name in bad:
            errors.append(
                LineError(
                    f"{_shown(getattr(line, name))} differs from {_shown(getattr(line0, name))}"
                    f" on {where} for supplier {line.supplier!r}",
                    name,
                    **pos,
                )
            )
    return good, errors


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return repr(order_days_text(value))
    return repr(str(value)) if value is not None else "empty"


def parse_prices(items: Sequence[Any]) -> tuple[list[tuple[int, PriceLine]], list[LineError]]:
    good, errors = batch_lines(PriceLine, items)
    good, mismatched = consistent_terms(good)
    return good, errors + mismatched


def parse_prices_csv(
    data: bytes | str, source: str
) -> tuple[list[tuple[int, PriceLine]], list[LineError]]:
    good, errors = file_lines(PriceLine, data, source, PRICES_CSV_REQUIRED, PRICES_CSV_OPTIONAL)
    good, mismatched = consistent_terms(good, source)
    return good, sorted(errors + mismatched, key=lambda e: (e.row or 0, e.index or 0))


def store_prices(
    db: Database,
    lines: Sequence[tuple[int, PriceLine]],
    errors: Sequence[LineError],
) -> PriceListReport:
    """Upsert the suppliers' terms and their price lines in one transaction."""
    report = PriceListReport.of(lines, errors)
    now = db_time(datetime.now(UTC))
    seen: set[str] = set()
    with db.transaction() as tx:
        for _, line in lines:
            if line.supplier not in seen:
                seen.add(line.supplier)
                tx.execute(
                    "INSERT INTO suppliers (name, min_order_value, free_delivery_threshold,"
                    " delivery_fee, lead_time_days, order_weekdays, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                    " min_order_value = excluded.min_order_value,"
                    " free_delivery_threshold = excluded.free_delivery_threshold,"
                    " delivery_fee = excluded.delivery_fee,"
                    " lead_time_days = excluded.lead_time_days,"
                    " order_weekdays = excluded.order_weekdays, updated_at = excluded.updated_at",
                    (
                        line.supplier,
                        price_text(line.min_order_value),
                        None
                        if line.free_delivery_threshold is None
                        else price_text(line.free_delivery_threshold),
                        price_text(line.delivery_fee),
                        line.lead_time_days,
                        ",".join(str(d) for d in line.order_days),
                        now,
                    ),
                )
            tx.execute(
                "INSERT INTO supplier_prices (supplier, gtin, pack_size, pack_price, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (supplier, gtin) DO UPDATE SET"
                " pack_size = excluded.pack_size, pack_price = excluded.pack_price,"
                " updated_at = excluded.updated_at",
                (line.supplier, line.gtin, line.pack_size, price_text(line.pack_price), now),
            )
            report.accepted += 1
    report.suppliers = len(seen)
    return report


# ---- reading -------------------------------------------------------------------------------


def supplier_terms(db: Database) -> list[SupplierTerms]:
    """Every supplier's terms, as the supplier choice reads them."""
    with db.read() as conn:
        rows = conn.execute("SELECT * FROM suppliers ORDER BY name").fetchall()
    return [
        SupplierTerms(
            supplier=r["name"],
            min_order_value=float(r["min_order_value"]),
            free_delivery_threshold=None
            if r["free_delivery_threshold"] is None
            else float(r["free_delivery_threshold"]),
            delivery_fee=float(r["delivery_fee"]),
            lead_time_days=int(r["lead_time_days"]),
            order_weekdays=frozenset(int(d) for d in r["order_weekdays"].split(",") if d),
        )
        for r in rows
    ]


def offers(db: Database, gtins: Iterable[str] | None = None) -> list[Offer]:
    """Price list lines (of these GTINs, or all)."""
    sql = "SELECT supplier, gtin, pack_size, pack_price FROM supplier_prices"
    params: list[str] = []
    if gtins is not None:
        wanted = sorted(set(gtins))
        if not wanted:
            return []
        sql += f" WHERE gtin IN ({', '.join('?' * len(wanted))})"
        params = wanted
    with db.read() as conn:
        rows = conn.execute(sql + " ORDER BY supplier, gtin", params).fetchall()
    return [
        Offer(r["supplier"], r["gtin"], int(r["pack_size"]), float(r["pack_price"])) for r in rows
    ]


def suppliers(db: Database) -> list[dict[str, Any]]:
    """Suppliers with their terms and how many GTINs each lists (for the API)."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT s.*, (SELECT count(*) FROM supplier_prices p WHERE p.supplier = s.name)"
            " AS gtins FROM suppliers s ORDER BY s.name"
        ).fetchall()
    return [
        {
            "name": r["name"],
            "min_order_value": r["min_order_value"],
            "free_delivery_threshold": r["free_delivery_threshold"],
            "delivery_fee": r["delivery_fee"],
            "lead_time_days": r["lead_time_days"],
            "order_days": order_days_text(int(d) for d in r["order_weekdays"].split(",") if d),
            "gtins": r["gtins"],
            "updated_at": r["updated_at"],
        }
        for r in rows
    ]
