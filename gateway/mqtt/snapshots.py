"""The latest snapshot of each camera, kept in memory only, and waiting for an answer.

A snapshot is asked for (calibration), shown, and forgotten: images are never written
to the gateway's disk, and a restart drops them. Snapshot messages are not ingest's
business (the payloads are large and not history); the gateway routes them here.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from edge.contract.messages import Snapshot

log = logging.getLogger(__name__)

CameraKey = tuple[str, str]

MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024
"""A snapshot payload larger than this is refused (a 4K JPEG in base64 is well under)."""


class SnapshotUnavailable(RuntimeError):
    """A snapshot cannot be asked for now (no broker connection)."""


@dataclass(frozen=True)
class StoredSnapshot:
    """One answer as received: the payload (JPEG decoded) and when it arrived."""

    snapshot: Snapshot
    jpeg: bytes | None
    received_at: datetime


class SnapshotStore:
    """camera -> its last snapshot answer; `wait()` blocks until a given request's."""

    def __init__(self) -> None:
        self._latest: dict[CameraKey, StoredSnapshot] = {}
        self._changed = threading.Condition()
        self.rejected = 0

    def receive(self, store: str, camera: str, payload: bytes) -> StoredSnapshot | None:
        """Keep a snapshot message from the camera's topic; a bad one is logged and dropped."""
        where = f"snapshot of {store}/{camera}"
        try:
            if len(payload) > MAX_SNAPSHOT_BYTES:
                raise ValueError(f"{len(payload)} bytes exceeds {MAX_SNAPSHOT_BYTES}")
            snapshot = Snapshot.model_validate_json(payload)
            if (snapshot.store, snapshot.camera) != (store, camera):
                raise ValueError("store/camera do not match the topic")
            jpeg = (
                base64.b64decode(snapshot.jpeg_base64, validate=True)
                if snapshot.jpeg_base64
                else None
            )
        except (ValidationError, ValueError) as error:
            self.rejected += 1
            log.warning("%s dropped: %s", where, error)
            return None
        stored = StoredSnapshot(snapshot, jpeg, datetime.now(UTC))
        with self._changed:
            self._latest[(store, camera)] = stored
            self._changed.notify_all()
        return stored

    def latest(self, store: str, camera: str) -> StoredSnapshot | None:
        with self._changed:
            return self._latest.get((store, camera))

    def wait(
        self, store: str, camera: str, request_id: str, timeout: float
    ) -> StoredSnapshot | None:
        """The answer to `request_id`, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                stored = self._latest.get((store, camera))
                if stored is not None and stored.snapshot.request_id == request_id:
                    return stored
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
