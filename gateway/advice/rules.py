"""Advice rules: pure functions from a snapshot of facts to what staff should do.

Nothing here reads the database or the clock: the facts module builds the facts
(camera slot states and their change log, layouts, POS sales, velocity) whose shape is
defined here, and the advice store keeps what the rules propose. So every rule can be
tested with hand-made facts whose answer is known.

Urgency is one scale for every kind: **units at stake**, the sales lost so far or about
to be lost (see each rule for its formula); the model module maps it to a level.

Episodes: each candidate names the start of the situation it is about
(`episode_start`: when the slot went empty, the last restock, the last sale, ...). An
advice that was dismissed or resolved does not come back for the same episode; a new
empty period, a new restock or a new sale starts a new one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from edge.contract.advice import AdviceKind, Evidence
from edge.contract.messages import SlotStatus
from gateway.advice import phrases
from gateway.advice.model import (
    ActiveAdvice,
    Candidate,
    Resolution,
    advice_key,
    level_for,
)
from gateway.advice.phrases import Phrase
from gateway.advice.ranking import SlotKey, one_per_slot, priced, rank_levels, slot_key
from gateway.config.settings import AdviceSettings
from gateway.retail.velocity import VelocityProfile

HOUR = timedelta(hours=1)
SEEN_NOT_EMPTY = frozenset(
    {SlotStatus.STOCKED, SlotStatus.LOW, SlotStatus.MESSY, SlotStatus.WRONG_PRODUCT}
)
"""Statuses that show product in the slot (unknown and occluded show nothing)."""


# ---- facts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Demand:
    """A slot's expected sales: the SKU's store velocity times this slot's share of it
    (its facings over all facings of the SKU in the store)."""

    profile: VelocityProfile
    share: float = 1.0

    @property
    def window_units(self) -> int:
        """Units of the SKU (whole store) behind the estimate."""
        return self.profile.units

    @property
    def daily_rate(self) -> float:
        return self.profile.daily_rate * self.share

    def rate_at(self, at: datetime) -> float:
        return self.profile.rate_at(at) * self.share

    def expected_units(self, start: datetime, end: datetime) -> float:
        return self.profile.expected_units(start, end) * self.share if end > start else 0.0

    def time_to_sell(self, units: float, start: datetime, limit: timedelta) -> timedelta | None:
        """How long from `start` until `units` are expected to have sold; None if not
        within `limit` (bisection: expected units only grow with time)."""
        if units <= 0:
            return timedelta(0)
        if self.expected_units(start, start + limit) < units:
            return None
        lo, hi = 0.0, limit.total_seconds()
        for _ in range(30):
            mid = (lo + hi) / 2
            if self.expected_units(start, start + timedelta(seconds=mid)) >= units:
                hi = mid
            else:
                lo = mid
        return timedelta(seconds=hi)


@dataclass(frozen=True)
class SlotFacts:
    """One layout slot as the camera and the till see it.

    `status` is the camera's current status with occlusion looked through: while a
    shopper stands in front (occluded/unknown) the last real status holds. The `*_since`
    times start the current run of that condition (occluded frames do not break a run).
    """

    store: str
    camera: str
    row: int
    slot: int
    sku: str | None
    name: str | None = None
    brand: str | None = None
    facings: int = 1
    depth: int = 1
    status: SlotStatus = SlotStatus.STOCKED
    status_since: datetime | None = None
    seen_sku: str | None = None
    empty_since: datetime | None = None
    not_stocked_since: datetime | None = None
    """Start of the current run of empty/low (messy looked through): the restock episode."""
    not_empty_since: datetime | None = None
    """Start of the current run of anything but empty (or when the camera first saw it)."""
    last_restock: datetime | None = None
    """Last time the camera saw the slot go from empty/low to stocked."""
    units_sold_since_restock: float | None = None
    """This slot's share of the SKU's store sales since `last_restock`."""
    last_sale: datetime | None = None
    """Newest sale of the SKU in the store."""
    demand: Demand | None = None
    unit_price: float | None = None
    """The price the till last sold the SKU at (None: never sold here)."""
    bay: str | None = None
    """The layout's own name for the shelf section ('aisle 3 bay B'), if it gives one."""
    shelf: str | None = None
    """The row's own label ('top'), if the layout gives one."""

    @property
    def capacity(self) -> int:
        return self.facings * self.depth

    @property
    def where(self) -> Phrase:
        """Where a person finds the slot: the layout's names where it gives them, else the
        camera and rows and slots counted from 1, as every page shows them (the layout
        and the wire count from 0)."""
        return phrases.where(self.bay or self.camera, self.row, self.slot, self.shelf)

    @property
    def place(self) -> Phrase:
        return phrases.place(self.row, self.slot, self.shelf)

    @property
    def product(self) -> str | Phrase:
        return phrases.product(self.name, self.sku)


