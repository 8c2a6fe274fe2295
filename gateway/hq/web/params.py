"""Query parameters the HQ routers share, so each rule is written once."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Query

from edge.contract.ids import ID_PATTERN
from gateway.hq.web.figures import Step
from gateway.hq.web.selection import Filters

Since = Annotated[
    date | None, Query(description="First day (UTC, YYYY-MM-DD); default: 28 days before until.")
]
Until = Annotated[
    date | None,
    Query(description="Last day (UTC, YYYY-MM-DD), included; default: the last day with data."),
]
StepParam = Annotated[
    Step, Query(description="One point per day or per week (weeks start on Monday).")
]
Chain = Annotated[str | None, Query(max_length=100, description="Only the stores of this chain.")]
Region = Annotated[str | None, Query(max_length=100, description="Only the stores of this region.")]
Store = Annotated[str | None, Query(pattern=ID_PATTERN, description="Only this store.")]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many rows.")]
Brand = Annotated[str, Path(min_length=1, max_length=100, description="A brand name (any case).")]


def _filters(
    chain: Chain = None,
    region: Region = None,
    store: Store = None,
    since: Since = None,
    until: Until = None,
) -> Filters:
    return Filters(chain=chain, region=region, store=store, since=since, until=until)


FilterParams = Annotated[Filters, Depends(_filters)]
"""A route parameter of this type reads `chain`, `region`, `store`, `since` and `until`."""
