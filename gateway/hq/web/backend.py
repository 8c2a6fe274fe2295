"""What the head office's web layer reads (`HqBackend`), and how a route gets it.

The pages read the small precomputed results of `gateway.hq.analytics` (brand x store x
day, SKU x store x day, store x day, products, devices, profiles), never the slot log:
a brand's page for a thousand stores reads a few thousand rows. `ResultsBackend` keeps
each result in memory and reloads it when `analytics.refresh` has replaced its file,
and indexes the brand results by brand once per load, so a brand's request picks its
rows without scanning everyone's.

`create_hq_app` stores the backend on `app.state` once; a route asks for it with the
`Backend` dependency (`backend: Backend`), as the store gateway's routes do.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal, Protocol, runtime_checkable

import pandas as pd
from fastapi import Depends, Request

from gateway.config.settings import AuthSettings
from gateway.hq.analytics import RESULTS, load_result
from gateway.hq.assortment import ADD_COLUMNS, DELIST_COLUMNS
from gateway.hq.price_reference import REFERENCE_COLUMNS
from gateway.storage.connection import Database

ResultName = Literal[
    "brand_store_days",
    "sku_store_days",
    "store_days",
    "products",
    "devices",
    "profiles",
    "store_prices",
    "price_references",
    "assortment_adds",
    "assortment_delists",
]
BRAND_RESULTS: tuple[ResultName, ...] = (
    "brand_store_days",
    "sku_store_days",
    "products",
    "store_prices",
)
"""The results with a `brand` column, indexed by brand."""

_KEYS = {
    "brand",
    "store",
    "sku",
    "day",
    "camera",
    "name",
    "chain",
    "region",
    "format",
    "currency",
    "basis",
    "evidence",
    "give_to_sku",
    "give_to_name",
    "give_to_kind",
}
COLUMNS: dict[str, list[str]] = {
    "brand_store_days": [
        "brand",
        "store",
        "day",
        "min_stocked",
        "min_low",
        "min_messy",
        "observed_min",
        "oos_hours",
        "units",
        "revenue",
        "lost_sales",
        "osa",
        "facing_compliance",
        "facings",
        "share_of_shelf",
        "shelf_level",
    ],
    "sku_store_days": [
        "store",
        "sku",
        "brand",
        "day",
        "min_stocked",
        "min_low",
        "min_empty",
        "min_wrong_product",
        "min_messy",
        "min_occluded",
        "min_unknown",
        "units",
        "revenue",
        "observed_min",
        "osa",
        "facing_compliance",
        "oos_hours",
        "price",
        "lost_units",
        "lost_sales",
    ],
    "store_days": [
        "store",
        "day",
        "min_stocked",
        "min_low",
        "min_messy",
        "min_empty",
        "min_wrong_product",
        "osa",
        "oos_hours",
        "compliance",
    ],
    "products": [
        "store",
        "camera",
        "at",
        "row",
        "slot",
        "sku",
        "brand",
        "name",
        "facings",
        "shelf_level",
        "share_of_shelf",
        "day",
    ],
    "devices": [
        "store",
        "camera",
        "at",
        "online",
        "last_seen",
        "inference_ms",
        "uplink_backlog",
        "day",
    ],
    "profiles": [
        "store",
        "at",
        "name",
        "chain",
        "format",
        "region",
        "lat",
        "lon",
        "currency",
        "day",
    ],
    "store_prices": [
        "store",
        "sku",
        "units",
        "revenue",
        "price",
        "days",
        "per_week",
        "brand",
        "name",
    ],
    "price_references": list(REFERENCE_COLUMNS),
    "assortment_adds": list(ADD_COLUMNS),
    "assortment_delists": list(DELIST_COLUMNS),
}
"""The columns the routes read of each result: what an empty result (before the first
refresh, or a refresh over no data) is given, so no route needs a special case."""

_BOOKKEEPING = ["msg_id", "shard"]
"""Columns of the stored rows that say where a row came from, not what it means."""


@runtime_checkable
class HqBackend(Protocol):
    """Everything the HQ routes, pages and access control read."""

    @property
    def users_db(self) -> Database:
        """The head office's own users, sessions and API tokens (open)."""
        ...

    @property
    def auth(self) -> AuthSettings:
        """Sessions, cookies, trusted origins and the login throttle."""
        ...

    def result(self, name: ResultName) -> pd.DataFrame:
        """A whole result (empty before the first `analytics.refresh`); do not modify."""
        ...

    def brand_rows(self, name: ResultName, brand: str) -> pd.DataFrame:
        """The rows of one brand (matched case-insensitively) of a brand result."""
        ...

    def refreshed_at(self) -> datetime | None:
        """When the results were last written; None before the first refresh."""
        ...


@dataclass(frozen=True)
class _Loaded:
    signature: tuple[int, int]
    frame: pd.DataFrame
    by_brand: dict[str, pd.DataFrame]


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype=object if c in _KEYS else "float64") for c in COLUMNS[name]}
    )


def _normalised(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Plain columns: partition folders come back as categoricals, days as text; an
    empty result gets its columns."""
    if frame.empty:
        return _empty(name)
    frame = frame.drop(columns=[c for c in _BOOKKEEPING if c in frame.columns])
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(str)
    return frame


def _by_brand(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    if frame.empty or "brand" not in frame.columns:
        return {}
    keys = frame["brand"].fillna("").astype(str).str.casefold()
    return {key: frame.iloc[rows] for key, rows in frame.groupby(keys).indices.items()}


class ResultsBackend:
    """The results folder under `root` (`<root>/results/*.parquet`) and the users' database."""

    def __init__(self, root: str | Path, users_db: Database, auth: AuthSettings | None = None):
        self.root = Path(root)
        self._users_db = users_db
        self._auth = auth or AuthSettings()
        self._lock = threading.Lock()
        self._loaded: dict[str, _Loaded] = {}

    @property
    def users_db(self) -> Database:
        return self._users_db

    @property
    def auth(self) -> AuthSettings:
        return self._auth

    def _path(self, name: str) -> Path:
        return self.root / RESULTS / f"{name}.parquet"

    def _signature(self, name: str) -> tuple[int, int]:
        try:
            stat = self._path(name).stat()
        except FileNotFoundError:
            return (0, 0)
        return (stat.st_mtime_ns, stat.st_size)

    def _get(self, name: ResultName) -> _Loaded:
        signature = self._signature(name)
        with self._lock:
            loaded = self._loaded.get(name)
            if loaded is not None and loaded.signature == signature:
                return loaded
        frame = _normalised(name, load_result(self.root, name))
        indexed = _by_brand(frame) if name in BRAND_RESULTS else {}
        loaded = _Loaded(signature, frame, indexed)
        with self._lock:
            self._loaded[name] = loaded
        return loaded

    def result(self, name: ResultName) -> pd.DataFrame:
        return self._get(name).frame

    def brand_rows(self, name: ResultName, brand: str) -> pd.DataFrame:
        loaded = self._get(name)
        rows = loaded.by_brand.get(brand.casefold())
        return rows if rows is not None else loaded.frame.iloc[0:0]

    def refreshed_at(self) -> datetime | None:
        times = [self._signature(name)[0] for name in BRAND_RESULTS]
        newest = max(times, default=0)
        return datetime.fromtimestamp(newest / 1e9, UTC) if newest else None


def get_backend(request: Request) -> HqBackend:
    """The backend `create_hq_app` stored on the app."""
    backend: HqBackend = request.app.state.hq_backend
    return backend


Backend = Annotated[HqBackend, Depends(get_backend)]
"""A route parameter `backend: Backend` receives the app's backend."""
