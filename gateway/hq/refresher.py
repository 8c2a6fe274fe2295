"""The analytics job on a schedule, so the pages show what the stores sent since.

`shelf-hq serve` and the demo run one `AnalyticsRefresher` beside the web app: a thread
that calls `analytics.refresh` every `interval_s`, skipping a round when the store holds
no new message since the last job (an idle head office costs nothing). A failed job is
logged and tried again next round: the pages keep the last good results meanwhile, since
`refresh` replaces each result file whole.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from gateway.hq.analytics import EngineSettings, refresh
from gateway.hq.store import INDEX_FILE

log = logging.getLogger(__name__)


def stored_messages(root: Path) -> int:
    """How many messages the store under `root` holds (0 before the first write); read-only,
    so it never waits for an ingest process's write lock."""
    path = root / INDEX_FILE
    if not path.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
            return int(db.execute("SELECT count(*) FROM stored").fetchone()[0])
    except sqlite3.Error as error:
        log.warning("hq refresh: cannot count the messages in %s: %s", path, error)
        return -1  # unknown: refresh anyway


class AnalyticsRefresher:
    """Runs the analytics job every `interval_s` in a background thread."""

    def __init__(
        self,
        root: str | Path,
        interval_s: float = 300.0,
        settings: EngineSettings | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"refresh interval must be positive, got {interval_s}")
        self.root = Path(root)
        self.interval_s = interval_s
        self.settings = settings or EngineSettings()
        self.runs = 0
        self.last_error: str | None = None
        self.last_duration_s: float | None = None
        self._refreshed_count: int | None = None
        self._lock = threading.Lock()  # one job at a time (thread or refresh_now)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh_now(self, force: bool = False) -> bool:
        """Run the job now unless nothing new was stored (`force`: run anyway); True when
        it ran and succeeded."""
        with self._lock:
            count = stored_messages(self.root)
            if not force and count >= 0 and count == self._refreshed_count:
                return False
            started = time.monotonic()
            try:
                rows = refresh(self.root, self.settings)
            except Exception as error:  # the schedule must outlive a failed job
                self.last_error = f"{type(error).__name__}: {error}"
                log.exception("hq refresh of %s failed; the pages keep the last results", self.root)
                return False
            self.last_duration_s = time.monotonic() - started
            self.last_error = None
            self._refreshed_count = count
            self.runs += 1
            log.info(
                "hq refresh: %d messages analysed in %.1f s (%d brand x store x day rows)",
                count,
                self.last_duration_s,
                rows.get("brand_store_days", 0),
            )
            return True

    def start(self) -> None:
        """Start the schedule; the first job runs at once."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="hq-refresh", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the schedule, waiting up to `timeout_s` for a job under way to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("hq refresh: a job is still running; leaving it behind")
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh_now()
            self._stop.wait(self.interval_s)
