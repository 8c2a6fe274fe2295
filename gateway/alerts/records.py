"""Alert channels, quiet hours, problems and the delivery log (tables of migration 0011).

A problem row is written once per key (`advice:<id>`, `camera-offline:<store>/<camera>@
<time>`); its deliveries are written in the same transaction, one per channel, so a
problem seen again (the same advice refreshed, the next sweep) adds nothing: at most one
alert per problem and channel, and a new one only under a new key (the problem reopened).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Literal

from gateway.alerts.quiet_hours import QuietHours
from gateway.alerts.signing import new_secret
from gateway.storage.connection import Database
from gateway.storage.sql import db_time, parse_time

ChannelKind = Literal["webhook", "apprise"]
Status = Literal["pending", "held", "sent", "dropped", "failed"]
PROBLEM_FIELDS = ("kind", "store", "camera", "level", "title", "text")


class NotFound(LookupError):
    """No such user or channel (for that user)."""


@dataclass(frozen=True)
class Channel:
    id: int
    user: str
    name: str
    kind: ChannelKind
    url: str
    secret: str
    created_at: datetime


@dataclass(frozen=True)
class Problem:
    """What an alert is about; `key` says which problem it is (see module docstring)."""

    key: str
    kind: str
    store: str
    camera: str | None
    level: str
    title: str
    text: str


@dataclass(frozen=True)
class Due:
    """A delivery to attempt now, with its channel and problem."""

    id: int
    attempts: int
    created_at: datetime
    status: Status
    channel: Channel
    problem: Problem
    opened_at: datetime
    closed: bool


def _channel(row: Any) -> Channel:
    return Channel(
        id=row["id"],
        user=row["user_name"],
        name=row["name"],
        kind=row["kind"],
        url=row["url"],
        secret=row["secret"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


_CHANNEL_SQL = (
    "SELECT c.id, u.name AS user_name, c.name, c.kind, c.url, c.secret, c.created_at "
    "FROM alert_channels c JOIN users u ON u.id = c.user_id"
)


def _user_id(db: Database, user: str) -> int:
    with db.read() as conn:
        row = conn.execute("SELECT id FROM users WHERE name = ?", (user,)).fetchone()
    if row is None:
        raise NotFound(f"no user {user!r}")
    return int(row["id"])


# ---- channels --------------------------------------------------------------------------


def add_channel(
    db: Database, user: str, name: str, kind: ChannelKind, url: str, at: datetime
) -> Channel:
    """A new channel with a fresh signing secret."""
    user_id = _user_id(db, user)
    with db.transaction() as tx:
        cursor = tx.execute(
            "INSERT INTO alert_channels (user_id, name, kind, url, secret, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, name, kind, url, new_secret(), db_time(at)),
        )
        channel_id = int(cursor.lastrowid or 0)
    return channel(db, channel_id)


def channels(db: Database, user: str | None = None) -> list[Channel]:
    """A user's channels (every user's when None), oldest first."""
    sql, params = _CHANNEL_SQL, ()
    if user is not None:
        sql, params = sql + " WHERE u.name = ?", (user,)
    with db.read() as conn:
        return [_channel(r) for r in conn.execute(sql + " ORDER BY c.id", params).fetchall()]


def channel(db: Database, channel_id: int, user: str | None = None) -> Channel:
    """One channel; NotFound when it does not exist or is not `user`'s."""
    with db.read() as conn:
        row = conn.execute(_CHANNEL_SQL + " WHERE c.id = ?", (channel_id,)).fetchone()
    if row is None or (user is not None and row["user_name"].casefold() != user.casefold()):
        raise NotFound(f"no alert channel {channel_id}")
    return _channel(row)


def remove_channel(db: Database, channel_id: int, user: str) -> None:
    channel(db, channel_id, user)
    with db.transaction() as tx:
        tx.execute("DELETE FROM alert_channels WHERE id = ?", (channel_id,))


