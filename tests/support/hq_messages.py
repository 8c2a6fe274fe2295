"""Small, valid uplink envelopes of every kind, for the head-office transport tests."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.uplink.contract import (
    DeviceHealth,
    Envelope,
    HourlyRollup,
    HourlySales,
    Kind,
    ProductFacts,
    SlotEvent,
    StoreProfile,
    envelope,
)

HOUR = datetime(2026, 3, 2, 9, tzinfo=UTC)


def make(kind: Kind, key: str, store: str = "s1") -> Envelope:
    """An envelope of `kind` whose id is `<store>:<kind>:<key>`."""
    bodies = {
        Kind.HEALTH: DeviceHealth(camera="cam-1", online=True),
        Kind.ROLLUP: HourlyRollup(camera="cam-1", hour=HOUR, compliance=0.9),
        Kind.EVENT: SlotEvent(camera="cam-1", row=0, slot=1, event="gap", status="empty", at=HOUR),
        Kind.SALES: HourlySales(hour=HOUR),
        Kind.PRODUCTS: ProductFacts(camera="cam-1", layout_version="v1"),
        Kind.PROFILE: StoreProfile(name="Corner shop"),
    }
    return envelope(store, kind, key, bodies[kind])
