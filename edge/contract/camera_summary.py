"""The gateway's retained per-camera summary, for Home Assistant, Node-RED or Telegraf.

`<prefix>/_gateway/summary/<store>/<camera>` (retained, QoS 1) holds one camera's
compliance score, empty slots and open advice: figures the node cannot publish itself
(advice lives at the gateway), in one flat payload a Home Assistant `value_template`
reads (`{{ value_json.open_advice }}`). Five levels under `_gateway`, so it never
matches the camera wildcard `<prefix>/+/+/+` the gateway itself subscribes to. An empty
retained payload there means the camera was deleted.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from edge.contract.ids import Identifier
from edge.contract.messages import SCHEMA_VERSION
from edge.contract.topics import DEFAULT_PREFIX, GATEWAY

SUMMARY = "summary"


def camera_summary_topic(store: str, camera: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}/{GATEWAY}/{SUMMARY}/{store}/{camera}"


class CameraSummary(BaseModel):
    """One camera's display compliance, empty slots and open advice, kept by the gateway."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = SCHEMA_VERSION
    store: Identifier
    camera: Identifier
    at: datetime = Field(description="When the gateway computed this (UTC).")
    online: bool = Field(description="The camera's last availability was `online`.")
    compliance_score: float | None = Field(
        description="Display compliance in percent (0-100) of the latest state; null: "
        "no state or no slot seen yet."
    )
    empty_slots: int = Field(ge=0, description="Slots whose latest status is `empty`.")
    low_slots: int = Field(ge=0, description="Slots whose latest status is `low`.")
    slots: int = Field(ge=0, description="Slots in the latest state.")
    open_advice: int = Field(ge=0, description="Open or acknowledged advice of this camera.")
    urgent_advice: int = Field(ge=0, description="Of those, advice at level `high`.")
    layout_version: str | None = None
    software: str | None = Field(default=None, description="The node's software version.")

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()
