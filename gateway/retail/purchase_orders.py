"""Purchase orders: draft -> on order -> received.

A purchase suggestion (`purchasing`) is saved as one *draft* order per supplier,
replacing the store's earlier drafts; the owner edits the packs of each line and
*accepts* the order, which makes it *on order*: its units count as stock on order in
every later suggestion until goods receipts (`stock`) of that supplier and GTIN arrive.
A receipt fulfils the oldest open line first; when every line of an order has received
its units the order is *received*. Lines set to 0 packs are dropped on acceptance.

Each order and line keeps the suggestion's evidence (`why`, JSON) so an accepted order
still says why it was placed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from gateway.storage.connection import Database
from gateway.storage.sql import db_time
from gateway.storage.transactions import Transaction

Status = Literal["draft", "on_order", "received"]
STATUSES: tuple[Status, ...] = ("draft", "on_order", "received")


class OrderNotFound(LookupError):
    """No such order (or no such line on it)."""


class OrderStateError(ValueError):
    """The order is not in a state that allows the change (e.g. editing an accepted one)."""


@dataclass(frozen=True)
class DraftLine:
    gtin: str
    pack_size: int
    pack_price: str
    packs: int
    why: dict[str, Any]


@dataclass(frozen=True)
class DraftOrder:
    supplier: str
    delivery_fee: str
    expected_on: date | None
    lines: Sequence[DraftLine]
    why: dict[str, Any]


def replace_drafts(db: Database, store: str, orders: Sequence[DraftOrder], *, by: str) -> list[int]:
    """Save a suggestion as the store's draft orders (earlier drafts go); their ids."""
    now = db_time(datetime.now(UTC))
    ids = []
    with db.transaction() as tx:
        old = [
            r[0]
            for r in tx.execute(
                "SELECT id FROM purchase_orders WHERE store = ? AND status = 'draft'", (store,)
            ).fetchall()
        ]
        for order_id in old:
            tx.execute("DELETE FROM purchase_order_lines WHERE order_id = ?", (order_id,))
            tx.execute("DELETE FROM purchase_orders WHERE id = ?", (order_id,))
        for order in orders:
            cursor = tx.execute(
                "INSERT INTO purchase_orders (store, supplier, status, created_at, created_by,"
                " expected_on, delivery_fee, why) VALUES (?, ?, 'draft', ?, ?, ?, ?, ?)",
                (
                    store,
                    order.supplier,
                    now,
                    by,
                    order.expected_on.isoformat() if order.expected_on else None,
                    order.delivery_fee,
                    json.dumps(order.why),
                ),
            )
            order_id = int(cursor.lastrowid or 0)
            for line in order.lines:
                tx.execute(
                    "INSERT INTO purchase_order_lines (order_id, gtin, pack_size, pack_price,"
                    " packs, suggested_packs, why) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        order_id,
                        line.gtin,
                        line.pack_size,
                        line.pack_price,
                        line.packs,
                        line.packs,
                        json.dumps(line.why),
                    ),
                )
            ids.append(order_id)
    return ids


