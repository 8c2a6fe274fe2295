"""What a store gateway sends the head office: subjects, the envelope, and each body.

Only what the head office needs, nothing personal and no images: slot events, hourly
slot and compliance rollups, hourly sales per SKU with price, the products a layout puts
on the shelf, device health and the store's profile. Every message has an id fixed by
its content's natural key (store, kind, camera, hour, SKU...), so a message sent twice
after an outage, or by two gateways' retries, is stored once: the transport drops the
duplicate by id (JetStream's `Nats-Msg-Id`) and the head office's writes are keyed by it.

Like the MQTT payloads, every envelope carries `schema_version`; changes within a
version are additive only, and receivers ignore fields they do not know.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from edge.contract.ids import Identifier

SCHEMA_VERSION = 1
SUBJECT_ROOT = "shelfsense"


class Kind(StrEnum):
    """What a message carries; the last level of its subject."""

    EVENT = "event"
    ROLLUP = "rollup"
    SALES = "sales"
    PRODUCTS = "products"
    HEALTH = "health"
    PROFILE = "profile"


def subject(store: str, kind: Kind) -> str:
    """`shelfsense.<store>.<kind>`: a store's credential may publish only under its id."""
    return f"{SUBJECT_ROOT}.{store}.{kind.value}"


def parse_subject(text: str) -> tuple[str, Kind]:
    """(store, kind) of a subject; ValueError naming the subject when it is not ours."""
    parts = text.split(".")
    if len(parts) != 3 or parts[0] != SUBJECT_ROOT:
        raise ValueError(f"subject {text!r}: want {SUBJECT_ROOT}.<store>.<kind>")
    try:
        return parts[1], Kind(parts[2])
    except ValueError:
        raise ValueError(f"subject {text!r}: unknown kind {parts[2]!r}") from None


Gtin = Annotated[str, Field(pattern=r"^[0-9]{8,14}$")]
Money = Annotated[float, Field(ge=0.0)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SlotEvent(_Body):
    """A slot's state changed (gap opened or closed, wrong product, messy...)."""

    camera: Identifier
    row: int
    slot: int
    sku: Gtin | None = None
    brand: str | None = None
    event: str
    status: str
    at: datetime


class SlotHour(_Body):
    """One slot's hour: minutes in each status, as the camera saw it."""

    row: int
    slot: int
    sku: Gtin | None = None
    brand: str | None = None
    facings: int = 1
    minutes: dict[str, float] = Field(default_factory=dict)  # status -> minutes


class HourlyRollup(_Body):
    """One camera's hour: every slot's minutes by status and the compliance score."""

    camera: Identifier
    hour: datetime
    compliance: float | None = Field(default=None, ge=0.0, le=1.0)
    slots: list[SlotHour] = Field(default_factory=list)


class SkuSales(_Body):
    sku: Gtin
    units: float = Field(ge=0.0)
    revenue: Money = 0.0

    @property
    def price(self) -> float | None:
        """Mean unit price over the hour (None when nothing sold)."""
        return self.revenue / self.units if self.units else None


class HourlySales(_Body):
    """A store's sales in one hour, per SKU, with money (no baskets, no customers)."""

    hour: datetime
    currency: str = "EUR"
    lines: list[SkuSales] = Field(default_factory=list)


class ShelfProduct(_Body):
    """A product a layout puts on the shelf: where, how many facings, what share."""

    camera: Identifier
    row: int
    slot: int
    sku: Gtin
    brand: str
    name: str | None = None
    facings: int = 1
    shelf_level: int = Field(description="1 = the top shelf of the bay")
    share_of_shelf: float = Field(ge=0.0, le=1.0, description="of the bay's facings")


class ProductFacts(_Body):
    """Every product one camera's current layout shows (replaces the previous facts)."""

    camera: Identifier
    layout_version: str
    products: list[ShelfProduct] = Field(default_factory=list)


class DeviceHealth(_Body):
    camera: Identifier
    online: bool
    last_seen: datetime | None = None
    inference_ms: float | None = None
    uplink_backlog: int | None = None


class StoreProfile(_Body):
    """Who the store is, for cross-store views: no owner's or customer's personal data."""

    name: str
    chain: str | None = None
    format: str = "convenience"
    region: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    currency: str = "EUR"


BODIES: dict[Kind, type[_Body]] = {
    Kind.EVENT: SlotEvent,
    Kind.ROLLUP: HourlyRollup,
    Kind.SALES: HourlySales,
    Kind.PRODUCTS: ProductFacts,
    Kind.HEALTH: DeviceHealth,
    Kind.PROFILE: StoreProfile,
}


class Envelope(BaseModel):
    """One uplink message: its id, store, kind, when it was made, and its body."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = SCHEMA_VERSION
    id: str = Field(min_length=1, max_length=200)
    store: Identifier
    kind: Kind
    at: datetime
    body: dict[str, Any]

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"schema_version {value} is not {SCHEMA_VERSION}")
        return value

    @property
    def subject(self) -> str:
        return subject(self.store, self.kind)

    def parsed(self) -> _Body:
        """The body as its kind's model (ValueError naming the field when it is not)."""
        return BODIES[self.kind].model_validate(self.body)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        return cls.model_validate_json(data)


def envelope(store: str, kind: Kind, key: str, body: _Body, at: datetime | None = None) -> Envelope:
    """An envelope whose id is `store:kind:key`: the same fact always gets the same id."""
    return Envelope(
        id=f"{store}:{kind.value}:{key}",
        store=store,
        kind=kind,
        at=at or datetime.now(UTC),
        body=body.model_dump(mode="json"),
    )
