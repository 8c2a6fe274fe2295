"""Simulated store staff who follow the advice, for `shelf-gateway simulate`.

They read the store's open advice as a display shows it, acknowledge each item after
`ACK_DELAY_S` (they saw it and go), and do what it says `WORK_DELAY_S` later, on the
simulated shelf: restock, put the right product back, tidy, bring a hidden product
forward. Advice closed meanwhile (the camera saw the fix) is skipped. The camera then
sees the fix and the gateway resolves the advice as verified, as in a real store.
Other kinds (predicted stock-outs, facings) are plans for later, not errands: staff
leave them. Delays are drawn from the seed, so runs repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from gateway.advice import store as advice_store
from gateway.advice.worker import AdviceService

ACK_DELAY_S = (60.0, 300.0)
"""From the advice appearing to staff acknowledging it."""
WORK_DELAY_S = (120.0, 480.0)
"""From acknowledging to the shelf being fixed."""

Action = Callable[[Any, tuple[int, int]], None]
ACTIONS: dict[str, Action] = {
    "restock": lambda shelf, key: shelf.restock(key),
    "fix_display": lambda shelf, key: shelf.fix(key),
    "tidy": lambda shelf, key: shelf.tidy(key),
    "hidden_stockout": lambda shelf, key: shelf.reveal(key),
}


@dataclass
class _Errand:
    advice_id: int
    kind: str
    camera: str
    slot: tuple[int, int]
    ack_at: datetime
    work_after: timedelta
    fix_at: datetime | None = None


class AdviceFollowingStaff:
    """See the module docstring; call `act(now)` at every tick of simulated time."""

    def __init__(
        self, service: AdviceService, store: str, shelves: dict[str, Any], seed: int
    ) -> None:
        self.service = service
        self.store = store
        self.shelves = shelves
        self._rng = np.random.default_rng([seed, 6])
        self._seen: set[int] = set()
        self._errands: list[_Errand] = []
        self.acknowledged = 0
        self.done = 0

    def act(self, now: datetime) -> None:
        """Pick up new advice, then acknowledge and fix what is due by `now`."""
        self._pick_up(now)
        for errand in list(self._errands):
            record = advice_store.get_advice(self.service.db, errand.advice_id)
            active = record is not None and record["status"] in advice_store.ACTIVE
            if not active:
                self._errands.remove(errand)
            elif errand.fix_at is None and now >= errand.ack_at:
                self.service.acknowledge(errand.advice_id, now=now)
                self.acknowledged += 1
                errand.fix_at = now + errand.work_after
            elif errand.fix_at is not None and now >= errand.fix_at:
                ACTIONS[errand.kind](self.shelves[errand.camera], errand.slot)
                self.done += 1
                self._errands.remove(errand)

    def _pick_up(self, now: datetime) -> None:
        for record in self._open_advice():
            if record["id"] in self._seen or record["kind"] not in ACTIONS:
                continue
            self._seen.add(record["id"])
            if record["camera"] not in self.shelves or record["row"] is None:
                continue
            ack = timedelta(seconds=float(self._rng.uniform(*ACK_DELAY_S)))
            work = timedelta(seconds=float(self._rng.uniform(*WORK_DELAY_S)))
            self._errands.append(
                _Errand(
                    record["id"],
                    record["kind"],
                    record["camera"],
                    (record["row"], record["slot"]),
                    now + ack,
                    work,
                )
            )

    def _open_advice(self) -> Sequence[dict[str, Any]]:
        return sorted(
            advice_store.list_advice(
                self.service.db, store=self.store, status=("open",), limit=10**6
            ),
            key=lambda r: r["id"],
        )
