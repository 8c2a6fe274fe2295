"""Advice records: one row per advice, its lifecycle, de-duplication and queries.

Lifecycle: `open -> acknowledged -> resolved`, or `dismissed` (with a reason) from
open or acknowledged. Resolution is automatic when the camera (or the till) sees the
fix (`verified` true, `resolve_minutes` = resolved_at - created_at); an advice whose slot
left the layout, or whose prediction was overtaken, is resolved unverified.

At most one active (open or acknowledged) advice per key (kind + slot, or kind + bay
for facings): a candidate with an active key refreshes it (urgency, level, evidence,
texts, updated_at). And at most one per slot: the rules send one candidate per slot
(`ranking`), and a candidate of another kind for a slot closes the slot's other active
advice (resolved, unverified, "replaced by ..."), so staff never hold two errands for
one slot. Staff actions record who (`acknowledged_by`, `dismissed_by`) and when. A closed (resolved or dismissed) advice blocks a candidate of the
same key and the same `episode_start`: it comes back only for a new episode (a new
empty period, restock, sale, messy period or layout).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from edge.contract.advice import AdviceKind, AdviceList, Evidence, PublishedAdvice
from gateway.advice.model import ActiveAdvice, Candidate, Resolution
from gateway.advice.phrases import Phrase
from gateway.storage.connection import Database
from gateway.storage.sql import db_time, where_sql
from gateway.storage.transactions import Transaction

ACTIVE = ("open", "acknowledged")
STATUSES = ("open", "acknowledged", "resolved", "dismissed")

_COLUMNS = (
    "id, key, store, camera, row, slot, kind, cause, sku, name, brand, action, reason,"
    " urgency, level, evidence, status, episode_start, created_at, updated_at,"
    " acknowledged_at, resolved_at, verified, resolution, dismissed_at, dismiss_reason,"
    " acknowledged_by, dismissed_by, action_phrase, reason_phrase"
)


class AdviceNotFound(LookupError):
    pass


class AdviceStateError(ValueError):
    """A transition the lifecycle does not allow (e.g. acknowledging resolved advice)."""


@dataclass
class ApplyReport:
    created: list[int] = field(default_factory=list)
    refreshed: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    changed: bool = False
    """True when anything a display shows changed (new, closed, level/urgency/text)."""


def _record(row: Any) -> dict[str, Any]:
    record = dict(row)
    record["evidence"] = json.loads(record["evidence"])
    for name in ("action_phrase", "reason_phrase"):
        record[name] = json.loads(record[name]) if record[name] else None
    record["verified"] = None if record["verified"] is None else bool(record["verified"])
    record["resolve_minutes"] = None
    if record["resolved_at"]:
        took = datetime.fromisoformat(record["resolved_at"]) - datetime.fromisoformat(
            record["created_at"]
        )
        record["resolve_minutes"] = round(took.total_seconds() / 60, 2)
    return record


def active_advice(db: Database, store: str) -> list[ActiveAdvice]:
    """Open and acknowledged advice of a store, as the resolution check needs it."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT id, key, kind, camera, row, slot, sku, episode_start, evidence FROM advice"
            " WHERE store = ? AND status IN ('open', 'acknowledged')",
            (store,),
        ).fetchall()
    return [
        ActiveAdvice(
            id=r["id"],
            key=r["key"],
            kind=AdviceKind(r["kind"]),
            camera=r["camera"],
            row=r["row"],
            slot=r["slot"],
            sku=r["sku"],
            episode_start=datetime.fromisoformat(r["episode_start"]),
            evidence=Evidence.model_validate_json(r["evidence"]),
        )
        for r in rows
    ]


def _evidence_json(evidence: Evidence) -> str:
    return evidence.model_dump_json(exclude_none=True)


def _phrase_json(phrase: Phrase | None) -> str | None:
    """A phrase as stored: compact JSON, the same text for the same sentence (so a
    refresh can tell whether it changed)."""
    if phrase is None:
        return None
    return json.dumps(phrase.to_json(), separators=(",", ":"), sort_keys=True)


