"""The sales the velocity estimator and the advice facts read from the store's database.

Per SKU: its velocity profile over the last complete local days, units sold in an
interval, the newest sale. Each query reads only the aggregate it needs (a busy store
has many lines). Returns (negative lines) never count as demand, nor do lines the
import screening flagged (`sales.flag`: a quantity far beyond the SKU's history, kept
for the revenue but not shelf demand); a flagged line still counts as a sale for
`last_sale`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gateway.retail.velocity import VelocityProfile, estimate_profile
from gateway.storage.connection import Database
from gateway.storage.sql import db_time

DEFAULT_WINDOW_DAYS = 28


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _quarter_hours(
    db: Database, store: str, sku: str | None, start: datetime, end: datetime
) -> list[tuple[datetime, float]]:
    """Units sold (positive lines) per UTC quarter hour: enough to place each in its local
    hour in any time zone (all offsets are multiples of 15 minutes), without reading
    every line of a busy store."""
    sql = (
        "SELECT substr(ts, 1, 13) AS hour, CAST(substr(ts, 15, 2) AS INTEGER) / 15 AS quarter,"
        " sum(quantity) AS units FROM sales"
        " WHERE store = ? AND ts >= ? AND ts < ? AND quantity > 0 AND flag IS NULL"
    )
    params: list[str] = [store, db_time(start), db_time(end)]
    if sku is not None:
        sql += " AND sku = ?"
        params.append(sku)
    with db.read() as conn:
        rows = conn.execute(sql + " GROUP BY hour, quarter", params).fetchall()
    return [
        (
            datetime.fromisoformat(f"{r['hour']}:00:00+00:00")
            + timedelta(minutes=15 * r["quarter"]),
            float(r["units"]),
        )
        for r in rows
    ]


def first_sale_date(db: Database, store: str, tz: ZoneInfo) -> date | None:
    """Local date of the store's first stored sale: where its sales history begins."""
    with db.read() as conn:
        first = conn.execute(
            "SELECT min(ts) FROM sales WHERE store = ? AND flag IS NULL", (store,)
        ).fetchone()[0]
    return datetime.fromisoformat(first).astimezone(tz).date() if first else None


def velocity_profile(
    db: Database,
    store: str,
    sku: str,
    *,
    tz: ZoneInfo,
    window_days: int = DEFAULT_WINDOW_DAYS,
    now: datetime | None = None,
) -> VelocityProfile:
    """The SKU's profile over the last `window_days` complete local days before `now`.

    The window starts no earlier than the store's first sale, so a gateway with a week
    of history estimates from that week instead of counting three empty ones.
    """
    now = now or datetime.now(UTC)
    end = now.astimezone(tz).date()
    start = end - timedelta(days=window_days)
    first = first_sale_date(db, store, tz)
    start = max(start, first) if first is not None else end
    start = min(start, end)
    start_utc, end_utc = _local_midnight(start, tz), _local_midnight(end, tz)
    return estimate_profile(
        store,
        sku,
        _quarter_hours(db, store, sku, start_utc, end_utc),
        _quarter_hours(db, store, None, start_utc, end_utc),
        tz=tz,
        window_start=start,
        window_end=end,
    )


def units_sold(
    db: Database, store: str, sku: str, since: datetime, until: datetime | None = None
) -> int:
    """Units of a SKU sold (returns left out) in [since, until), `until` default now."""
    sql = "SELECT coalesce(sum(quantity), 0) FROM sales WHERE store = ? AND sku = ?"
    sql += " AND ts >= ? AND quantity > 0 AND flag IS NULL"
    params = [store, sku, db_time(since)]
    if until is not None:
        sql += " AND ts < ?"
        params.append(db_time(until))
    with db.read() as conn:
        return int(conn.execute(sql, params).fetchone()[0])


def last_sale(db: Database, store: str, sku: str) -> datetime | None:
    """Time of the SKU's newest positive sale line in the store."""
    with db.read() as conn:
        ts = conn.execute(
            "SELECT max(ts) FROM sales WHERE store = ? AND sku = ? AND quantity > 0",
            (store, sku),
        ).fetchone()[0]
    return datetime.fromisoformat(ts) if ts else None


def last_sales(db: Database, store: str, skus: Iterable[str]) -> dict[str, datetime]:
    """`last_sale` of many SKUs in one query (SKUs never sold are left out)."""
    wanted = list(dict.fromkeys(skus))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    with db.read() as conn:
        rows = conn.execute(
            f"SELECT sku, max(ts) AS ts FROM sales WHERE store = ? AND sku IN ({marks})"
            " AND quantity > 0 GROUP BY sku",
            (store, *wanted),
        ).fetchall()
    return {r["sku"]: datetime.fromisoformat(r["ts"]) for r in rows if r["ts"]}


def velocity_profiles(
    db: Database,
    store: str,
    skus: Iterable[str],
    *,
    tz: ZoneInfo,
    window_days: int = DEFAULT_WINDOW_DAYS,
    now: datetime | None = None,
) -> dict[str, VelocityProfile]:
    """`velocity_profile` for several SKUs of one store, reading the store's traffic once
    (the advice engine asks for every SKU on its shelves)."""
    now = now or datetime.now(UTC)
    end = now.astimezone(tz).date()
    first = first_sale_date(db, store, tz)
    start = max(end - timedelta(days=window_days), first) if first is not None else end
    start = min(start, end)
    start_utc, end_utc = _local_midnight(start, tz), _local_midnight(end, tz)
    traffic = _quarter_hours(db, store, None, start_utc, end_utc)
    return {
        sku: estimate_profile(
            store,
            sku,
            _quarter_hours(db, store, sku, start_utc, end_utc),
            traffic,
            tz=tz,
            window_start=start,
            window_end=end,
        )
        for sku in dict.fromkeys(skus)
    }


def last_unit_prices(db: Database, store: str, skus: Iterable[str]) -> dict[str, float]:
    """The price each SKU last sold at in the store (SKUs never sold are left out): what
    advice counts the money at stake in."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    with db.read() as conn:
        rows = conn.execute(
            f"SELECT sku, unit_price, max(ts) FROM sales WHERE store = ? AND sku IN ({marks})"
            " GROUP BY sku",
            (store, *wanted),
        ).fetchall()
    return {r["sku"]: float(r["unit_price"]) for r in rows}
