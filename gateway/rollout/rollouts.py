"""Staged model roll-outs: canaries first, the rest on their success, one-click roll-back.

A roll-out announces one stored model to a set of cameras in two waves. The canaries
(named, or a share of the cameras) get the retained `…/model` announcement at once; the
rest get it when the roll-out is promoted, which is refused until every canary has
reported `switched` (or done by itself, with `auto_promote`). Each camera's report on
`…/rollout` is kept per roll-out, so an admin sees which camera refused and why.

Roll-back re-announces to each camera of the roll-out the announcement it had before
(another roll-out's, or none: then the node runs the model of its own config), for the
cameras whose current announcement is still this roll-out's. `model_assignments` holds
each camera's current announcement; the gateway republishes them on every start.
"""

from __future__ import annotations

import hmac
import json
import math
import random
import secrets
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from edge.contract.model_rollout import (
    ModelAnnouncement,
    ModelFile,
    RolloutOutcome,
    RolloutStatus,
)
from gateway.config.settings import RolloutSettings
from gateway.rollout.model_store import ModelStore, Upload
from gateway.rollout.signing import SigningKey, load_signing_key
from gateway.storage.cameras import known_cameras
from gateway.storage.connection import Database
from gateway.storage.sql import db_time
from gateway.storage.transactions import Transaction

Camera = tuple[str, str]
Publish = Callable[[str, str, bytes | None], None]
"""(store, camera, announcement JSON or None to withdraw) -> None: the MQTT link's."""

CANARY, COMPLETE, ROLLED_BACK = "canary", "complete", "rolled_back"


class RolloutError(ValueError):
    """A roll-out action that cannot be done; the message says why."""


class RolloutNotFound(RolloutError):
    """No such model or roll-out."""


class RolloutConflict(RolloutError):
    """Not now: another roll-out is in its canary stage, or the canaries have not all
    succeeded, or it was rolled back already."""


def download_path(version: str, name: str) -> str:
    """The web app's route serving a stored model file (gateway.web.routers.rollouts)."""
    return f"/api/models/{version}/files/{name}"


