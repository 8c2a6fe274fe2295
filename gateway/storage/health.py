"""Reads of the cameras' health reports (uptime, frames, inference time, temperature)."""

from __future__ import annotations

from typing import Any

from gateway.storage.connection import Database


def health_history(db: Database, store: str, camera: str, limit: int = 100) -> list[dict[str, Any]]:
    """Health reports of one camera, newest first."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT ts, uptime_s, frames_processed, frames_failed, camera_ok, inference_ms,"
            " fps, cpu_temp_c FROM health_history WHERE store = ? AND camera = ?"
            " ORDER BY ts DESC LIMIT ?",
            (store, camera, limit),
        ).fetchall()
    return [dict(r) | {"camera_ok": bool(r["camera_ok"])} for r in rows]
