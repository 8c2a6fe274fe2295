"""Display compliance at the gateway, reproduced from the stored slot states.

The score is defined once, in `edge.contract.compliance`; here it is fed from the
`slot_states` change log (each row holds until the slot's next row) and the camera's
stored layout, so any past moment can be scored, and the latest score matches what the
node published. An occluded slot counts as the status it had before it was hidden: the
last row of that slot that was not `occluded`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from edge.contract.compliance import Compliance, compliance, effective_status
from edge.contract.messages import SlotStatus
from edge.layout import Layout
from gateway.storage.connection import Database
from gateway.storage.layouts import find_layout
from gateway.storage.slot_log import slot_history
from gateway.storage.sql import db_time

SlotKey = tuple[int, int]


def statuses_at(
    history: Iterable[Mapping[str, Any]], at: datetime | None = None
) -> dict[SlotKey, SlotStatus | None]:
    """Each slot's effective status at `at` (default: the latest) from change-log rows
    in time order (`Database.slot_history`)."""
    limit = db_time(at) if at is not None else None
    current: dict[SlotKey, SlotStatus] = {}
    seen: dict[SlotKey, SlotStatus] = {}
    for row in history:
        if limit is not None and row["ts"] > limit:
            break
        key = (row["row"], row["slot"])
        status = SlotStatus(row["status"])
        current[key] = status
        if status != SlotStatus.OCCLUDED:
            seen[key] = status
    return {key: effective_status(status, seen.get(key)) for key, status in current.items()}


def camera_compliance(
    db: Database,
    store: str,
    camera: str,
    at: datetime | None = None,
    skus: Collection[str] | None = None,
) -> Compliance | None:
    """The camera's compliance at `at` (default: now); None without a stored layout.
    With `skus`, over the slots holding those products only (one brand's score)."""
    record = find_layout(db, store, camera)
    if record is None:
        return None
    layout = Layout.model_validate(record["layout"])
    if skus is not None:
        layout = _cut_to(layout, skus)
    return compliance(layout, statuses_at(slot_history(db, store, camera), at))


def _cut_to(layout: Layout, skus: Collection[str]) -> Layout:
    rows = [
        row.model_copy(update={"slots": [s for s in row.slots if s.sku in skus]})
        for row in layout.rows
    ]
    return layout.model_copy(update={"rows": rows})