def apply(
    db: Database,
    store: str,
    found: Sequence[Candidate],
    resolutions: Sequence[Resolution],
    now: datetime,
) -> ApplyReport:
    """Resolve, refresh and create in one short write transaction."""
    report = ApplyReport()
    at = db_time(now)
    with db.transaction() as tx:
        for r in resolutions:
            cursor = tx.execute(
                "UPDATE advice SET status = 'resolved', resolved_at = ?, updated_at = ?,"
                " verified = ?, resolution = ? WHERE id = ? AND status IN ('open', 'acknowledged')",
                (at, at, int(r.verified), r.note, r.advice_id),
            )
            if cursor.rowcount:
                report.resolved.append(r.advice_id)
                report.changed = True
        for c in found:
            _apply_one(tx, c, at, report)
    return report


def _apply_one(tx: Transaction, c: Candidate, at: str, report: ApplyReport) -> None:
    episode = db_time(c.episode_start)
    evidence = _evidence_json(c.evidence)
    action_phrase, reason_phrase = _phrase_json(c.action_phrase), _phrase_json(c.reason_phrase)
    active = tx.execute(
        "SELECT id, episode_start, urgency, level, action, reason FROM advice"
        " WHERE key = ? AND status IN ('open', 'acknowledged')",
        (c.key,),
    ).fetchone()
    if active is not None and active["episode_start"] != episode:
        # The old episode ended between two evaluations without a verdict (e.g. a
        # facings advice whose layout changed otherwise): close it, start afresh.
        tx.execute(
            "UPDATE advice SET status = 'resolved', resolved_at = ?, updated_at = ?,"
            " verified = 0, resolution = 'superseded by a new episode' WHERE id = ?",
            (at, at, active["id"]),
        )
        report.resolved.append(active["id"])
        report.changed = True
        active = None
    if active is not None:
        shown = (round(active["urgency"], 1), active["level"], active["action"], active["reason"])
        if shown != (round(c.urgency, 1), c.level.value, c.action, c.reason):
            report.changed = True
        tx.execute(
            "UPDATE advice SET cause = ?, name = ?, brand = ?, action = ?, reason = ?,"
            " action_phrase = ?, reason_phrase = ?, urgency = ?, level = ?, evidence = ?,"
            " updated_at = ? WHERE id = ?",
            (
                c.cause,
                c.name,
                c.brand,
                c.action,
                c.reason,
                action_phrase,
                reason_phrase,
                c.urgency,
                c.level.value,
                evidence,
                at,
                active["id"],
            ),
        )
        report.refreshed.append(active["id"])
        _close_others_of_slot(tx, c, active["id"], at, report)
        return
    closed = tx.execute(
        "SELECT 1 FROM advice WHERE key = ? AND episode_start = ?"
        " AND status IN ('resolved', 'dismissed') LIMIT 1",
        (c.key, episode),
    ).fetchone()
    if closed is not None:
        return  # dismissed or resolved for this episode: do not nag again
    cursor = tx.execute(
        "INSERT INTO advice (key, store, camera, row, slot, kind, cause, sku, name, brand,"
        " action, reason, action_phrase, reason_phrase, urgency, level, evidence, status,"
        " episode_start, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
        (
            c.key,
            c.store,
            c.camera,
            c.row,
            c.slot,
            c.kind.value,
            c.cause,
            c.sku,
            c.name,
            c.brand,
            c.action,
            c.reason,
            action_phrase,
            reason_phrase,
            c.urgency,
            c.level.value,
            evidence,
            episode,
            at,
            at,
        ),
    )
    created = int(cursor.lastrowid or 0)
    report.created.append(created)
    report.changed = True
    _close_others_of_slot(tx, c, created, at, report)


def _close_others_of_slot(
    tx: Transaction, c: Candidate, keep: int, at: str, report: ApplyReport
) -> None:
    """One active advice per slot: the others of the slot give way to `keep` (bay-level
    facings advice is not about one slot and stays)."""
    if c.row is None or c.slot is None or c.kind == AdviceKind.FACINGS:
        return
    others = tx.execute(
        "SELECT id FROM advice WHERE store = ? AND camera = ? AND row = ? AND slot = ?"
        " AND kind != ? AND id != ? AND status IN ('open', 'acknowledged')",
        (c.store, c.camera, c.row, c.slot, AdviceKind.FACINGS.value, keep),
    ).fetchall()
    for other in others:
        tx.execute(
            "UPDATE advice SET status = 'resolved', resolved_at = ?, updated_at = ?,"
            " verified = 0, resolution = ? WHERE id = ?",
            (at, at, f"replaced by {c.kind.value} advice #{keep} for the same slot", other["id"]),
        )
        report.resolved.append(other["id"])
        report.changed = True


# ---- staff actions -------------------------------------------------------------------


