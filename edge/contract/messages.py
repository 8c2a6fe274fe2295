"""Pydantic models for every MQTT payload.

Every payload is JSON carrying `schema_version`. Within one version changes are additive
only, so receivers ignore fields they do not know (`extra="ignore"`) and reject a
different major version with a message that names it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from edge.contract.ids import Identifier
from edge.layout import Layout

SCHEMA_VERSION = 1

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]

MAX_COUNT = 2**63 - 1
"""Counters and indexes fit a signed 64-bit integer, as SQLite and most consumers store them."""


def utc_now() -> datetime:
    """Timezone-aware now; all payload times are UTC."""
    return datetime.now(UTC)


class SlotStatus(StrEnum):
    """What a camera concludes about one slot (see GUIDE.md, shelf model)."""

    STOCKED = "stocked"
    LOW = "low"
    EMPTY = "empty"
    WRONG_PRODUCT = "wrong_product"
    MESSY = "messy"
    OCCLUDED = "occluded"
    UNKNOWN = "unknown"


class EventType(StrEnum):
    """Slot transitions worth telling the gateway about exactly once."""

    GAP_OPENED = "gap_opened"
    GAP_CLOSED = "gap_closed"
    LOW_STOCK = "low_stock"
    RESTOCKED = "restocked"
    WRONG_PRODUCT = "wrong_product"
    MESSY = "messy"
    STATUS_CHANGED = "status_changed"


class Message(BaseModel):
    """Base of every payload: a schema version and a UTC timestamp."""

    # JSON has no NaN or Infinity; a parser that takes them must not pass them on.
    model_config = ConfigDict(extra="ignore", frozen=False, allow_inf_nan=False)

    schema_version: int = SCHEMA_VERSION
    ts: datetime = Field(default_factory=utc_now)

    @field_validator("schema_version")
    @classmethod
    def _supported_version(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(
                f"unsupported schema_version {value}; this build reads {SCHEMA_VERSION}"
            )
        return value

    @field_validator("ts")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        """Naive times are UTC; others are converted to it (stored and compared as UTC)."""
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError(f"{value.isoformat()} is out of range in UTC") from None

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON, the wire form of every payload."""
        return self.model_dump_json(exclude_none=True).encode()


class CameraMessage(Message):
    """A payload published by one camera node about itself."""

    store: Identifier
    camera: Identifier


class Availability(CameraMessage):
    """Retained `…/availability`; also the node's Last Will with state `offline`."""

    state: Literal["online", "offline"]


class Detection(BaseModel):
    """One detector box, normalised to the frame (0..1, x0 < x1, y0 < y1)."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    label: str
    score: Fraction
    box: tuple[float, float, float, float]


class SlotReading(BaseModel):
    """The state of one layout slot as the node currently sees it."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    row: int = Field(ge=0, le=MAX_COUNT)
    slot: int = Field(ge=0, le=MAX_COUNT)
    sku: str | None = None
    status: SlotStatus
    confidence: Fraction = 1.0
    gap_fraction: Fraction = 0.0
    since: datetime | None = None
    held_status: SlotStatus | None = Field(
        default=None,
        description="While occluded: the status last seen, which the node still assumes.",
    )
    appearance: Fraction | None = Field(
        default=None,
        description="Colour similarity (0..1) of the slot to its reference look, when checked.",
    )
    looks_like_sku: str | None = Field(
        default=None,
        description="wrong_product: the SKU of another slot whose product this one shows.",
    )


class ShelfState(CameraMessage):
    """Retained `…/state`: the latest smoothed shelf state, one message per camera."""

    seq: int = Field(ge=0, le=MAX_COUNT, description="Frames analysed since the node started.")
    layout_version: str | None = Field(
        default=None, description="Version hash of the layout the node runs (echo of config)."
    )
    slots: list[SlotReading] = Field(default_factory=list)
    detections: list[Detection] = Field(default_factory=list)
    score: Fraction | None = Field(
        default=None,
        description="Display compliance score (edge/contract/compliance.py, README).",
    )
    occluded: bool = Field(default=False, description="Something stands in front of the shelf.")
    model: str | None = None
    model_version: str | None = Field(
        default=None,
        description="Version of the rolled-out model the node runs (echo of its `…/model` "
        "announcement); None: the model of its own config.",
    )


class ShelfEvent(CameraMessage):
    """QoS 1 `…/events`, never retained; `id` lets the gateway drop duplicates."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=8, max_length=64)
    type: EventType
    row: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    slot: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    sku: str | None = None
    previous: SlotStatus | None = None
    status: SlotStatus | None = None
    confidence: Fraction = 1.0
    detail: dict[str, Any] = Field(default_factory=dict)


class Health(CameraMessage):
    """Periodic `…/health`: is the node working, and how fast."""

    uptime_s: float = Field(ge=0)
    frames_processed: int = Field(ge=0, le=MAX_COUNT)
    frames_failed: int = Field(default=0, ge=0, le=MAX_COUNT)
    camera_ok: bool = True
    last_error: str | None = None
    inference_ms: float | None = Field(default=None, ge=0, description="Median over the window.")
    fps: float | None = Field(default=None, ge=0)
    cpu_temp_c: float | None = None
    outbox_pending: int = Field(default=0, ge=0, le=MAX_COUNT)
    outbox_dropped: int = Field(default=0, ge=0, le=MAX_COUNT)
    model: str | None = None
    model_version: str | None = Field(
        default=None, description="Rolled-out model version it runs (None: its configured one)."
    )
    model_update: str | None = Field(
        default=None, description="The last model roll-out's outcome, and why, in words."
    )
    software: str | None = None
    snapshots_allowed: bool | None = Field(
        default=None,
        description="Whether the node's own config lets a snapshot leave it when asked.",
    )


class NodeConfig(Message):
    """Retained `…/config`, gateway to node: the layout the camera must use.

    `version` is the layout's content hash; the node echoes it as
    `ShelfState.layout_version` so anyone can see which layout a camera runs. A camera
    the gateway has no layout for yet gets no `layout` (and no `version`): the config
    then only says whether snapshots are enabled, which calibration needs first.
    """

    version: str | None = None
    layout: Layout | None = None
    snapshots_enabled: bool = Field(
        default=False,
        description="Images never leave the node unless this is true (and the node's own "
        "config allows it too).",
    )

    @model_validator(mode="after")
    def _version_matches(self) -> NodeConfig:
        if (self.layout is None) != (self.version is None):
            raise ValueError("version and layout come together (or both are left out)")
        return self


class SnapshotRequest(Message):
    """`…/snapshot_request`, gateway to node, QoS 1, never retained: send one snapshot."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=8, max_length=64)


class Snapshot(CameraMessage):
    """`…/snapshot`, node to gateway, QoS 1, never retained: the answer to one request.

    Sent only when asked, with people blurred, and only if both the gateway (for this
    camera) and the node's own config allow it; otherwise `error` says which refused.
    `proposal` is the layout calibration proposes from this very frame, carrying over
    the SKUs of the layout the node runs where slots overlap.
    """

    request_id: str = Field(min_length=8, max_length=64)
    jpeg_base64: str | None = Field(default=None, description="The frame as a JPEG, base64.")
    width: int | None = Field(default=None, ge=1)
    height: int | None = Field(default=None, ge=1)
    people_blurred: int = Field(default=0, ge=0, description="Regions blurred as people.")
    layout_version: str | None = None
    proposal: Layout | None = None
    error: str | None = None