class RolloutService:
    """Uploads, roll-outs and the nodes' reports over one database; `attach` gives it
    the MQTT link's publish."""

    def __init__(self, db: Database, settings: RolloutSettings, models: ModelStore) -> None:
        self.db = db
        self.settings = settings
        self.models = models
        self._publish: Publish | None = None
        self._key: SigningKey | None = None
        self._lock = threading.Lock()  # one roll-out action at a time (API and MQTT threads)

    def attach(self, publish: Publish) -> None:
        self._publish = publish

    @property
    def signing_key(self) -> SigningKey:
        """Loaded once; SigningKeyError when the config names none or a bad one."""
        if self._key is None:
            self._key = load_signing_key(self.settings.signing_key)
        return self._key

    # ---- models ----------------------------------------------------------------------

    def upload(self, version: str, uploads: list[Upload], by: str | None) -> dict[str, Any]:
        """Store and sign a model pair (ModelUploadError, SigningKeyError)."""
        return self.models.add(version, uploads, self.signing_key, by)

    def token_allows(self, version: str, token: str) -> bool:
        """Whether `token` is the download token of a live roll-out of `version`."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT token FROM rollouts WHERE version = ? AND stage != ?",
                (version, ROLLED_BACK),
            ).fetchall()
        return any(hmac.compare_digest(r["token"], token) for r in rows)

    # ---- roll-outs -------------------------------------------------------------------

    def start(
        self,
        version: str,
        *,
        cameras: Iterable[Camera] | None = None,
        canaries: Iterable[Camera] | None = None,
        canary_share: float | None = None,
        auto_promote: bool = False,
        by: str | None = None,
    ) -> dict[str, Any]:
        """Announce `version` to the canaries of `cameras` (default: every known camera);
        the rest wait for `promote`. Canaries: those named, else a share of the cameras
        (at least one), drawn the same way for the same version."""
        if self.models.find(version) is None:
            raise RolloutNotFound(f"no model of version {version!r} is stored")
        if self.settings.download_url is None:
            raise RolloutError(
                "rollouts.download_url is not set: the nodes would not know where to download"
            )
        targets = sorted(set(cameras) if cameras is not None else known_cameras(self.db))
        if not targets:
            raise RolloutError("no cameras to roll out to (none known yet)")
        first = self._canaries(version, targets, canaries, canary_share)
        with self._lock:
            active = self._active_canary()
            if active is not None:
                raise RolloutConflict(
                    f"roll-out {active} is still in its canary stage: promote or roll it back first"
                )
            now = datetime.now(UTC)
            with self.db.transaction() as tx:
                rollout_id = tx.execute(
                    "INSERT INTO rollouts (version, token, stage, auto_promote, created_at,"
                    " created_by) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        version,
                        secrets.token_urlsafe(24),
                        CANARY if len(first) < len(targets) else COMPLETE,
                        int(auto_promote),
                        db_time(now),
                        by,
                    ),
                ).lastrowid
                assert rollout_id is not None
                for store, camera in targets:
                    wave = "canary" if (store, camera) in first else "rest"
                    tx.execute(
                        "INSERT INTO rollout_cameras (rollout_id, store, camera, wave)"
                        " VALUES (?, ?, ?, ?)",
                        (rollout_id, store, camera, wave),
                    )
                announced = [self._assign(tx, rollout_id, c, now) for c in sorted(first)]
            self._send(announced)
        return self.find(rollout_id)

    def _canaries(
        self,
        version: str,
        targets: list[Camera],
        canaries: Iterable[Camera] | None,
        share: float | None,
    ) -> set[Camera]:
        if canaries is not None:
            chosen = set(canaries)
            strangers = sorted(chosen - set(targets))
            if strangers:
                names = ", ".join(f"{s}/{c}" for s, c in strangers)
                raise RolloutError(f"canaries {names} are not among the roll-out's cameras")
            if not chosen:
                raise RolloutError("name at least one canary camera (or leave them out)")
            return chosen
        share = self.settings.canary_share if share is None else share
        count = min(len(targets), max(1, math.ceil(share * len(targets))))
        return set(random.Random(version).sample(targets, count))

    def promote(self, rollout_id: int, *, force: bool = False) -> dict[str, Any]:
        """Announce the roll-out to the rest of its cameras: refused while a canary has
        not reported `switched`, unless `force`."""
        with self._lock:
            rollout = self._require(rollout_id)
            if rollout["stage"] != CANARY:
                raise RolloutConflict(f"roll-out {rollout_id} is {rollout['stage']}, not canary")
            waiting = [c for c in rollout["cameras"] if c["wave"] == "canary"]
            failing = [c for c in waiting if c["outcome"] != RolloutOutcome.SWITCHED.value]
            if failing and not force:
                raise RolloutConflict(
                    "not every canary runs the model yet: "
                    + "; ".join(_canary_problem(c) for c in failing)
                )
            now = datetime.now(UTC)
            with self.db.transaction() as tx:
                rest = [
                    (c["store"], c["camera"])
                    for c in rollout["cameras"]
                    if c["announced_at"] is None
                ]
                announced = [self._assign(tx, rollout_id, c, now) for c in rest]
                tx.execute(
                    "UPDATE rollouts SET stage = ?, promoted_at = ? WHERE id = ?",
                    (COMPLETE, db_time(now), rollout_id),
                )
            self._send(announced)
        return self.find(rollout_id)

    def rollback(self, rollout_id: int) -> dict[str, Any]:
        """Give each camera that still has this roll-out's announcement the one it had
        before (none: its own configured model); the roll-out's token stops working."""
        with self._lock:
            rollout = self._require(rollout_id)
            if rollout["stage"] == ROLLED_BACK:
                raise RolloutConflict(f"roll-out {rollout_id} is rolled back already")
            now = datetime.now(UTC)
            sends: list[tuple[Camera, bytes | None]] = []
            with self.db.transaction() as tx:
                for cam in rollout["cameras"]:
                    key = (cam["store"], cam["camera"])
                    current = tx.execute(
                        "SELECT rollout_id FROM model_assignments WHERE store = ? AND camera = ?",
                        key,
                    ).fetchone()
                    if current is None or current[0] != rollout_id:
                        continue
                    previous = cam["previous_rollout_id"]
                    if previous is None:
                        tx.execute(
                            "DELETE FROM model_assignments WHERE store = ? AND camera = ?", key
                        )
                        sends.append((key, None))
                    else:
                        sends.append(self._assign(tx, previous, key, now, record=False))
                tx.execute(
                    "UPDATE rollouts SET stage = ?, rolled_back_at = ? WHERE id = ?",
                    (ROLLED_BACK, db_time(now), rollout_id),
                )
            self._send(sends)
        return self.find(rollout_id)

    def _assign(
        self, tx: Transaction, rollout_id: int, camera: Camera, now: datetime, record: bool = True
    ) -> tuple[Camera, bytes]:
        """Make `rollout_id` the camera's announcement (noting the one it replaces when
        `record`); returns what to publish once the transaction is committed."""
        if record:
            before = tx.execute(
                "SELECT rollout_id FROM model_assignments WHERE store = ? AND camera = ?", camera
            ).fetchone()
            tx.execute(
                "UPDATE rollout_cameras SET announced_at = ?, previous_rollout_id = ?,"
                " outcome = NULL, reason = NULL, reported_at = NULL, check_json = NULL"
                " WHERE rollout_id = ? AND store = ? AND camera = ?",
                (db_time(now), before[0] if before else None, rollout_id, *camera),
            )
        tx.execute(
            "INSERT INTO model_assignments (store, camera, rollout_id, announced_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (store, camera) DO UPDATE SET"
            " rollout_id = excluded.rollout_id, announced_at = excluded.announced_at",
            (*camera, rollout_id, db_time(now)),
        )
        row = tx.execute(
            "SELECT version, token FROM rollouts WHERE id = ?", (rollout_id,)
        ).fetchone()
        return camera, self.announcement(rollout_id, row[0], row[1]).to_json()

    def announcement(self, rollout_id: int, version: str, token: str) -> ModelAnnouncement:
        """What a camera of the roll-out is told: the signed files and where they are."""
        model = self.models.find(version)
        if model is None:
            raise RolloutNotFound(f"model {version} of roll-out {rollout_id} is not stored")
        base = self.settings.download_url or ""
        files = [
            ModelFile(**f, url=base + download_path(version, f["name"])) for f in model["files"]
        ]
        return ModelAnnouncement(
            version=version,
            rollout=rollout_id,
            files=files,
            signature=model["signature"],
            key_id=model["key_id"],
            token=token,
        )

    def _send(self, announcements: list[tuple[Camera, bytes | None]]) -> None:
        if self._publish is None:
            return
        for (store, camera), payload in announcements:
            self._publish(store, camera, payload)

    def republish(self) -> None:
        """Hand every camera's current announcement to the link (at start)."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT a.store, a.camera, r.id, r.version, r.token FROM model_assignments a"
                " JOIN rollouts r ON r.id = a.rollout_id"
            ).fetchall()
        sends = []
        for row in rows:
            announcement = self.announcement(row["id"], row["version"], row["token"])
            sends.append(((row["store"], row["camera"]), announcement.to_json()))
        self._send(sends)

    # ---- the nodes' reports ----------------------------------------------------------

    def record_status(self, status: RolloutStatus) -> None:
        """Keep a node's report on the roll-out it answers (a withdrawal's answer, which
        names none, on the camera's latest announced roll-out); promote a roll-out with
        `auto_promote` once its canaries all run the model."""
        key = (status.store, status.camera)
        with self._lock:
            with self.db.transaction() as tx:
                rollout_id = status.rollout
                if rollout_id is None:
                    row = tx.execute(
                        "SELECT max(rollout_id) FROM rollout_cameras WHERE store = ? AND"
                        " camera = ? AND announced_at IS NOT NULL",
                        key,
                    ).fetchone()
                    rollout_id = row[0] if row else None
                if rollout_id is None:
                    return
                # A withdrawal's answer does not hide why a camera refused the model.
                keep_refusal = (
                    " AND outcome IS NOT 'rejected'"
                    if status.outcome is RolloutOutcome.REVERTED
                    else ""
                )
                tx.execute(
                    "UPDATE rollout_cameras SET outcome = ?, reason = ?, running_version = ?,"
                    " check_json = ?, reported_at = ? WHERE rollout_id = ? AND store = ?"
                    " AND camera = ?" + keep_refusal,
                    (
                        status.outcome.value,
                        status.reason,
                        status.running_version,
                        status.check.model_dump_json() if status.check else None,
                        db_time(status.ts),
                        rollout_id,
                        *key,
                    ),
                )
            rollout = self.find(rollout_id)
        if rollout and rollout["stage"] == CANARY and rollout["auto_promote"]:
            canaries = [c for c in rollout["cameras"] if c["wave"] == "canary"]
            if all(c["outcome"] == RolloutOutcome.SWITCHED.value for c in canaries):
                self.promote(rollout_id)

    # ---- reads -----------------------------------------------------------------------

    def _active_canary(self) -> int | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT id FROM rollouts WHERE stage = ? ORDER BY id DESC LIMIT 1", (CANARY,)
            ).fetchone()
        return row["id"] if row else None

    def _require(self, rollout_id: int) -> dict[str, Any]:
        rollout = self.find(rollout_id)
        if rollout is None:
            raise RolloutNotFound(f"no roll-out {rollout_id}")
        return rollout

    def find(self, rollout_id: int) -> dict[str, Any] | None:
        found = self.all(rollout_id)
        return found[0] if found else None

    def all(self, rollout_id: int | None = None) -> list[dict[str, Any]]:
        """Roll-outs, newest first, each with its cameras' waves and reports."""
        one = rollout_id is not None
        params = (rollout_id,) if one else ()
        with self.db.read() as conn:
            rollouts = conn.execute(
                f"SELECT * FROM rollouts {'WHERE id = ?' if one else ''} ORDER BY id DESC", params
            ).fetchall()
            cameras = conn.execute(
                f"SELECT * FROM rollout_cameras {'WHERE rollout_id = ?' if one else ''}"
                " ORDER BY store, camera",
                params,
            ).fetchall()
        by_rollout: dict[int, list[dict[str, Any]]] = {}
        for row in cameras:
            by_rollout.setdefault(row["rollout_id"], []).append(_camera_row(row))
        return [
            {
                "id": r["id"],
                "version": r["version"],
                "stage": r["stage"],
                "auto_promote": bool(r["auto_promote"]),
                "created_at": r["created_at"],
                "created_by": r["created_by"],
                "promoted_at": r["promoted_at"],
                "rolled_back_at": r["rolled_back_at"],
                "cameras": by_rollout.get(r["id"], []),
            }
            for r in rollouts
        ]