def _transition(
    db: Database, advice_id: int, allowed: Sequence[str], sql: str, params: Sequence[Any]
) -> dict[str, Any]:
    with db.transaction() as tx:
        row = tx.execute("SELECT status FROM advice WHERE id = ?", (advice_id,)).fetchone()
        if row is None:
            raise AdviceNotFound(f"advice {advice_id} does not exist")
        if row["status"] not in allowed:
            raise AdviceStateError(
                f"advice {advice_id} is {row['status']}; only {' or '.join(allowed)} advice can"
                " be changed this way"
            )
        tx.execute(sql, (*params, advice_id))
    record = get_advice(db, advice_id)
    assert record is not None
    return record


def acknowledge(
    db: Database, advice_id: int, now: datetime | None = None, *, by: str | None = None
) -> dict[str, Any]:
    """Staff saw it and will act: open -> acknowledged (acknowledging twice is harmless:
    the first who and when stay). `by`: the user's name."""
    at = db_time(now or datetime.now(UTC))
    return _transition(
        db,
        advice_id,
        ("open", "acknowledged"),
        "UPDATE advice SET status = 'acknowledged',"
        " acknowledged_by = CASE WHEN acknowledged_at IS NULL THEN ? ELSE acknowledged_by END,"
        " acknowledged_at = coalesce(acknowledged_at, ?), updated_at = ? WHERE id = ?",
        (by, at, at),
    )


BLANK_REASON = "reason: say why the advice is dismissed (spaces alone are not a reason)"


def dismiss(
    db: Database,
    advice_id: int,
    reason: str,
    now: datetime | None = None,
    *,
    by: str | None = None,
) -> dict[str, Any]:
    """Staff say it is wrong or not worth doing; it stays away for this episode."""
    if not reason.strip():
        raise AdviceStateError(BLANK_REASON)
    at = db_time(now or datetime.now(UTC))
    return _transition(
        db,
        advice_id,
        ACTIVE,
        "UPDATE advice SET status = 'dismissed', dismissed_at = ?, dismiss_reason = ?,"
        " dismissed_by = ?, updated_at = ? WHERE id = ?",
        (at, reason.strip(), by, at),
    )


# ---- queries -------------------------------------------------------------------------


def get_advice(db: Database, advice_id: int) -> dict[str, Any] | None:
    with db.read() as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM advice WHERE id = ?", (advice_id,)).fetchone()
    return _record(row) if row else None


def list_advice(
    db: Database,
    *,
    store: str | None = None,
    status: Sequence[str] = (),
    kind: str | None = None,
    camera: str | None = None,
    skus: Collection[str] | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Advice, most urgent first within status, then newest; `skus` keeps advice about
    those products only."""
    where, params = where_sql(
        {"store": store, "kind": kind, "camera": camera},
        within={"sku": skus, "status": status or None},
    )
    sql = f"SELECT {_COLUMNS} FROM advice" + where
    sql += " ORDER BY urgency DESC, updated_at DESC, id DESC LIMIT ?"
    params.append(limit)
    with db.read() as conn:
        return [_record(r) for r in conn.execute(sql, params).fetchall()]


def open_counts(db: Database, store: str) -> dict[str, dict[str, int]]:
    """{kind: {"open": n, "acknowledged": m}} for every kind (zeros included)."""
    counts = {k.value: {"open": 0, "acknowledged": 0} for k in AdviceKind}
    with db.read() as conn:
        rows = conn.execute(
            "SELECT kind, status, count(*) AS n FROM advice WHERE store = ?"
            " AND status IN ('open', 'acknowledged') GROUP BY kind, status",
            (store,),
        ).fetchall()
    for r in rows:
        counts.setdefault(r["kind"], {"open": 0, "acknowledged": 0})[r["status"]] = r["n"]
    return counts


def stores_with_advice(db: Database) -> list[str]:
    with db.read() as conn:
        return [r[0] for r in conn.execute("SELECT DISTINCT store FROM advice").fetchall()]


def store_payload(db: Database, store: str, limit: int, now: datetime) -> bytes:
    """The store's retained advice list: the active advice, most urgent first (at most
    `limit`), for in-store displays."""
    items = list_advice(db, store=store, status=ACTIVE, limit=limit)
    message = AdviceList(
        store=store,
        ts=now,
        count=len(items),
        advice=[PublishedAdvice.model_validate(item) for item in items],
    )
    return message.to_json()