@dataclass(frozen=True)
class BayFacts:
    """One camera's shelf section (its layout) and what it sees."""

    store: str
    camera: str
    online: bool
    layout_version: str
    layout_updated_at: datetime
    slots: Sequence[SlotFacts] = field(default_factory=tuple)


# ---- helpers -------------------------------------------------------------------------


def _minutes(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 60)


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _candidate(
    s: SlotFacts,
    kind: AdviceKind,
    settings: AdviceSettings,
    *,
    cause: str,
    action: Phrase,
    reason: Phrase,
    urgency: float,
    evidence: Evidence,
    episode_start: datetime,
) -> Candidate:
    return Candidate(
        key=advice_key(kind, s.store, s.camera, s.row, s.slot),
        kind=kind,
        store=s.store,
        camera=s.camera,
        row=s.row,
        slot=s.slot,
        sku=s.sku,
        name=s.name,
        brand=s.brand,
        cause=cause,
        action=action.english(),
        reason=reason.english(),
        urgency=round(urgency, 3),
        level=level_for(urgency, settings),
        evidence=evidence,
        episode_start=episode_start,
        action_phrase=action,
        reason_phrase=reason,
    )


# ---- the rules -----------------------------------------------------------------------


def restock(s: SlotFacts, now: datetime, settings: AdviceSettings) -> Candidate | None:
    """Empty (or low) slot: restock it.

    Empty: urgency = estimated lost sales = expected units over the empty period,
    the integral of the slot's hourly rate (= units/hour x minutes_empty / 60 at a flat
    rate). Low: nothing is lost yet, so urgency = the demand of the next hour (what a
    restock within the hour protects). Advice after `restock_grace_min` empty
    (`low_grace_min` low), so one bad frame never sends anyone to the shelf.
    """
    if s.status == SlotStatus.EMPTY and s.empty_since is not None:
        since, grace = s.empty_since, settings.restock_grace_min
    elif s.status == SlotStatus.LOW and s.status_since is not None:
        since, grace = s.status_since, settings.low_grace_min
    else:
        return None
    minutes = _minutes(since, now)
    if minutes < grace or s.not_stocked_since is None:
        return None
    rate = s.demand.rate_at(now) if s.demand else None
    if s.status == SlotStatus.EMPTY:
        lost = s.demand.expected_units(since, now) if s.demand else 0.0
        urgency = lost
        reason = (
            Phrase(
                "advice.empty_selling",
                {"minutes": _r(minutes, 2), "daily": _r(s.demand.daily_rate), "lost": _r(lost)},
            )
            if s.demand
            else Phrase("advice.empty_for", {"minutes": _r(minutes, 2)})
        )
        evidence = Evidence(
            status=s.status,
            status_since=since,
            minutes_empty=_r(minutes, 1),
            units_per_hour=_r(rate),
            units_per_day=_r(s.demand.daily_rate, 1) if s.demand else None,
            lost_sales=_r(lost),
        )
    else:
        urgency = s.demand.expected_units(now, now + HOUR) if s.demand else 0.0
        reason = (
            Phrase(
                "advice.low_selling", {"minutes": _r(minutes, 2), "daily": _r(s.demand.daily_rate)}
            )
            if s.demand
            else Phrase("advice.low_for", {"minutes": _r(minutes, 2)})
        )
        evidence = Evidence(
            status=s.status,
            status_since=since,
            minutes_in_status=_r(minutes, 1),
            units_per_hour=_r(rate),
            units_per_day=_r(s.demand.daily_rate, 1) if s.demand else None,
            lost_sales=0.0,
        )
    return _candidate(
        s,
        AdviceKind.RESTOCK,
        settings,
        cause=s.status.value,
        action=Phrase("advice.restock", {"product": s.product, "where": s.where}),
        reason=reason,
        urgency=urgency,
        evidence=evidence,
        episode_start=s.not_stocked_since,
    )


def predicted_stockout(s: SlotFacts, now: datetime, settings: AdviceSettings) -> Candidate | None:
    """The slot will run empty within `horizon_h`, though the camera still sees stock.

    units on shelf = facings x depth - (slot's share of) units sold since the last
    restock the camera saw; time to empty = when the velocity's expected sales from now
    reach that. Urgency = expected sales between running out and the horizon (what
    would be lost if nobody restocks before then). Needs a restock seen by the camera
    and a velocity from at least `min_window_units` units.
    """
    if s.status not in (SlotStatus.STOCKED, SlotStatus.LOW, SlotStatus.MESSY):
        return None
    d = s.demand
    if d is None or d.window_units < settings.min_window_units:
        return None
    if s.last_restock is None or s.units_sold_since_restock is None:
        return None
    horizon = timedelta(hours=settings.horizon_h)
    on_shelf = max(0.0, s.capacity - s.units_sold_since_restock)
    to_empty = d.time_to_sell(on_shelf, now, horizon)
    if to_empty is None:
        return None
    at_stake = d.expected_units(now + to_empty, now + horizon)
    minutes = to_empty.total_seconds() / 60
    return _candidate(
        s,
        AdviceKind.PREDICTED_STOCKOUT,
        settings,
        cause="sales_since_restock",
        action=Phrase(
            "advice.restock_within",
            {"product": s.product, "where": s.where, "minutes": _r(minutes, 2)},
        ),
        reason=Phrase(
            "advice.supply_left",
            {
                "on_shelf": _r(on_shelf),
                "capacity": s.capacity,
                "sold": _r(s.units_sold_since_restock),
                "hours": _r(minutes / 60),
                "daily": _r(d.daily_rate),
            },
        ),
        urgency=at_stake,
        evidence=Evidence(
            status=s.status,
            capacity=s.capacity,
            last_restock=s.last_restock,
            units_sold_since_restock=_r(s.units_sold_since_restock),
            units_on_shelf=_r(on_shelf),
            minutes_to_empty=_r(minutes, 1),
            hours_of_supply=_r(minutes / 60, 1),
            units_per_hour=_r(d.rate_at(now)),
            units_per_day=_r(d.daily_rate, 1),
            lost_sales=_r(at_stake),
            window_units=d.window_units,
            window_days=d.profile.days,
        ),
        episode_start=s.last_restock,
    )


def hidden_stockout(s: SlotFacts, now: datetime, settings: AdviceSettings) -> Candidate | None:
    """No sale for far longer than usual while the camera sees the slot not empty.

    Silent interval = from the later of the last sale of the SKU and the start of the
    current not-empty run, to now. Under the velocity's Poisson rate,
    P(no sale) = exp(-expected units in the interval) (whole-store SKU demand: a sale
    anywhere ends the silence). Below `hidden_p_max` the product is probably gone
    (hidden behind others, a wrong product in front, a dummy): check the display.
    Urgency = the expected units that did not sell.
    """
    if s.status not in SEEN_NOT_EMPTY or s.sku is None:
        return None
    d = s.demand
    if d is None or d.window_units < settings.min_window_units:
        return None
    starts = [t for t in (s.last_sale, s.not_empty_since) if t is not None]
    if not starts:
        return None
    start = max(starts)
    minutes = _minutes(start, now)
    if minutes < settings.hidden_min_minutes:
        return None
    expected = d.profile.expected_units(start, now)
    p = math.exp(-expected)
    if p >= settings.hidden_p_max:
        return None
    wait = d.profile.expected_time_between_sales(now)
    wrong = s.status == SlotStatus.WRONG_PRODUCT
    seen = Phrase("advice.seen_other" if wrong else f"advice.seen_{s.status.value}")
    return _candidate(
        s,
        AdviceKind.HIDDEN_STOCKOUT,
        settings,
        cause="wrong_product" if wrong else "no_sales",
        action=Phrase("advice.check_display", {"product": s.product, "where": s.where}),
        reason=Phrase(
            "advice.no_sale",
            {"minutes": _r(minutes, 2), "expected": _r(expected), "p": _r(p, 6), "seen": seen},
        ),
        urgency=expected,
        evidence=Evidence(
            status=s.status,
            seen_sku=s.seen_sku,
            last_sale=s.last_sale,
            minutes_without_sale=_r(minutes, 1),
            expected_units=_r(expected),
            p_no_sale=_r(p, 6),
            expected_minutes_between_sales=_r(wait.total_seconds() / 60, 1) if wait else None,
            units_per_hour=_r(d.profile.rate_at(now)),
            units_per_day=_r(d.profile.daily_rate, 1),
            window_units=d.window_units,
            window_days=d.profile.days,
        ),
        episode_start=start,
    )


