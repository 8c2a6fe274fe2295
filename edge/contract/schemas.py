"""Publish the JSON Schema of every payload, for consumers that do not run Python.

`shelf-node schema --write` regenerates `edge/schemas/*.json`; a test fails when they
are stale, so the published schema always matches the code.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from edge.contract.advice import ADVICE, AdviceList
from edge.contract.camera_summary import SUMMARY, CameraSummary
from edge.contract.messages import (
    Availability,
    Health,
    NodeConfig,
    ShelfEvent,
    ShelfState,
    Snapshot,
    SnapshotRequest,
)
from edge.contract.model_rollout import ModelAnnouncement, RolloutStatus
from edge.contract.topics import TopicKind

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"

PAYLOADS: dict[TopicKind, type[BaseModel]] = {
    TopicKind.AVAILABILITY: Availability,
    TopicKind.STATE: ShelfState,
    TopicKind.EVENTS: ShelfEvent,
    TopicKind.HEALTH: Health,
    TopicKind.CONFIG: NodeConfig,
    TopicKind.SNAPSHOT: Snapshot,
    TopicKind.SNAPSHOT_REQUEST: SnapshotRequest,
    TopicKind.MODEL: ModelAnnouncement,
    TopicKind.ROLLOUT: RolloutStatus,
}

STORE_PAYLOADS: dict[str, type[BaseModel]] = {ADVICE: AdviceList}
"""Store-wide topics, `<prefix>/<store>/<name>`, by their last level."""

GATEWAY_PAYLOADS: dict[str, tuple[type[BaseModel], str]] = {
    SUMMARY: (CameraSummary, "<prefix>/_gateway/summary/<store>/<camera>"),
}
"""What the gateway publishes for other systems: file name -> (model, topic)."""


def render_schemas() -> dict[str, str]:
    """File name -> JSON Schema text, one file per topic kind."""
    topics = {k.value: (m, f"<prefix>/<store>/<camera>/{k.value}") for k, m in PAYLOADS.items()}
    topics |= {name: (m, f"<prefix>/<store>/{name}") for name, m in STORE_PAYLOADS.items()}
    topics |= GATEWAY_PAYLOADS
    files = {}
    for name, (model, topic) in topics.items():
        schema = model.model_json_schema(mode="serialization")
        schema["$id"] = f"https://shelfsense.invalid/schemas/{name}.json"
        schema["description"] = (
            f"Payload of MQTT topic {topic}. " + (model.__doc__ or "").strip().splitlines()[0]
        )
        files[f"{name}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return files


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema file; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(directory: Path = SCHEMA_DIR) -> list[str]:
    """Names of schema files that are missing or differ from the code."""
    stale = []
    for name, text in render_schemas().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale
