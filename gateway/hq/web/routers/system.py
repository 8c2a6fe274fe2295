"""`/api/health`: the HQ web app answers, and when the results were last computed.

Public (for load balancers and monitoring): it names no store, brand or figure.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gateway.auth.access import public
from gateway.hq.web.backend import Backend

router = APIRouter(tags=["system"])


class HealthOut(BaseModel):
    status: str = "ok"
    results_at: datetime | None = Field(
        description="When `analytics.refresh` last wrote the results; None before the first."
    )


@router.get("/health", response_model=HealthOut, dependencies=[public()])
def health(backend: Backend) -> HealthOut:
    """Whether the app answers, and how fresh the figures are."""
    return HealthOut(results_at=backend.refreshed_at())
