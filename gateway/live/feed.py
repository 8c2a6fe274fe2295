"""Turns what the gateway stores into live updates: slot changes from ingest, advice
changes from the advice service, published on a `Broadcaster`.

A camera publishes its whole shelf state every frame; only the slots whose status or
product changed since its last state become an update. Each slot carries the brand
and name of its layout slot, so a brand's stream can keep its own slots only.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from edge.contract.messages import ShelfState
from edge.layout import Layout
from gateway.live.updates import Broadcaster, LiveUpdate
from gateway.storage.database import Database

log = logging.getLogger(__name__)

CameraKey = tuple[str, str]
SlotInfo = dict[tuple[int, int], tuple[str | None, str | None]]


class LiveFeed:
    """Ingest listener and advice listener that publish on `broadcaster`."""

    def __init__(self, db: Database, broadcaster: Broadcaster) -> None:
        self.db = db
        self.broadcaster = broadcaster
        self._last: dict[CameraKey, dict[tuple[int, int], tuple[str | None, str]]] = {}
        self._layouts: dict[CameraKey, tuple[str | None, SlotInfo]] = {}
        self._lock = threading.Lock()

    def on_stored(self, stored: Sequence[tuple[BaseModel, datetime]]) -> None:
        """Ingest listener (the ingest thread): publish changed slots of new states."""
        for message, _ in stored:
            if isinstance(message, ShelfState):
                try:
                    self._state(message)
                except Exception:  # a live update must never break ingest
                    log.exception("live update of %s/%s failed", message.store, message.camera)

    def _state(self, state: ShelfState) -> None:
        key = (state.store, state.camera)
        with self._lock:
            last = self._last.setdefault(key, {})
            changed = []
            for reading in state.slots:
                now = (reading.sku, reading.status.value)
                if last.get((reading.row, reading.slot)) != now:
                    last[(reading.row, reading.slot)] = now
                    changed.append(reading)
        if not changed or not self.broadcaster.subscribers:
            return
        info = self._slot_info(key, state.layout_version)
        slots = []
        for reading in changed:
            brand, name = info.get((reading.row, reading.slot), (None, None))
            slots.append(
                {
                    "row": reading.row,
                    "slot": reading.slot,
                    "sku": reading.sku,
                    "name": name,
                    "brand": brand,
                    "status": reading.status.value,
                }
            )
        data = {
            "store": state.store,
            "camera": state.camera,
            "ts": state.ts.isoformat(),
            "score": state.score,
            "slots": slots,
        }
        self.broadcaster.publish(LiveUpdate("slots", state.store, data))

    def _slot_info(self, key: CameraKey, version: str | None) -> SlotInfo:
        """(brand, name) of each slot from the stored layout, read again on a new version."""
        cached = self._layouts.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        record = self.db.layout(*key)
        info: SlotInfo = {}
        if record is not None:
            layout = Layout.model_validate(record["layout"])
            info = {(r.index, s.index): (s.brand, s.name) for r, s, _ in layout.slot_boxes()}
        self._layouts[key] = (version, info)
        return info

    def advice_changed(self, records: Sequence[dict[str, Any]]) -> None:
        """Advice listener: each changed advice record, as the API returns it."""
        for record in records:
            data = json.loads(json.dumps(record, default=str))
            self.broadcaster.publish(LiveUpdate("advice", record["store"], data))
