"""Reads of dead letters: messages ingest rejected, kept with the reason for people."""

from __future__ import annotations

from typing import Any

from gateway.storage.connection import Database


def list_dead_letters(db: Database, limit: int = 100) -> list[dict[str, Any]]:
    """Rejected messages, newest first."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT id, received_at, topic, reason, size, payload_text FROM dead_letters"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
    return [
        {
            "id": r["id"],
            "received_at": r["received_at"],
            "topic": r["topic"],
            "reason": r["reason"],
            "size": r["size"],
            "payload": r["payload_text"],
        }
        for r in rows
    ]
