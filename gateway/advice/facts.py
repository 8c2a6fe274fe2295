"""The facts the advice rules read, gathered from the database for one store.

The slot change log (`slot_states`, a row per status or SKU change) gives each slot's
current status and since when; occluded/unknown rows are looked through, so a shopper
in front of an empty slot does not end its empty period. The log is read for the last
`history_hours`; a run that reaches further back is followed into older rows of that
slot only, so run starts (and the episodes built on them) never drift.

Velocity profiles use complete local days only, so they change once a day or when
sales of past days arrive: `ProfileCache` keeps them until then.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from edge.contract.messages import SlotStatus
from edge.layout import Layout, RowSpec, SlotSpec
from gateway.advice.rules import BayFacts, Demand, SlotFacts
from gateway.config.settings import AdviceSettings
from gateway.retail import velocity_queries
from gateway.retail.catalogue import names as catalogue_names
from gateway.retail.velocity import VelocityProfile
from gateway.storage.connection import Database
from gateway.storage.layouts import list_layouts
from gateway.storage.slot_log import slot_history
from gateway.storage.sql import db_time, parse_time

NEUTRAL = frozenset({SlotStatus.OCCLUDED.value, SlotStatus.UNKNOWN.value})
"""Statuses that say nothing about the shelf: runs are looked through them."""
HIDES_STOCK = NEUTRAL | {SlotStatus.MESSY.value}
"""Statuses that say nothing about how full the slot is: the node reports `messy` before
`low`, so a low slot that looks messy for a while is still low. The restock episode
(`not_stocked_since`) is looked through them: only a slot seen stocked ends it."""
OLDER_PAGE = 200

Row = tuple[str, str | None, str]  # (status, sku, ts)


class SlotLog:
    """One slot's log rows, newest first, reading older rows only when asked."""

    def __init__(
        self, db: Database, key: tuple[str, str, int, int], recent: list[Row], whole: bool = False
    ) -> None:
        """`whole`: `recent` is the slot's whole log (nothing older to read)."""
        self._db = db
        self._key = key
        self._rows = list(reversed(recent))  # newest first
        self._complete = whole

    def newest_first(self) -> Iterator[Row]:
        i = 0
        while True:
            if i < len(self._rows):
                yield self._rows[i]
                i += 1
            elif self._complete or not self._load_older():
                return

    def _load_older(self) -> bool:
        store, camera, row, slot = self._key
        before = self._rows[-1][2] if self._rows else "9999"
        with self._db.read() as conn:
            older = conn.execute(
                "SELECT status, sku, ts FROM slot_states WHERE store = ? AND camera = ?"
                " AND row = ? AND slot = ? AND ts < ? ORDER BY ts DESC, id DESC LIMIT ?",
                (store, camera, row, slot, before, OLDER_PAGE),
            ).fetchall()
        self._rows.extend((r["status"], r["sku"], r["ts"]) for r in older)
        if len(older) < OLDER_PAGE:
            self._complete = True
        return bool(older)


def run_start(
    log: SlotLog, keep: Callable[[str, str | None], bool], through: frozenset[str] = NEUTRAL
) -> datetime | None:
    """Start of the newest run of rows that `keep` (rows of a `through` status looked
    through); None when the newest row of another status is not kept."""
    start: str | None = None
    for status, sku, ts in log.newest_first():
        if status in through:
            continue
        if not keep(status, sku):
            break
        start = ts
    return parse_time(start)


def last_restock(recent: Sequence[Row]) -> datetime | None:
    """Newest time the slot went from empty/low to stocked among `recent` rows (oldest
    first, the `history_hours` read); older restocks come from the events table."""
    previous: str | None = None
    found: str | None = None
    for status, _sku, ts in recent:
        if status in NEUTRAL:
            continue
        if status == "stocked" and previous in ("empty", "low"):
            found = ts
        previous = status
    return parse_time(found)


class ProfileCache:
    """Velocity profiles per store, valid for one local day and one count of past sales."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple[object, ...], dict[str, VelocityProfile]]] = {}

    def profiles(
        self,
        db: Database,
        store: str,
        skus: Sequence[str],
        *,
        tz: ZoneInfo,
        window_days: int,
        now: datetime,
    ) -> dict[str, VelocityProfile]:
        today = now.astimezone(tz).date()
        midnight = datetime.combine(today, datetime.min.time(), tzinfo=tz)
        with db.read() as conn:
            past = conn.execute(
                "SELECT count(*) FROM sales WHERE store = ? AND ts < ?",
                (store, db_time(midnight)),
            ).fetchone()[0]
        stamp = (today, past, window_days, tz.key, tuple(sorted(set(skus))))
        with self._lock:
            cached = self._cache.get(store)
            if cached is not None and cached[0] == stamp:
                return cached[1]
        found = velocity_queries.velocity_profiles(
            db, store, skus, tz=tz, window_days=window_days, now=now
        )
        with self._lock:
            self._cache[store] = (stamp, found)
        return found


def _restock_events(db: Database, store: str, camera: str) -> dict[tuple[int, int], datetime]:
    """Newest `restocked`/`gap_closed` event per slot (events are kept for all time)."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT row, slot, max(ts) AS ts FROM events WHERE store = ? AND camera = ?"
            " AND type IN ('restocked', 'gap_closed') AND row IS NOT NULL GROUP BY row, slot",
            (store, camera),
        ).fetchall()
    return {(r["row"], r["slot"]): datetime.fromisoformat(r["ts"]) for r in rows}


