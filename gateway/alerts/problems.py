"""What is worth an alert, in words a person reads on a phone, and who it concerns.

- `advice_problem`: a high advice (key `advice:<id>`; advice that comes back after it
  was resolved is a new advice row, so a new key and a new alert).
- `offline_problem`: a camera offline since a moment (key `camera-offline:<store>/
  <camera>@<since>`); one outage stays one problem until the camera is seen online.
- `wants`: whether a user's role cares about a kind of problem in a store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.alerts.records import Problem
from gateway.auth.roles import RoleError, parse_role
from gateway.storage.connection import Database
from gateway.storage.sql import db_time

CONCERNS = {
    "advice": frozenset({"admin", "merchandiser", "staff"}),
    "camera_offline": frozenset({"admin", "installer", "staff"}),
}
"""Which kinds of user each kind of problem goes to (staff: their own store only)."""


def wants(role_text: str, kind: str, store: str) -> bool:
    try:
        role = parse_role(role_text)
    except RoleError:
        return False
    if role.kind not in CONCERNS.get(kind, ()):
        return False
    return role.kind != "staff" or role.store == store


def advice_problem(record: dict[str, Any]) -> Problem:
    where = record["camera"]
    if record.get("row") is not None and record.get("slot") is not None:
        where += f", row {record['row'] + 1} slot {record['slot'] + 1}"
    return Problem(
        key=f"advice:{record['id']}",
        kind="advice",
        store=record["store"],
        camera=record["camera"],
        level=record["level"],
        title=f"{record['store']}: {record['action']}",
        text=f"{record['action']} ({where}). {record['reason']}",
    )


def offline_problem(store: str, camera: str, since: str) -> Problem:
    at = datetime.fromisoformat(since)
    return Problem(
        key=f"camera-offline:{store}/{camera}@{since}",
        kind="camera_offline",
        store=store,
        camera=camera,
        level="high",
        title=f"{store}: camera {camera} is offline",
        text=f"Camera {camera} of {store} has been offline since "
        f"{at.strftime('%Y-%m-%d %H:%M')} UTC; its shelves are not watched.",
    )


def offline_cameras(db: Database, before: datetime) -> list[tuple[str, str, str]]:
    """(store, camera, offline since) of cameras offline since `before` or earlier."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT store, camera, availability_at FROM cameras WHERE online = 0 "
            "AND availability_at IS NOT NULL AND availability_at <= ? ORDER BY store, camera",
            (db_time(before),),
        ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]