def _camera_row(row: Any) -> dict[str, Any]:
    return {
        "store": row["store"],
        "camera": row["camera"],
        "wave": row["wave"],
        "announced_at": row["announced_at"],
        "previous_rollout_id": row["previous_rollout_id"],
        "outcome": row["outcome"],
        "reason": row["reason"],
        "running_version": row["running_version"],
        "check": json.loads(row["check_json"]) if row["check_json"] else None,
        "reported_at": row["reported_at"],
    }


def _canary_problem(camera: dict[str, Any]) -> str:
    name = f"{camera['store']}/{camera['camera']}"
    if camera["outcome"] is None:
        return f"{name} has not reported yet"
    return f"{name} {camera['outcome']}" + (f" ({camera['reason']})" if camera["reason"] else "")


def camera_rollouts(db: Database) -> dict[Camera, dict[str, Any]]:
    """Each camera's latest announced roll-out: its id, version, stage and the camera's
    outcome and reason (for the Devices page)."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT c.store, c.camera, c.rollout_id, r.version, r.stage, c.outcome, c.reason,"
            " c.reported_at FROM rollout_cameras c JOIN rollouts r ON r.id = c.rollout_id"
            " WHERE c.announced_at IS NOT NULL ORDER BY c.rollout_id"
        ).fetchall()
    return {(r["store"], r["camera"]): dict(r) for r in rows}
