"""The camera nodes at a glance: online or not, last heard, health figures, the layout
each runs against the one the gateway publishes, the model version it runs with its
latest roll-out's outcome, and an alert for a silent node.

A node is in alert when it is offline (its retained availability, or Last Will, says
so) for longer than `offline_alert_s`, or when it says it is online but no health has
arrived for `silent_after_s` (a hung node keeps its MQTT session alive but stops
reporting). A short offline blip (a reboot) is shown, not alerted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from gateway.rollout.rollouts import camera_rollouts
from gateway.storage.cameras import list_cameras
from gateway.storage.connection import Database
from gateway.storage.sql import parse_time

OFFLINE_ALERT_S = 300.0
SILENT_AFTER_S = 180.0
"""Six missed reports at the node's default 30 s health interval."""

Alert = Literal["offline", "silent", "camera_fault"]


@dataclass
class DeviceStatus:
    store: str
    camera: str
    online: bool
    alert: Alert | None
    alert_reason: str | None
    last_seen: datetime | None
    offline_since: datetime | None
    last_health: datetime | None
    inference_ms: float | None
    cpu_temp_c: float | None
    fps: float | None
    camera_ok: bool | None
    outbox_pending: int | None
    outbox_dropped: int | None
    software: str | None
    model: str | None
    layout_running: str | None
    layout_configured: str | None
    model_version: str | None = None
    rollout_id: int | None = None
    rollout_version: str | None = None
    rollout_outcome: str | None = None
    rollout_reason: str | None = None

    @property
    def layout_current(self) -> bool | None:
        """Whether the camera runs the layout the gateway publishes (None: unknown)."""
        if self.layout_configured is None or self.layout_running is None:
            return None
        return self.layout_running == self.layout_configured


def device_statuses(
    db: Database,
    store: str | None = None,
    *,
    now: datetime | None = None,
    offline_alert_s: float = OFFLINE_ALERT_S,
    silent_after_s: float = SILENT_AFTER_S,
) -> list[DeviceStatus]:
    """Every camera (of `store`, when given), alerts first, then by store and camera."""
    now = now or datetime.now(UTC)
    statuses = []
    rollouts = camera_rollouts(db)
    for cam in list_cameras(db, store):
        health = cam["health"] or {}
        state = cam["state"] or {}
        rollout = rollouts.get((cam["store"], cam["camera"]), {})
        last_health = parse_time(health.get("updated_at"))
        changed = parse_time(cam["availability_at"])
        offline_since = None if cam["online"] else changed
        heard = last_health or changed  # a node that just came online has not reported yet
        alert, reason = _alert(
            cam["online"], offline_since, heard, health, now, offline_alert_s, silent_after_s
        )
        statuses.append(
            DeviceStatus(
                store=cam["store"],
                camera=cam["camera"],
                online=cam["online"],
                alert=alert,
                alert_reason=reason,
                last_seen=parse_time(cam["last_seen"]),
                offline_since=offline_since,
                last_health=last_health,
                inference_ms=health.get("inference_ms"),
                cpu_temp_c=health.get("cpu_temp_c"),
                fps=health.get("fps"),
                camera_ok=health.get("camera_ok"),
                outbox_pending=health.get("outbox_pending"),
                outbox_dropped=health.get("outbox_dropped"),
                software=health.get("software"),
                model=health.get("model"),
                layout_running=cam["layout_version"],
                layout_configured=cam["configured_layout_version"],
                model_version=(state or health).get("model_version"),
                rollout_id=rollout.get("rollout_id"),
                rollout_version=rollout.get("version"),
                rollout_outcome=rollout.get("outcome") or ("announced" if rollout else None),
                rollout_reason=rollout.get("reason"),
            )
        )
    statuses.sort(key=lambda d: (d.alert is None, d.store, d.camera))
    return statuses


def _alert(
    online: bool,
    offline_since: datetime | None,
    heard: datetime | None,
    health: dict[str, Any],
    now: datetime,
    offline_alert_s: float,
    silent_after_s: float,
) -> tuple[Alert | None, str | None]:
    if not online:
        if offline_since is None:
            return None, None  # known from a layout only: never connected yet
        away = (now - offline_since).total_seconds()
        if away >= offline_alert_s:
            return "offline", f"offline for {_duration(away)}"
        return None, None
    if heard is not None and (now - heard).total_seconds() >= silent_after_s:
        return "silent", f"no health report for {_duration((now - heard).total_seconds())}"
    if health.get("camera_ok") is False:
        return "camera_fault", health.get("last_error") or "the camera cannot capture"
    return None, None


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"
