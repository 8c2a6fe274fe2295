"""Stores that need a look: cameras that are offline or unseen, and stores whose uplink
has gone quiet (no report for a while), from each camera's latest health report.

Access: admin and merchandisers (a scoped one: its chain's or region's stores).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gateway.auth.access import allow
from gateway.hq.web.backend import Backend
from gateway.hq.web.figures import offline_devices, records
from gateway.hq.web.params import Chain, Region
from gateway.hq.web.scope import CHAIN_READERS, CurrentScope
from gateway.hq.web.selection import store_table

router = APIRouter(prefix="/devices", tags=["devices"], dependencies=[allow(*CHAIN_READERS)])

Reason = Literal["offline", "not seen", "uplink"]


class CameraProblem(BaseModel):
    camera: str
    online: bool = Field(description="What the store's gateway last said.")
    last_seen: datetime | None = Field(description="The camera's last message to its gateway.")
    reported_at: datetime = Field(description="When the gateway sent this report.")
    reasons: list[Reason] = Field(
        description="offline: the gateway says so; not seen: last seen too long ago; "
        "uplink: the store has sent no report for too long."
    )


class StoreProblems(BaseModel):
    store: str
    store_name: str | None
    chain: str | None
    region: str | None
    last_report_at: datetime = Field(description="The store's newest health report.")
    uplink_quiet: bool
    uplink_backlog: int | None = Field(description="Messages waiting in the store's outbox.")
    cameras: list[CameraProblem]


class OfflineOut(BaseModel):
    minutes: float
    checked_at: datetime
    stores: list[StoreProblems]


Minutes = Annotated[
    float, Query(gt=0, le=60 * 24 * 30, description="Quiet for longer than this is a problem.")
]


@router.get("/offline", response_model=OfflineOut)
def offline(
    backend: Backend,
    scope: CurrentScope,
    chain: Chain = None,
    region: Region = None,
    minutes: Minutes = 30,
) -> OfflineOut:
    """Stores with a camera offline or unseen, or an uplink quiet for over `minutes`."""
    narrowed = scope.narrowed(chain, region)
    profiles = backend.result("profiles")
    devices = narrowed.rows(backend.result("devices"), profiles)
    now = datetime.now(UTC)
    problems = offline_devices(devices, pd.Timestamp(now), minutes)
    names = store_table(profiles).set_index("store")
    stores = []
    for store, group in problems.groupby("store"):
        everything = devices[devices["store"] == store]
        info = names.loc[store] if store in names.index else None
        stores.append(
            StoreProblems(
                store=str(store),
                store_name=_text(info, "store_name"),
                chain=_text(info, "chain"),
                region=_text(info, "region"),
                last_report_at=everything["at"].max(),
                uplink_quiet=any("uplink" in r for r in group["reasons"]),
                uplink_backlog=_count(everything["uplink_backlog"].max()),
                cameras=[
                    CameraProblem(
                        camera=r["camera"],
                        online=bool(r["online"]),
                        last_seen=r["last_seen"],
                        reported_at=r["at"],
                        reasons=r["reasons"],
                    )
                    for r in records(group)
                ],
            )
        )
    return OfflineOut(minutes=minutes, checked_at=now, stores=stores)


def _text(info: pd.Series | None, key: str) -> str | None:
    value = None if info is None else info.get(key)
    return value if isinstance(value, str) else None


def _count(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]
