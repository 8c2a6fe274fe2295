"""What an advice item is inside the gateway: a candidate the rules propose, an active
advice the verification checks, a verdict, and the key and level every kind shares.

The vocabulary a display reads off the wire (kinds, levels, evidence) belongs to the
MQTT contract, so it is imported from there rather than defined twice.

Each rule measures **units at stake**, the sales lost so far or about to be lost;
`level_for` maps units to a level (`high` from `high_units`, `medium` from
`medium_units`, else `low`). The advice's urgency is then money at stake and `high` is
kept for the dearest few of the store (`gateway.advice.ranking`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from edge.contract.advice import AdviceKind, Evidence, Level
from gateway.advice.phrases import Phrase
from gateway.config.settings import AdviceSettings


@dataclass(frozen=True)
class Candidate:
    """Advice the facts call for now; the store refreshes or creates it by `key`."""

    key: str
    kind: AdviceKind
    store: str
    camera: str
    row: int | None
    slot: int | None
    sku: str | None
    name: str | None
    brand: str | None
    cause: str
    action: str
    reason: str
    urgency: float
    level: Level
    evidence: Evidence
    episode_start: datetime
    action_phrase: Phrase | None = None
    """`action` as a catalogue key and raw figures, for pages in other languages (the
    rules set both from one phrase; None only where a caller wrote plain text)."""
    reason_phrase: Phrase | None = None


@dataclass(frozen=True)
class ActiveAdvice:
    """What the resolution check needs of an open or acknowledged advice."""

    id: int
    key: str
    kind: AdviceKind
    camera: str
    row: int | None
    slot: int | None
    sku: str | None
    episode_start: datetime
    evidence: Evidence


@dataclass(frozen=True)
class Resolution:
    advice_id: int
    verified: bool
    note: str


def advice_key(kind: AdviceKind, store: str, camera: str, row: int | None, slot: int | None) -> str:
    """The de-duplication key: one active advice per kind and slot (per bay for facings)."""
    if row is None or slot is None:
        return f"{kind.value}:{store}/{camera}"
    return f"{kind.value}:{store}/{camera}/{row}/{slot}"


def level_for(urgency: float, settings: AdviceSettings) -> Level:
    if urgency >= settings.high_units:
        return Level.HIGH
    if urgency >= settings.medium_units:
        return Level.MEDIUM
    return Level.LOW