def _line_record(r: Any) -> dict[str, Any]:
    units = int(r["packs"]) * int(r["pack_size"])
    return {
        "gtin": r["gtin"],
        "pack_size": int(r["pack_size"]),
        "pack_price": r["pack_price"],
        "packs": int(r["packs"]),
        "suggested_packs": int(r["suggested_packs"]),
        "units": units,
        "received_units": int(r["received_units"]),
        "value": _money(Decimal(r["pack_price"]) * int(r["packs"])),
        "why": json.loads(r["why"]) if r["why"] else None,
    }


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def list_orders(
    db: Database,
    *,
    store: str | None = None,
    status: Status | None = None,
    order_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Orders newest first, each with its lines and value."""
    where, params = [], []
    for column, value in (("store", store), ("status", status), ("id", order_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = "SELECT * FROM purchase_orders"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC LIMIT ?"
    with db.read() as conn:
        rows = conn.execute(sql, [*params, limit]).fetchall()
        result = []
        for r in rows:
            lines = [
                _line_record(x)
                for x in conn.execute(
                    "SELECT * FROM purchase_order_lines WHERE order_id = ? ORDER BY gtin",
                    (r["id"],),
                ).fetchall()
            ]
            value = sum((Decimal(x["value"]) for x in lines), Decimal(0))
            result.append(
                {
                    "id": r["id"],
                    "store": r["store"],
                    "supplier": r["supplier"],
                    "status": r["status"],
                    "created_at": r["created_at"],
                    "created_by": r["created_by"],
                    "accepted_at": r["accepted_at"],
                    "accepted_by": r["accepted_by"],
                    "expected_on": r["expected_on"],
                    "received_at": r["received_at"],
                    "value": _money(value),
                    "delivery_fee": r["delivery_fee"],
                    "why": json.loads(r["why"]) if r["why"] else None,
                    "lines": lines,
                }
            )
    return result


def get_order(db: Database, order_id: int) -> dict[str, Any]:
    found = list_orders(db, order_id=order_id, limit=1)
    if not found:
        raise OrderNotFound(f"purchase order {order_id} does not exist")
    return found[0]


def _status(tx: Transaction, order_id: int) -> str:
    row = tx.execute("SELECT status FROM purchase_orders WHERE id = ?", (order_id,)).fetchone()
    if row is None:
        raise OrderNotFound(f"purchase order {order_id} does not exist")
    return str(row[0])


def set_packs(db: Database, order_id: int, gtin: str, packs: int) -> None:
    """Change the packs of a draft's line (0 drops it on acceptance)."""
    if packs < 0:
        raise ValueError("packs must be 0 or more")
    with db.transaction() as tx:
        if (status := _status(tx, order_id)) != "draft":
            raise OrderStateError(f"purchase order {order_id} is {status}; only a draft changes")
        cursor = tx.execute(
            "UPDATE purchase_order_lines SET packs = ? WHERE order_id = ? AND gtin = ?",
            (packs, order_id, gtin),
        )
        if cursor.rowcount == 0:
            raise OrderNotFound(f"purchase order {order_id} has no line for GTIN {gtin}")


def accept(db: Database, order_id: int, *, by: str) -> None:
    """Draft -> on order (lines of 0 packs are dropped; an order with none left is
    refused)."""
    with db.transaction() as tx:
        if (status := _status(tx, order_id)) != "draft":
            raise OrderStateError(f"purchase order {order_id} is {status}, not a draft")
        tx.execute("DELETE FROM purchase_order_lines WHERE order_id = ? AND packs = 0", (order_id,))
        left = tx.execute(
            "SELECT count(*) FROM purchase_order_lines WHERE order_id = ?", (order_id,)
        ).fetchone()[0]
        if not left:
            raise OrderStateError(f"purchase order {order_id} has no line with packs to order")
        tx.execute(
            "UPDATE purchase_orders SET status = 'on_order', accepted_at = ?, accepted_by = ?"
            " WHERE id = ?",
            (db_time(datetime.now(UTC)), by, order_id),
        )


def apply_receipt(
    tx: Transaction, store: str, supplier: str, gtin: str, quantity: int, at: datetime
) -> int | None:
    """Book received units against the supplier's open order lines of the GTIN, oldest
    first (an over-delivery stays on the last line); the first order it touched, or None.
    Orders whose lines all have their units become received."""
    lines = tx.execute(
        "SELECT l.order_id, l.packs * l.pack_size - l.received_units AS open_units"
        " FROM purchase_order_lines l JOIN purchase_orders o ON o.id = l.order_id"
        " WHERE o.store = ? AND o.supplier = ? AND o.status = 'on_order' AND l.gtin = ?"
        " ORDER BY o.accepted_at, o.id",
        (store, supplier, gtin),
    ).fetchall()
    open_lines = [(int(r[0]), int(r[1])) for r in lines if int(r[1]) > 0]
    if not open_lines:
        return None
    left = quantity
    for i, (order_id, open_units) in enumerate(open_lines):
        take = left if i == len(open_lines) - 1 else min(left, open_units)
        tx.execute(
            "UPDATE purchase_order_lines SET received_units = received_units + ?"
            " WHERE order_id = ? AND gtin = ?",
            (take, order_id, gtin),
        )
        _close_if_received(tx, order_id, at)
        left -= take
        if left <= 0:
            break
    return open_lines[0][0]


def _close_if_received(tx: Transaction, order_id: int, at: datetime) -> None:
    open_count = tx.execute(
        "SELECT count(*) FROM purchase_order_lines WHERE order_id = ?"
        " AND received_units < packs * pack_size",
        (order_id,),
    ).fetchone()[0]
    if open_count == 0:
        tx.execute(
            "UPDATE purchase_orders SET status = 'received', received_at = ? WHERE id = ?",
            (db_time(at), order_id),
        )


def on_order_units(db: Database, store: str) -> dict[str, int]:
    """Units of each GTIN on accepted orders not yet received."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT l.gtin, sum(max(0, l.packs * l.pack_size - l.received_units)) AS units"
            " FROM purchase_order_lines l JOIN purchase_orders o ON o.id = l.order_id"
            " WHERE o.store = ? AND o.status = 'on_order' GROUP BY l.gtin",
            (store,),
        ).fetchall()
    return {r["gtin"]: int(r["units"]) for r in rows if r["units"]}


CSV_COLUMNS = ("supplier", "gtin", "name", "packs", "pack_size", "units", "pack_price", "value")


def order_csv(order: dict[str, Any], names: dict[str, str | None]) -> str:
    """The order as the CSV a supplier receives: one row per line with packs."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in order["lines"]:
        if line["packs"] <= 0:
            continue
        writer.writerow(
            (
                order["supplier"],
                line["gtin"],
                names.get(line["gtin"]) or "",
                line["packs"],
                line["pack_size"],
                line["units"],
                line["pack_price"],
                line["value"],
            )
        )
    return out.getvalue()