def fix_display(s: SlotFacts, now: datetime, settings: AdviceSettings) -> Candidate | None:
    """A wrong product stands in the slot (or the camera reads another SKU there).

    While it stands there the right product cannot be seen or bought, so urgency =
    the slot's expected sales over that time, as for an empty slot.
    """
    if s.status_since is None:
        return None
    if s.status == SlotStatus.WRONG_PRODUCT:
        cause = "wrong_product"
    elif s.seen_sku and s.sku and s.seen_sku != s.sku and s.status != SlotStatus.EMPTY:
        cause = "misplaced"
    else:
        return None
    minutes = _minutes(s.status_since, now)
    if minutes < settings.display_grace_min:
        return None
    lost = s.demand.expected_units(s.status_since, now) if s.demand else 0.0
    place = {"product": s.product, "where": s.where}
    action = (
        Phrase("advice.put_back_seen", {**place, "seen": s.seen_sku})
        if s.seen_sku and s.seen_sku != s.sku
        else Phrase("advice.put_back", place)
    )
    return _candidate(
        s,
        AdviceKind.FIX_DISPLAY,
        settings,
        cause=cause,
        action=action,
        reason=Phrase(f"advice.{cause}_for", {"minutes": _r(minutes, 2)}),
        urgency=lost,
        evidence=Evidence(
            status=s.status,
            status_since=s.status_since,
            minutes_in_status=_r(minutes, 1),
            seen_sku=s.seen_sku,
            units_per_hour=_r(s.demand.rate_at(now)) if s.demand else None,
            units_per_day=_r(s.demand.daily_rate, 1) if s.demand else None,
            lost_sales=_r(lost),
        ),
        episode_start=s.status_since,
    )


def tidy(s: SlotFacts, now: datetime, settings: AdviceSettings) -> Candidate | None:
    """A messy slot for `tidy_grace_min`: tidy it. No sales are measurably lost, so
    urgency is 0 (level low); the minutes messy say how long it has looked bad."""
    if s.status != SlotStatus.MESSY or s.status_since is None:
        return None
    minutes = _minutes(s.status_since, now)
    if minutes < settings.tidy_grace_min:
        return None
    return _candidate(
        s,
        AdviceKind.TIDY,
        settings,
        cause="messy",
        action=Phrase("advice.tidy", {"product": s.product, "where": s.where}),
        reason=Phrase("advice.messy_for", {"minutes": _r(minutes, 2)}),
        urgency=0.0,
        evidence=Evidence(
            status=s.status, status_since=s.status_since, minutes_in_status=_r(minutes, 1)
        ),
        episode_start=s.status_since,
    )


