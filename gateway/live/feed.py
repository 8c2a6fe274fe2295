"""Turns what the gateway stores into live updates: slot changes from ingest, advice
changes from the advice service, published on a `Broadcaster`.

A camera publishes its whole shelf state every frame; only the slots whose status or
product changed since its last state become an update: the changes the slot log
recorded when the state was stored. Each slot carries the brand and name of its layout
slot, so a brand's stream can keep its own slots only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from edge.contract.messages import ShelfState
from edge.layout import Layout
from gateway.live.updates import Broadcaster, LiveUpdate
from gateway.storage.connection import Database
from gateway.storage.layouts import find_layout
from gateway.storage.transactions import SlotChange

log = logging.getLogger(__name__)

CameraKey = tuple[str, str]
SlotInfo = dict[tuple[int, int], tuple[str | None, str | None]]


class LiveFeed:
    """Slot listener (of ingest) and advice listener that publish on `broadcaster`."""

    def __init__(self, db: Database, broadcaster: Broadcaster) -> None:
        self.db = db
        self.broadcaster = broadcaster
        self._layouts: dict[CameraKey, tuple[str | None, SlotInfo]] = {}

    def slots_changed(self, changed: Sequence[tuple[ShelfState, Sequence[SlotChange]]]) -> None:
        """Slot listener (the ingest thread): each new state with the slots it changed."""
        for state, changes in changed:
            try:
                self._publish(state, changes)
            except Exception:  # a live update must never break ingest
                log.exception("live update of %s/%s failed", state.store, state.camera)

    def _publish(self, state: ShelfState, changes: Sequence[SlotChange]) -> None:
        if not changes or not self.broadcaster.subscribers:
            return
        info = self._slot_info((state.store, state.camera), state.layout_version)
        slots = []
        for change in changes:
            brand, name = info.get((change.row, change.slot), (None, None))
            slots.append(
                {
                    "row": change.row,
                    "slot": change.slot,
                    "sku": change.sku,
                    "name": name,
                    "brand": brand,
                    "status": change.status,
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
        record = find_layout(self.db, *key)
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
