"""`/api/health` (is the gateway working) and `/api/dead-letters` (what it could not use)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gateway.auth.access import allow, public
from gateway.config.version import package_version
from gateway.storage.dead_letters import list_dead_letters
from gateway.web.backend import Backend
from gateway.web.params import MAX_LIMIT

router = APIRouter(tags=["system"])


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="ok when the database answers and the broker is connected."
    )
    version: str
    broker_connected: bool
    db_ok: bool
    counters: dict[str, int] = Field(
        description="Since start: received, stored, duplicates, stale, ignored, "
        "dead_letters, dropped, batches, queue_depth; with InfluxDB export on, also "
        "influx_queued, influx_written, influx_dropped, influx_rejected, influx_failures, "
        "influx_queue_depth."
    )


class DeadLetterOut(BaseModel):
    id: int
    received_at: datetime
    topic: str
    reason: str = Field(description="Names the topic and the field or line at fault.")
    size: int = Field(description="Payload size in bytes (the payload shown may be cut).")
    payload: str


@router.get("/health", response_model=HealthResponse, dependencies=[public()])
def health(backend: Backend) -> HealthResponse:
    """Is the gateway working: database, broker connection and ingest counters.
    Open to anyone (for monitoring): it names no store, camera, brand or product."""
    db_ok = backend.db.ping()
    connected = backend.broker_connected
    return HealthResponse(
        status="ok" if db_ok and connected else "degraded",
        version=package_version(),
        broker_connected=connected,
        db_ok=db_ok,
        counters=backend.counters,
    )


@router.get("/dead-letters", response_model=list[DeadLetterOut], dependencies=[allow("admin")])
def dead_letters(
    backend: Backend, limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100
) -> list[dict[str, Any]]:
    """Messages the gateway could not use, newest first, with the reason."""
    return list_dead_letters(backend.db, limit)
