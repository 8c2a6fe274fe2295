"""Each camera's figures for Home Assistant, from what the gateway stored.

The compliance score is the one of the camera's latest state (the node computes it as
the gateway would, `edge.contract.compliance`), as a percentage; empty and low slots are
counted in that state; open advice is the camera's open or acknowledged advice.
"""

from __future__ import annotations

from datetime import UTC, datetime

from edge.contract.advice import Level
from edge.contract.camera_summary import CameraSummary
from gateway.advice.store import ACTIVE, list_advice
from gateway.storage.cameras import find_camera
from gateway.storage.connection import Database

MAX_COUNTED_ADVICE = 10_000


def camera_summary(
    db: Database, store: str, camera: str, now: datetime | None = None
) -> CameraSummary | None:
    """The camera's summary; None for a camera the gateway does not know."""
    record = find_camera(db, store, camera)
    if record is None:
        return None
    state = record["state"] or {}
    slots = state.get("slots") or []
    statuses = [s.get("status") for s in slots]
    score = record["score"]
    advice = list_advice(db, store=store, camera=camera, status=ACTIVE, limit=MAX_COUNTED_ADVICE)
    health = record["health"] or {}
    return CameraSummary(
        store=store,
        camera=camera,
        at=now or datetime.now(UTC),
        online=record["online"],
        compliance_score=None if score is None else round(100.0 * score, 1),
        empty_slots=statuses.count("empty"),
        low_slots=statuses.count("low"),
        slots=len(slots),
        open_advice=len(advice),
        urgent_advice=sum(1 for a in advice if a["level"] == Level.HIGH.value),
        layout_version=record["layout_version"],
        software=health.get("software"),
    )