def recipients(db: Database) -> list[tuple[str, str, int]]:
    """(user name, role, channel id) of every channel."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT u.name, u.role, c.id FROM alert_channels c JOIN users u ON u.id = c.user_id"
        ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


# ---- quiet hours -----------------------------------------------------------------------


def quiet_hours(db: Database, user: str) -> QuietHours | None:
    with db.read() as conn:
        row = conn.execute(
            "SELECT q.start_time, q.end_time, q.timezone FROM alert_quiet_hours q "
            "JOIN users u ON u.id = q.user_id WHERE u.name = ?",
            (user,),
        ).fetchone()
    if row is None:
        return None
    return QuietHours(time.fromisoformat(row[0]), time.fromisoformat(row[1]), row[2])


def set_quiet_hours(db: Database, user: str, hours: QuietHours | None) -> None:
    user_id = _user_id(db, user)
    with db.transaction() as tx:
        tx.execute("DELETE FROM alert_quiet_hours WHERE user_id = ?", (user_id,))
        if hours is not None:
            tx.execute(
                "INSERT INTO alert_quiet_hours (user_id, start_time, end_time, timezone) "
                "VALUES (?, ?, ?, ?)",
                (
                    user_id,
                    hours.start.strftime("%H:%M"),
                    hours.end.strftime("%H:%M"),
                    hours.timezone,
                ),
            )


# ---- problems --------------------------------------------------------------------------


def open_problem(db: Database, problem: Problem, channel_ids: Sequence[int], at: datetime) -> bool:
    """Record a problem and queue one delivery per channel; False (nothing queued) when
    the key was seen before, open or closed."""
    now = db_time(at)
    with db.transaction() as tx:
        cursor = tx.execute(
            "INSERT OR IGNORE INTO alert_problems (key, kind, store, camera, level, title, "
            "text, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (problem.key, *(getattr(problem, f) for f in PROBLEM_FIELDS), now),
        )
        if cursor.rowcount == 0:
            return False
        for channel_id in channel_ids:
            tx.execute(
                "INSERT INTO alert_deliveries (problem_key, channel_id, user_name, status, "
                "next_attempt_at, created_at) SELECT ?, c.id, u.name, 'pending', ?, ? "
                "FROM alert_channels c JOIN users u ON u.id = c.user_id WHERE c.id = ?",
                (problem.key, now, now, channel_id),
            )
    return True


def close_problems(db: Database, keys: Sequence[str], at: datetime) -> int:
    """Mark problems over (held and queued deliveries of them are then dropped)."""
    if not keys:
        return 0
    with db.transaction() as tx:
        cursor = tx.execute(
            f"UPDATE alert_problems SET closed_at = ? WHERE closed_at IS NULL AND key IN "
            f"({', '.join('?' * len(keys))})",
            (db_time(at), *keys),
        )
        return cursor.rowcount


def open_keys(db: Database, kind: str) -> set[str]:
    with db.read() as conn:
        rows = conn.execute(
            "SELECT key FROM alert_problems WHERE kind = ? AND closed_at IS NULL", (kind,)
        ).fetchall()
    return {r[0] for r in rows}


def open_cameras(db: Database) -> dict[tuple[str, str], str]:
    """(store, camera) -> key of each open camera problem."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT store, camera, key FROM alert_problems WHERE kind = 'camera_offline' "
            "AND closed_at IS NULL"
        ).fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


def known_keys(db: Database, keys: Sequence[str]) -> set[str]:
    """Which of `keys` were recorded before (open or closed)."""
    if not keys:
        return set()
    with db.read() as conn:
        rows = conn.execute(
            f"SELECT key FROM alert_problems WHERE key IN ({', '.join('?' * len(keys))})",
            tuple(keys),
        ).fetchall()
    return {r[0] for r in rows}


# ---- deliveries ------------------------------------------------------------------------