def facings(bay: BayFacts, now: datetime, settings: AdviceSettings) -> Candidate | None:
    """Move one facing from the slowest to the fastest seller of a bay.

    days of supply = facings x depth / (slot's units per day). The fast seller is the
    slot with the fewest days of supply; the slow one the slot with the most that has
    a facing to spare. Advise when the fast one has less than `facings_max_days_supply`
    and, after the move, the slow one would still hold at least that and no less than
    the fast one. Needs `facings_min_days` of history and `facings_min_units` units
    sold from the bay. A facing change is a planogram decision, not a rush: urgency 0,
    level low; days of supply say how much it matters.
    """
    slots = [
        s
        for s in bay.slots
        if s.sku and s.demand and s.demand.profile.days >= settings.facings_min_days
    ]
    if len(slots) < 2:
        return None
    daily = {id(s): s.demand.daily_rate for s in slots if s.demand}
    bay_units = sum(daily[id(s)] * s.demand.profile.days for s in slots if s.demand)
    if bay_units < settings.facings_min_units:
        return None

    def supply(s: SlotFacts, faces: int) -> float:
        rate = daily[id(s)]
        return math.inf if rate <= 0 else faces * s.depth / rate

    fast = min(slots, key=lambda s: supply(s, s.facings))
    spare = [s for s in slots if s.facings >= 2 and s.sku != fast.sku]
    if not spare:
        return None
    slow = max(spare, key=lambda s: supply(s, s.facings))
    limit = settings.facings_max_days_supply
    fast_now, fast_after = supply(fast, fast.facings), supply(fast, fast.facings + 1)
    slow_now, slow_after = supply(slow, slow.facings), supply(slow, slow.facings - 1)
    if fast_now >= limit or slow_after < max(limit, fast_after):
        return None
    total_daily = sum(daily.values()) or 1.0
    total_facings = sum(s.facings for s in slots)

    def finite(x: float) -> float | None:
        return None if math.isinf(x) else round(x, 2)

    urgency = 0.0
    action = Phrase(
        "advice.move_facing",
        {
            "slow": slow.product,
            "slow_place": slow.place,
            "fast": fast.product,
            "fast_place": fast.place,
            "camera": bay.camera,
        },
    )
    reason = Phrase(
        "advice.supply_compare",
        {
            "fast": fast.product,
            "fast_now": phrases.days(fast_now),
            "slow": slow.product,
            "slow_now": phrases.days(slow_now),
            "fast_after": phrases.days(fast_after),
            "slow_after": phrases.days(slow_after),
        },
    )
    return Candidate(
        key=advice_key(AdviceKind.FACINGS, bay.store, bay.camera, None, None),
        kind=AdviceKind.FACINGS,
        store=bay.store,
        camera=bay.camera,
        row=fast.row,
        slot=fast.slot,
        sku=fast.sku,
        name=fast.name,
        brand=fast.brand,
        cause="days_of_supply",
        action=action.english(),
        reason=reason.english(),
        action_phrase=action,
        reason_phrase=reason,
        urgency=round(urgency, 3),
        level=level_for(urgency, settings),
        evidence=Evidence(
            sales_share=round(daily[id(fast)] / total_daily, 3),
            facings_share=round(fast.facings / total_facings, 3),
            days_of_supply=finite(fast_now),
            days_of_supply_after=finite(fast_after),
            from_row=slow.row,
            from_slot=slow.slot,
            from_sku=slow.sku,
            from_name=slow.name,
            from_sales_share=round(daily[id(slow)] / total_daily, 3),
            from_facings_share=round(slow.facings / total_facings, 3),
            from_days_of_supply=finite(slow_now),
            from_days_of_supply_after=finite(slow_after),
            facings=fast.facings,
            window_units=round(bay_units),
            window_days=min(s.demand.profile.days for s in slots if s.demand),
            layout_version=bay.layout_version,
        ),
        episode_start=bay.layout_updated_at,
    )


SLOT_RULES = (restock, predicted_stockout, hidden_stockout, fix_display, tidy)


def candidates(
    bays: Sequence[BayFacts],
    now: datetime,
    settings: AdviceSettings,
    active: Mapping[SlotKey, AdviceKind] | None = None,
) -> list[Candidate]:
    """The advice the facts call for now: one per slot (see `ranking`; `active`: the
    kind of the advice open per slot), urgency as money at stake, levels relative to
    the store. Offline cameras give none: what they last saw may no longer be true."""
    found: list[Candidate] = []
    prices: dict[SlotKey, float | None] = {}
    for bay in bays:
        if not bay.online:
            continue
        for s in bay.slots:
            prices[(s.camera, s.row, s.slot)] = s.unit_price
            for rule in SLOT_RULES:
                c = rule(s, now, settings)
                if c is not None:
                    found.append(c)
        c = facings(bay, now, settings)
        if c is not None:
            found.append(c)
    merged = one_per_slot(found, active)
    fallback = _typical_price(bays)
    priced_found = []
    units: dict[int, float] = {}
    for c in merged:
        key = slot_key(c)
        p = priced(c, prices.get(key) if key else None, fallback)
        units[id(p)] = c.urgency
        priced_found.append(p)
    return rank_levels(priced_found, units, _store_takings(bays, now, settings, fallback), settings)


