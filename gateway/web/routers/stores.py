"""`/api/stores/{store}`: delete a whole store (admin only).

Every camera of the store goes with all its rows (state, slot log, events, health,
layout, settings, advice), and the store's sale lines too, so nothing of it stays in
pickers, Devices, reports or a brand's audit. Users, the catalogue and sales import
batch records are kept (storage/removal.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from gateway.auth.access import allow
from gateway.storage.cameras import known_cameras
from gateway.web.backend import Backend
from gateway.web.params import StoreId
from gateway.web.routers.removal_models import RemovedOut

router = APIRouter(tags=["stores"])


@router.delete(
    "/stores/{store}",
    response_model=RemovedOut,
    responses={404: {"description": "The gateway knows nothing of this store"}},
    dependencies=[allow("admin")],
)
def delete_store(store: StoreId, backend: Backend) -> dict[str, Any]:
    """Delete a store: all its cameras with every row of theirs, and its sale lines.
    Each camera's retained topics are cleared on the broker and the advice engine
    forgets the store. Stop the store's nodes first: a camera that still sends comes
    back as a new one. Answers what was removed, per table."""
    cameras = sorted(c for s, c in known_cameras(backend.db) if s == store)
    with backend.db.transaction() as tx:
        removed = tx.delete_store(store)
    if not removed:
        raise HTTPException(404, f"unknown store {store}")
    for camera in cameras:
        backend.camera_removed(store, camera)
    backend.sales_removed([store])
    return {"store": store, "camera": None, "removed": removed}