def due(db: Database, now: datetime, limit: int = 100) -> list[Due]:
    """Pending and held deliveries due by `now`, oldest first."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT d.id AS delivery_id, d.attempts, d.created_at AS delivery_created, "
            "d.status, p.key, p.kind AS problem_kind, p.store, p.camera, p.level, p.title, "
            "p.text, p.opened_at, p.closed_at, c.id, u.name AS user_name, c.name, c.kind, "
            "c.url, c.secret, c.created_at FROM alert_deliveries d "
            "JOIN alert_problems p ON p.key = d.problem_key "
            "JOIN alert_channels c ON c.id = d.channel_id JOIN users u ON u.id = c.user_id "
            "WHERE d.status IN ('pending', 'held') AND d.next_attempt_at <= ? "
            "ORDER BY d.next_attempt_at, d.id LIMIT ?",
            (db_time(now), limit),
        ).fetchall()
    return [
        Due(
            id=r["delivery_id"],
            attempts=r["attempts"],
            created_at=datetime.fromisoformat(r["delivery_created"]),
            status=r["status"],
            channel=_channel(r),
            problem=Problem(
                r["key"],
                r["problem_kind"],
                r["store"],
                r["camera"],
                r["level"],
                r["title"],
                r["text"],
            ),
            opened_at=datetime.fromisoformat(r["opened_at"]),
            closed=r["closed_at"] is not None,
        )
        for r in rows
    ]


def next_due(db: Database) -> datetime | None:
    with db.read() as conn:
        row = conn.execute(
            "SELECT min(next_attempt_at) FROM alert_deliveries WHERE status IN ('pending', 'held')"
        ).fetchone()
    return parse_time(row[0])


def update_delivery(
    db: Database,
    delivery_id: int,
    status: Status,
    *,
    next_attempt: datetime | None = None,
    attempted: bool = False,
    error: str | None = None,
    sent_at: datetime | None = None,
) -> None:
    """Record an attempt's outcome (`attempted`: one more attempt counted)."""
    with db.transaction() as tx:
        tx.execute(
            "UPDATE alert_deliveries SET status = ?, next_attempt_at = ?, "
            "attempts = attempts + ?, last_error = coalesce(?, last_error), "
            "sent_at = coalesce(?, sent_at) WHERE id = ?",
            (
                status,
                db_time(next_attempt) if next_attempt else None,
                int(attempted),
                error,
                db_time(sent_at) if sent_at else None,
                delivery_id,
            ),
        )


def deliveries(db: Database, user: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The delivery log, newest first: a user's own (every user's when None)."""
    sql = (
        "SELECT d.id, d.problem_key, d.channel_id, c.name AS channel, d.user_name, d.status, "
        "d.attempts, d.next_attempt_at, d.created_at, d.sent_at, d.last_error, p.kind, "
        "p.store, p.camera, p.level, p.title FROM alert_deliveries d "
        "JOIN alert_problems p ON p.key = d.problem_key "
        "LEFT JOIN alert_channels c ON c.id = d.channel_id"
    )
    params: tuple[Any, ...] = ()
    if user is not None:
        sql, params = sql + " WHERE d.user_name = ? COLLATE NOCASE", (user,)
    with db.read() as conn:
        rows = conn.execute(sql + " ORDER BY d.id DESC LIMIT ?", (*params, limit)).fetchall()
    return [dict(r) for r in rows]


def payload(item: Due, sent_at: datetime) -> bytes:
    """The webhook body (compact JSON, `schema_version` 1; README: Push alerts)."""
    p = item.problem
    body = {
        "schema_version": 1,
        "delivery": item.id,
        "problem": p.key,
        "kind": p.kind,
        "store": p.store,
        "camera": p.camera,
        "level": p.level,
        "title": p.title,
        "text": p.text,
        "opened_at": item.opened_at.isoformat(),
        "sent_at": sent_at.isoformat(),
        "channel": item.channel.name,
        "user": item.channel.user,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def queue_test(db: Database, channel_: Channel, at: datetime) -> int:
    """A test alert to one channel, due now (quiet hours do not hold it); its delivery id."""
    problem = Problem(
        key=f"test:{channel_.id}:{db_time(at)}",
        kind="test",
        store="-",
        camera=None,
        level="info",
        title="shelfsense test alert",
        text=f"A test alert to {channel_.name}, asked for by {channel_.user}. It works.",
    )
    open_problem(db, problem, [channel_.id], at)
    with db.read() as conn:
        row = conn.execute(
            "SELECT id FROM alert_deliveries WHERE problem_key = ?", (problem.key,)
        ).fetchone()
    return int(row[0])
