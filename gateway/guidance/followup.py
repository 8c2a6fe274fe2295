"""Did an accepted assortment item work? Read from the store's own POS sales (returns
and screened-out lines left out, as velocity does), so the answer needs no head office
and no network.

- An accepted add: units of the SKU sold since the decision, as a weekly rate, against
  what HQ expected (`expected_per_week`). `selling` once it sells at least half the
  expected rate; `below` when it sells less after `JUDGE_DAYS`; `waiting` before that
  (a new product needs delivery and shelf time first).
- An accepted delist: units of the SKU still sold since (the shelf sells out), and the
  weekly rate of what its facings went to since, against its rate before (when HQ
  gave one): did the space earn more?
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.retail.velocity_queries import units_sold
from gateway.storage.connection import Database
from gateway.storage.sql import parse_time

JUDGE_DAYS = 14
"""An add gets this long before it is called below expectation."""


def follow_up(db: Database, item: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """The follow-up of an accepted item (None for the others)."""
    decided = parse_time(item.get("decided_at"))
    if item["status"] != "accepted" or decided is None:
        return None
    days = max((now - decided).total_seconds() / 86400, 0.0)
    weeks = max(days, 1.0) / 7
    units = float(units_sold(db, item["store"], item["sku"], decided))
    out: dict[str, Any] = {"days": round(days, 1), "units": units, "per_week": units / weeks}
    detail = item["detail"]
    if item["kind"] == "add":
        expected = float(detail.get("expected_per_week") or 0.0)
        out["expected_per_week"] = expected
        if expected and out["per_week"] >= 0.5 * expected:
            out["verdict"] = "selling"
        elif days >= JUDGE_DAYS:
            out["verdict"] = "below"
        else:
            out["verdict"] = "waiting"
        return out
    target = detail.get("give_to_sku")
    if target:
        given = float(units_sold(db, item["store"], target, decided))
        out["give_to_per_week"] = given / weeks
        out["give_to_before_per_week"] = detail.get("give_to_per_week")
    out["verdict"] = "sold out" if units == 0 and days >= 7 else "selling off"
    return out
