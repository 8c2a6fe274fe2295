"""How each uplink message kind becomes rows of the head office's Parquet tables.

One flat row per fact (a slot's hour, a SKU's hour of sales, a product on a shelf), so
cross-store questions are column scans a distributed engine splits by file. Every row
keeps its message's id (`msg_id`) and the store; `rows_of` also gives the UTC day it
belongs to, which names its partition folder rather than a column of the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pyarrow as pa

from gateway.uplink.contract import (
    DeviceHealth,
    Envelope,
    HourlyRollup,
    HourlySales,
    Kind,
    ProductFacts,
    SlotEvent,
    StoreProfile,
)

STATUSES = ("stocked", "low", "empty", "wrong_product", "messy", "occluded", "unknown")
"""The slot statuses a rollup counts minutes of (edge's SlotStatus values)."""

TS = pa.timestamp("us", tz="UTC")
_COMMON = [("msg_id", pa.string()), ("store", pa.string())]
"""Every table's first columns; `day` and `shard` are the folders' (hive partitions)."""

SCHEMAS: dict[str, pa.Schema] = {
    "events": pa.schema(
        [
            *_COMMON,
            ("camera", pa.string()),
            ("row", pa.int32()),
            ("slot", pa.int32()),
            ("sku", pa.string()),
            ("brand", pa.string()),
            ("event", pa.string()),
            ("status", pa.string()),
            ("at", TS),
        ]
    ),
    "slot_hours": pa.schema(
        [
            *_COMMON,
            ("camera", pa.string()),
            ("hour", TS),
            ("row", pa.int32()),
            ("slot", pa.int32()),
            ("sku", pa.string()),
            ("brand", pa.string()),
            ("facings", pa.int32()),
            ("compliance", pa.float64()),
            *[(f"min_{s}", pa.float64()) for s in STATUSES],
        ]
    ),
    "sales": pa.schema(
        [
            *_COMMON,
            ("hour", TS),
            ("sku", pa.string()),
            ("units", pa.float64()),
            ("revenue", pa.float64()),
            ("currency", pa.string()),
        ]
    ),
    "products": pa.schema(
        [
            *_COMMON,
            ("camera", pa.string()),
            ("layout_version", pa.string()),
            ("at", TS),
            ("row", pa.int32()),
            ("slot", pa.int32()),
            ("sku", pa.string()),
            ("brand", pa.string()),
            ("name", pa.string()),
            ("facings", pa.int32()),
            ("shelf_level", pa.int32()),
            ("share_of_shelf", pa.float64()),
        ]
    ),
    "health": pa.schema(
        [
            *_COMMON,
            ("camera", pa.string()),
            ("at", TS),
            ("online", pa.bool_()),
            ("last_seen", TS),
            ("inference_ms", pa.float64()),
            ("uplink_backlog", pa.int64()),
        ]
    ),
    "profiles": pa.schema(
        [
            *_COMMON,
            ("at", TS),
            ("name", pa.string()),
            ("chain", pa.string()),
            ("format", pa.string()),
            ("region", pa.string()),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
            ("currency", pa.string()),
        ]
    ),
}

TABLE_OF: dict[Kind, str] = {
    Kind.EVENT: "events",
    Kind.ROLLUP: "slot_hours",
    Kind.SALES: "sales",
    Kind.PRODUCTS: "products",
    Kind.HEALTH: "health",
    Kind.PROFILE: "profiles",
}


def _day(value: datetime) -> str:
    return value.date().isoformat()


def _events(env: Envelope, body: SlotEvent) -> Iterator[dict[str, Any]]:
    yield {**body.model_dump(), "day": _day(body.at)}


def _rollup(env: Envelope, body: HourlyRollup) -> Iterator[dict[str, Any]]:
    for slot in body.slots:
        minutes = {f"min_{s}": float(slot.minutes.get(s, 0.0)) for s in STATUSES}
        yield {
            "camera": body.camera,
            "hour": body.hour,
            "day": _day(body.hour),
            "row": slot.row,
            "slot": slot.slot,
            "sku": slot.sku,
            "brand": slot.brand,
            "facings": slot.facings,
            "compliance": body.compliance,
            **minutes,
        }


def _sales(env: Envelope, body: HourlySales) -> Iterator[dict[str, Any]]:
    for line in body.lines:
        yield {
            "hour": body.hour,
            "day": _day(body.hour),
            "sku": line.sku,
            "units": line.units,
            "revenue": line.revenue,
            "currency": body.currency,
        }


def _products(env: Envelope, body: ProductFacts) -> Iterator[dict[str, Any]]:
    for product in body.products:
        yield {
            **product.model_dump(),
            "layout_version": body.layout_version,
            "at": env.at,
            "day": _day(env.at),
        }


def _health(env: Envelope, body: DeviceHealth) -> Iterator[dict[str, Any]]:
    yield {**body.model_dump(), "at": env.at, "day": _day(env.at)}


def _profile(env: Envelope, body: StoreProfile) -> Iterator[dict[str, Any]]:
    yield {**body.model_dump(), "at": env.at, "day": _day(env.at)}


_ROWS: dict[Kind, Callable[[Envelope, Any], Iterator[dict[str, Any]]]] = {
    Kind.EVENT: _events,
    Kind.ROLLUP: _rollup,
    Kind.SALES: _sales,
    Kind.PRODUCTS: _products,
    Kind.HEALTH: _health,
    Kind.PROFILE: _profile,
}


def rows_of(env: Envelope) -> list[dict[str, Any]]:
    """The table rows one envelope becomes, each with its id and store (ValueError naming
    the envelope when its body does not fit its kind)."""
    try:
        body = env.parsed()
    except ValueError as error:
        raise ValueError(f"message {env.id} ({env.kind.value}): {error}") from None
    return [{**row, "msg_id": env.id, "store": env.store} for row in _ROWS[env.kind](env, body)]
