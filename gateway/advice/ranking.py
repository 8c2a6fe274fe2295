"""One advice per slot, and urgency that means something in this store.

The rules look at a slot each from their own angle, so a low slot that shows another
SKU and sells nothing fires restock, fix_display and hidden_stockout at once. Staff need
one errand per slot: `one_per_slot` keeps the most useful action and carries the other
findings in its evidence (`also`). An advice already shown for the slot gives way only
to a more useful one (a restock when its predicted stock-out came true, a hidden
stock-out found behind it), never to a lesser finding.

Urgency is money at stake (units at stake x the SKU's last till price), and the level
is relative to the store: `high` only for the dearest `high_max_fraction` of the
store's advice (at least one) whose money at stake is at least `high_store_share` of
what the watched shelves are expected to take in the next `horizon_h` hours, and whose
units at stake reach `high_units`; otherwise `medium` from `medium_units`, else `low`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from edge.contract.advice import AdviceKind, Finding, Level
from gateway.advice import phrases
from gateway.advice.model import Candidate, level_for
from gateway.advice.phrases import Phrase
from gateway.config.settings import AdviceSettings

SlotKey = tuple[str, int, int]
"""(camera, row, slot)."""

USEFULNESS = (
    AdviceKind.RESTOCK,
    AdviceKind.FIX_DISPLAY,
    AdviceKind.HIDDEN_STOCKOUT,
    AdviceKind.PREDICTED_STOCKOUT,
    AdviceKind.TIDY,
)
"""Most useful action first: fill a gap, then put the right product back (which also
ends a hidden stock-out behind it), then look behind the display, then restock ahead,
then tidy."""


def slot_key(c: Candidate) -> SlotKey | None:
    """The slot a candidate is about; None for bay-level advice (facings)."""
    if c.kind == AdviceKind.FACINGS or c.row is None or c.slot is None:
        return None
    return (c.camera, c.row, c.slot)


def one_per_slot(
    found: Sequence[Candidate], active: Mapping[SlotKey, AdviceKind] | None = None
) -> list[Candidate]:
    """One candidate per slot (bay-level ones pass through): the most useful, with the
    others as its `also`. An advice shown for the slot (`active`, not being resolved)
    gives way only to a more useful kind; a lesser finding never replaces it."""
    active = active or {}
    groups: dict[SlotKey, list[Candidate]] = {}
    out: list[Candidate] = []
    for c in found:
        key = slot_key(c)
        if key is None:
            out.append(c)
        else:
            groups.setdefault(key, []).append(c)
    for key, group in groups.items():
        shown = active.get(key)
        primary = min(group, key=lambda c: _rank(c.kind))
        if shown is not None and _rank(shown) < _rank(primary.kind):
            # The advice shown is more useful and not yet done (e.g. restock of a low slot
            # that looks messy for a while): it stays, and nothing lesser replaces it.
            continue
        out.append(_with_findings(primary, [c for c in group if c is not primary]))
    return out


def _rank(kind: AdviceKind) -> int:
    return USEFULNESS.index(kind) if kind in USEFULNESS else len(USEFULNESS)


def _with_findings(primary: Candidate, others: Sequence[Candidate]) -> Candidate:
    if not others:
        return primary
    findings = [
        Finding(kind=c.kind, cause=c.cause, reason=c.reason, urgency=c.urgency) for c in others
    ]
    reason = _with_also(primary, others)
    return replace(
        primary,
        reason=reason.english() if reason is not None else _with_also_text(primary, others),
        reason_phrase=reason,
        urgency=max([primary.urgency, *(c.urgency for c in others)]),
        evidence=primary.evidence.model_copy(update={"also": findings}),
    )


def _with_also(primary: Candidate, others: Sequence[Candidate]) -> Phrase | None:
    """The primary's reason phrase with the others' (None when one of them is plain text)."""
    said = [(c.kind.value, c.reason_phrase) for c in others if c.reason_phrase is not None]
    if primary.reason_phrase is None or len(said) < len(others):
        return None
    return phrases.with_also(primary.reason_phrase, said)


def _with_also_text(primary: Candidate, others: Sequence[Candidate]) -> str:
    said = "; ".join(f"{c.kind.value.replace('_', ' ')}: {c.reason}" for c in others)
    return f"{primary.reason} (also: {said})"


def priced(c: Candidate, unit_price: float | None, fallback_price: float) -> Candidate:
    """Urgency as money at stake; the units stay in the evidence."""
    price = unit_price if unit_price is not None else fallback_price
    money = round(c.urgency * price, 2)
    evidence = c.evidence.model_copy(update={"unit_price": unit_price, "money_at_stake": money})
    return replace(c, urgency=money, evidence=evidence)


def rank_levels(
    found: Sequence[Candidate],
    units: Mapping[int, float],
    store_takings: float,
    settings: AdviceSettings,
) -> list[Candidate]:
    """Levels relative to the store (module docstring). `units`: units at stake by
    `id()` of each candidate; `store_takings`: the watched shelves' expected money in
    the next `horizon_h` hours."""
    cap = max(1, math.floor(len(found) * settings.high_max_fraction))
    floor = settings.high_store_share * store_takings
    dearest = sorted(found, key=lambda c: c.urgency, reverse=True)
    high_ids = {
        id(c)
        for c in dearest[:cap]
        if c.urgency > 0 and c.urgency >= floor and units[id(c)] >= settings.high_units
    }
    out = []
    for c in found:
        level = level_for(units[id(c)], settings)
        if level == Level.HIGH and id(c) not in high_ids:
            level = Level.MEDIUM
        out.append(replace(c, level=level))
    return out
