"""The demo's seeded week of shelf states (`gateway.devtools.demo_history`) in a real
SQLite database, read back by the same report as the compliance page: a score for every
day of the week, a trend (the last days better than the first), and no change to a
database that already holds newer states (a kept `--data-dir`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.devtools.demo_history import HISTORY_DAYS, seed_shelf_history
from gateway.reports.compliance_history import compliance_history
from gateway.reports.scope import ReportScope
from gateway.storage.connection import Database
from tests.support.report_store import store_1_layout


def test_a_seeded_week_shows_a_score_each_day_and_a_trend(tmp_path: Path) -> None:
    db = Database(tmp_path / "shelfsense.db")
    db.open()
    try:
        now = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
        layout = store_1_layout()
        with db.transaction() as tx:
            tx.save_layout("s1", "c1", layout, now - timedelta(days=8))
        stored = seed_shelf_history(db, "s1", "c1", layout, now, seed=1)
        assert stored == HISTORY_DAYS * 24 * 6 - 1
        scope = ReportScope(now - timedelta(days=HISTORY_DAYS), now)
        history = compliance_history(db, scope, "day", zone=ZoneInfo("UTC"))
        store = next(s for s in history.series if s.level == "store")
        days = [score for score in store.scores if score is not None]
        assert len(days) >= HISTORY_DAYS
        assert all(0.2 < score < 1.0 for score in days), days
        first, last = sum(days[1:3]) / 2, sum(days[-3:-1]) / 2
        assert last > first + 0.05, f"no trend: {days}"
        # Run again on the same database (a kept --data-dir): nothing older is stored.
        assert seed_shelf_history(db, "s1", "c1", layout, now, seed=1) == 0
    finally:
        db.close()