def _typical_price(bays: Sequence[BayFacts]) -> float:
    """The median known price of the watched SKUs, for a SKU the till never sold (1.0
    when no price is known at all: urgency is then in units)."""
    known = sorted(s.unit_price for b in bays for s in b.slots if s.unit_price is not None)
    return known[len(known) // 2] if known else 1.0


def _store_takings(
    bays: Sequence[BayFacts], now: datetime, settings: AdviceSettings, fallback: float
) -> float:
    """What the watched slots are expected to take in the next `horizon_h` hours."""
    end = now + timedelta(hours=settings.horizon_h)
    return sum(
        s.demand.expected_units(now, end) * (s.unit_price if s.unit_price is not None else fallback)
        for b in bays
        for s in b.slots
        if s.demand is not None
    )


# ---- verification --------------------------------------------------------------------


def _later(t: datetime | None, than: datetime) -> bool:
    return t is not None and t > than


def check_resolution(advice: ActiveAdvice, bay: BayFacts | None) -> Resolution | None:
    """Has the camera (or the till) seen the fix? None: still to do (or cannot tell).

    restock: the slot is stocked, or its empty/low run started after the advice's (it
    was refilled in between). predicted_stockout: a restock seen after the advice's
    one; if the slot ran empty instead, it is closed unverified (restock advice takes
    over). hidden_stockout: the SKU sold again, or the camera now sees the gap.
    fix_display: right product, right SKU. tidy: not messy. facings: the layout gave
    the fast seller more facings. Offline camera: no verdict.
    """
    if bay is None:
        return Resolution(advice.id, False, "the camera has no layout any more")
    if not bay.online:
        return None
    if advice.kind == AdviceKind.FACINGS:
        fast = _slot(bay, advice.row, advice.slot)
        before = advice.evidence.facings or 0
        if fast is not None and fast.sku == advice.sku and fast.facings > before:
            return Resolution(advice.id, True, f"the layout gives it {fast.facings} facings")
        return None
    s = _slot(bay, advice.row, advice.slot)
    if s is None or s.sku != advice.sku:
        return Resolution(advice.id, False, "the slot or its product left the layout")
    start = advice.episode_start
    status = s.status
    if advice.kind == AdviceKind.RESTOCK:
        if status == SlotStatus.STOCKED or _later(s.not_stocked_since, start):
            return Resolution(advice.id, True, "the camera sees the slot restocked")
    elif advice.kind == AdviceKind.PREDICTED_STOCKOUT:
        if _later(s.last_restock, start):
            return Resolution(advice.id, True, "the camera saw a restock")
        if status == SlotStatus.EMPTY:
            return Resolution(advice.id, False, "ran empty before a restock (see restock)")
    elif advice.kind == AdviceKind.HIDDEN_STOCKOUT:
        if _later(s.last_sale, start):
            return Resolution(advice.id, True, "the product sells again")
        if status == SlotStatus.EMPTY:
            return Resolution(advice.id, True, "the camera now sees the gap")
    elif advice.kind == AdviceKind.FIX_DISPLAY:
        right_sku = s.seen_sku is None or s.seen_sku == s.sku
        if status != SlotStatus.WRONG_PRODUCT and right_sku:
            return Resolution(advice.id, True, "the camera sees the right product")
        if _later(s.status_since, start) and status == SlotStatus.WRONG_PRODUCT:
            return Resolution(advice.id, True, "fixed in between (a new episode began)")
    elif advice.kind == AdviceKind.TIDY and (
        status != SlotStatus.MESSY or _later(s.status_since, start)
    ):
        return Resolution(advice.id, True, "the camera sees the slot tidy")
    return None


def _slot(bay: BayFacts, row: int | None, slot: int | None) -> SlotFacts | None:
    return next((s for s in bay.slots if s.row == row and s.slot == slot), None)
