"""The rows one request may use: the caller's scope, the filters it asked for and the
day range, applied in that order to one saved result before any figure is computed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from gateway.hq.web.backend import HqBackend, ResultName
from gateway.hq.web.figures import day_range, in_range
from gateway.hq.web.scope import Scope

STORE_COLUMNS = ["store", "store_name", "chain", "region", "currency"]


@dataclass(frozen=True)
class Filters:
    """What the caller asked to narrow to (each None: not narrowed)."""

    chain: str | None = None
    region: str | None = None
    store: str | None = None
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class Selected:
    rows: pd.DataFrame
    since: date
    until: date
    stores: pd.DataFrame
    """Name, chain, region and currency of every store in the caller's scope."""

    def currency(self, stores: pd.Series) -> str | None:
        """The one currency of these stores (None when they use several or none)."""
        found = set(self.stores.loc[self.stores["store"].isin(stores), "currency"].dropna())
        return found.pop() if len(found) == 1 else None

    def with_stores(self, table: pd.DataFrame) -> pd.DataFrame:
        """`table` (with a `store` column) joined with each store's name, chain, region."""
        return table.merge(self.stores, on="store", how="left")


def store_table(profiles: pd.DataFrame) -> pd.DataFrame:
    if profiles.empty:
        return pd.DataFrame(columns=STORE_COLUMNS)
    table = profiles.rename(columns={"name": "store_name"})
    return table[STORE_COLUMNS].drop_duplicates("store")


def select(
    backend: HqBackend,
    scope: Scope,
    result: ResultName,
    filters: Filters,
    brand: str | None = None,
) -> Selected:
    """The rows of `result` this caller may see and asked for; a brand's rows only when
    `brand` is given (403 first when the caller may not see that brand)."""
    if brand is not None:
        scope.check_brand(brand)
    narrowed = scope.narrowed(filters.chain, filters.region)
    profiles = backend.result("profiles")
    if filters.store is not None:
        narrowed.check_store(filters.store, profiles)
    rows = backend.brand_rows(result, brand) if brand is not None else backend.result(result)
    rows = narrowed.rows(rows, profiles)
    if filters.store is not None and not rows.empty:
        rows = rows[rows["store"] == filters.store]
    since, until = day_range(rows, filters.since, filters.until)
    return Selected(
        in_range(rows, since, until), since, until, store_table(narrowed.stores(profiles))
    )