def _online(db: Database, store: str) -> dict[str, bool]:
    with db.read() as conn:
        rows = conn.execute("SELECT camera, online FROM cameras WHERE store = ?", (store,))
        return {r["camera"]: bool(r["online"]) for r in rows.fetchall()}


def _oldest_row(db: Database, store: str, camera: str) -> datetime | None:
    with db.read() as conn:
        ts = conn.execute(
            "SELECT min(ts) FROM slot_states WHERE store = ? AND camera = ?", (store, camera)
        ).fetchone()[0]
    return parse_time(ts)


def build_bays(
    db: Database,
    store: str,
    now: datetime,
    settings: AdviceSettings,
    *,
    tz: ZoneInfo,
    window_days: int,
    cache: ProfileCache | None = None,
) -> list[BayFacts]:
    """Facts for every camera of `store` that has a layout."""
    layouts = [r for r in list_layouts(db) if r["store"] == store]
    online = _online(db, store)
    parsed = {r["camera"]: Layout.model_validate(r["layout"]) for r in layouts}
    skus = [s.sku for lay in parsed.values() for row in lay.rows for s in row.slots if s.sku]
    total_facings: dict[str, int] = defaultdict(int)
    for lay in parsed.values():
        for row in lay.rows:
            for s in row.slots:
                if s.sku:
                    total_facings[s.sku] += s.facings
    profiles = (cache or ProfileCache()).profiles(
        db, store, skus, tz=tz, window_days=window_days, now=now
    )
    names = catalogue_names(db, skus)
    last_sales = velocity_queries.last_sales(db, store, skus)
    prices = velocity_queries.last_unit_prices(db, store, skus)
    since = now - timedelta(hours=settings.history_hours)
    bays = []
    for record in layouts:
        camera = record["camera"]
        layout = parsed[camera]
        history: dict[tuple[int, int], list[Row]] = defaultdict(list)
        for h in slot_history(db, store, camera, since=since):
            history[(h["row"], h["slot"])].append((h["status"], h["sku"], h["ts"]))
        events = _restock_events(db, store, camera)
        # A log younger than the read window is whole: no slot needs its older rows.
        oldest = _oldest_row(db, store, camera)
        whole = oldest is None or oldest >= since
        slots = []
        for row in layout.rows:
            for spec in row.slots:
                recent = history[(row.index, spec.index)]
                log = SlotLog(db, (store, camera, row.index, spec.index), recent, whole)
                profile = profiles.get(spec.sku) if spec.sku else None
                demand = None
                if profile is not None and profile.units > 0 and spec.sku:
                    demand = Demand(profile, spec.facings / total_facings[spec.sku])
                slots.append(
                    _slot_facts(
                        db,
                        store,
                        camera,
                        layout,
                        row,
                        spec,
                        log,
                        demand,
                        last_restock(recent),
                        events,
                        now,
                        names.get(spec.sku or ""),
                        last_sales.get(spec.sku or ""),
                        prices.get(spec.sku or ""),
                    )
                )
        bays.append(
            BayFacts(
                store=store,
                camera=camera,
                online=online.get(camera, False),
                layout_version=record["version"],
                layout_updated_at=datetime.fromisoformat(record["updated_at"]),
                slots=tuple(slots),
            )
        )
    return bays


def _slot_facts(
    db: Database,
    store: str,
    camera: str,
    layout: Layout,
    row_spec: RowSpec,
    spec: SlotSpec,
    log: SlotLog,
    demand: Demand | None,
    restock_seen: datetime | None,
    events: dict[tuple[int, int], datetime],
    now: datetime,
    catalogue_name: tuple[str | None, str | None] | None,
    last_sale: datetime | None,
    unit_price: float | None,
) -> SlotFacts:
    current = next(((st, sku, ts) for st, sku, ts in log.newest_first() if st not in NEUTRAL), None)
    name = spec.name or (catalogue_name[0] if catalogue_name else None)
    brand = spec.brand or (catalogue_name[1] if catalogue_name else None)
    row = row_spec.index
    base = SlotFacts(
        store=store,
        camera=camera,
        row=row,
        slot=spec.index,
        bay=" ".join(
            f"{kind} {value}"
            for kind, value in (("aisle", layout.aisle), ("bay", layout.bay))
            if value
        )
        or None,
        shelf=row_spec.label,
        sku=spec.sku,
        name=name,
        brand=brand,
        facings=spec.facings,
        depth=spec.depth,
        status=SlotStatus.UNKNOWN,
        last_sale=last_sale,
        demand=demand,
        unit_price=unit_price,
    )
    if current is None:
        return base
    status, seen_sku = current[0], current[1]
    restocks = [t for t in (restock_seen, events.get((row, spec.index))) if t is not None]
    restocked = max(restocks) if restocks else None
    sold = None
    if restocked is not None and spec.sku and demand is not None:
        sold = velocity_queries.units_sold(db, store, spec.sku, restocked, now) * demand.share
    return SlotFacts(
        **{
            **base.__dict__,
            "status": SlotStatus(status),
            "seen_sku": seen_sku,
            "status_since": run_start(log, lambda st, sk: st == status and sk == seen_sku),
            "empty_since": run_start(log, lambda st, sk: st == "empty"),
            "not_stocked_since": run_start(
                log, lambda st, sk: st in ("empty", "low"), through=HIDES_STOCK
            ),
            "not_empty_since": run_start(log, lambda st, sk: st != "empty"),
            "last_restock": restocked,
            "units_sold_since_restock": sold,
        }
    )
