"""The store's advice list on MQTT: `{prefix}/{store}/advice`, gateway to displays.

Retained, QoS 1: the whole list of active (open and acknowledged) advice of one store,
most urgent first, republished whenever it changes; a display shows the latest message
and has nothing to reassemble. The topic has three levels, so it can never be mistaken
for a camera's. Like every payload it carries `schema_version`, and within a version
changes are additive only.

The kinds, levels and evidence are defined here, not in the gateway, because they are
what a display (or Node-RED, Telegraf, Home Assistant) reads off the wire.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from edge.contract.messages import MAX_COUNT, Message, SlotStatus, utc_now
from edge.contract.topics import DEFAULT_PREFIX

ADVICE = "advice"
"""Last level of `{prefix}/{store}/advice`."""


def advice_topic(store: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The retained topic a store's advice list is published on."""
    return f"{prefix}/{store}/{ADVICE}"


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcTime = Annotated[
    datetime,
    AfterValidator(_as_utc),
    PlainSerializer(lambda v: v.isoformat(timespec="microseconds"), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A UTC time written as the gateway stores it (`2024-05-01T10:00:00.000000+00:00`)."""


class AdviceKind(StrEnum):
    """What staff should do (see GUIDE.md, advice)."""

    RESTOCK = "restock"
    PREDICTED_STOCKOUT = "predicted_stockout"
    HIDDEN_STOCKOUT = "hidden_stockout"
    FIX_DISPLAY = "fix_display"
    TIDY = "tidy"
    FACINGS = "facings"


class Level(StrEnum):
    """How urgent, from the units at stake."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Sentence(BaseModel):
    """A sentence in no particular language: a key of the web UI's `advice` catalogue
    (gateway/web/static/i18n/<lang>/advice.json) and the raw figures it is filled with,
    so a display can say it in its own language; the English is the advice's `action` or
    `reason`. An argument is a number (minutes, units a day, a chance from 0 to 1), a
    name as given (product, SKU, bay, camera) or a nested sentence (a place, a span)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    key: str = Field(pattern=r"^advice\.[a-z0-9_]+$", max_length=100)
    args: dict[str, SentenceArg] = Field(
        default_factory=dict, description="Placeholder name -> value or nested sentence."
    )


SentenceArg = Annotated[str | int | float | Sentence, Field(union_mode="smart")]


class Finding(BaseModel):
    """Another rule that fired for the same slot: shown as evidence of the one advice
    staff get for that slot, not as an advice of its own."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: AdviceKind
    cause: str
    reason: str = Field(description="Why that rule fired, in words.")
    urgency: float = Field(description="Units at stake by that rule.")


class Evidence(BaseModel):
    """Why an advice was given; each kind fills the fields it uses."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    status: SlotStatus | None = Field(default=None, description="What the camera sees now.")
    status_since: datetime | None = Field(default=None, description="Since when it sees it.")
    minutes_empty: float | None = None
    minutes_in_status: float | None = None
    units_per_hour: float | None = Field(
        default=None, description="Expected units/hour of this slot now (velocity)."
    )
    lost_sales: float | None = Field(
        default=None, description="Estimated units not sold so far because of the problem."
    )
    capacity: int | None = Field(default=None, description="facings x depth.")
    last_restock: datetime | None = Field(default=None, description="Last restock seen.")
    units_sold_since_restock: float | None = None
    units_on_shelf: float | None = Field(
        default=None, description="capacity - units sold since the last restock."
    )
    minutes_to_empty: float | None = None
    last_sale: datetime | None = None
    minutes_without_sale: float | None = None
    expected_units: float | None = Field(
        default=None, description="Units expected to sell in the silent interval."
    )
    p_no_sale: float | None = Field(
        default=None, description="Chance of no sale in the silent interval at usual demand."
    )
    expected_minutes_between_sales: float | None = None
    seen_sku: str | None = Field(default=None, description="SKU the camera reports.")
    window_units: int | None = Field(default=None, description="Units sold in velocity window.")
    window_days: int | None = None
    sales_share: float | None = Field(default=None, description="Fast seller's share of sales.")
    facings_share: float | None = Field(default=None, description="Its share of the facings.")
    days_of_supply: float | None = Field(default=None, description="Fast seller, now.")
    days_of_supply_after: float | None = Field(default=None, description="After the move.")
    from_row: int | None = None
    from_slot: int | None = None
    from_sku: str | None = None
    from_name: str | None = None
    from_sales_share: float | None = None
    from_facings_share: float | None = None
    from_days_of_supply: float | None = None
    from_days_of_supply_after: float | None = None
    facings: int | None = Field(default=None, description="Fast seller's facings now.")
    layout_version: str | None = None
    units_per_day: float | None = Field(
        default=None, description="This slot's expected units per day (velocity), as staff count."
    )
    hours_of_supply: float | None = Field(
        default=None, description="Hours until the units on the shelf are expected to sell."
    )
    unit_price: float | None = Field(
        default=None, description="Last price the till sold the SKU at (store currency)."
    )
    money_at_stake: float | None = Field(
        default=None, description="Units at stake x unit price: what the urgency ranks by."
    )
    also: list[Finding] | None = Field(
        default=None,
        description="Other rules that fired for this slot; one advice per slot shows them "
        "here (e.g. a hidden stock-out behind a wrong product).",
    )


class PublishedAdvice(BaseModel):
    """One active advice as a display sees it: what to do, where, why, how urgent."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    id: int = Field(ge=1, le=MAX_COUNT)
    kind: AdviceKind
    cause: str = Field(description="e.g. empty, low, wrong_product, misplaced, no_sales.")
    status: Literal["open", "acknowledged"]
    level: Level
    urgency: float = Field(description="Units at stake (estimated lost sales).")
    camera: str
    row: int | None = Field(description="Shelf row (for facings: the fast seller's).")
    slot: int | None
    sku: str | None
    name: str | None = Field(description="Product name, from the layout or the catalogue.")
    brand: str | None
    action: str = Field(description="What to do, where.")
    reason: str = Field(description="Why, in words; the figures are in `evidence`.")
    action_phrase: Sentence | None = Field(
        default=None, description="`action` as a sentence to translate (None: only English)."
    )
    reason_phrase: Sentence | None = Field(
        default=None, description="`reason` as a sentence to translate (None: only English)."
    )
    evidence: Evidence = Field(description="Only the fields this kind uses are present.")
    created_at: UtcTime
    updated_at: UtcTime = Field(description="Last refresh of the evidence or status.")


class AdviceList(Message):
    """Retained `<prefix>/<store>/advice`: the store's active advice, most urgent first."""

    store: str
    ts: UtcTime = Field(default_factory=utc_now)
    count: int = Field(ge=0, le=MAX_COUNT, description="Items in `advice`.")
    advice: list[PublishedAdvice] = Field(default_factory=list)

    def to_json(self) -> bytes:
        """Compact JSON. Unlike camera payloads an item keeps its nulls (a display can
        rely on every key), while `evidence` lists only the fields its kind filled."""
        data = self.model_dump(mode="json")
        for item, advice in zip(data["advice"], self.advice, strict=True):
            item["evidence"] = advice.evidence.model_dump(mode="json", exclude_none=True)
        first = {k: data.pop(k) for k in ("schema_version", "store", "ts", "count", "advice")}
        return json.dumps(first | data, separators=(",", ":")).encode()
