"""The alert thread: finds problems worth an alert, queues and sends the deliveries.

Problems: high advice (told by the advice engine, and looked up on every sweep so
nothing is missed across a restart) and cameras offline longer than
`alerts.offline_after_min` (looked up on every sweep). A problem is recorded once per
key, with one delivery per channel of each user it concerns: admins and merchandisers
for advice, admins and installers for cameras, a store's staff for both in their store.

Deliveries are sent by this thread only, so a slow or unreachable receiver never holds
up ingest or the advice engine. A delivery due in its user's quiet hours is held until
they end; one whose problem is over before it goes out is dropped (the log says so);
a failed one is tried again after 5 s, 10 s, 20 s ... up to `retry_max_s`, and marked
failed only `give_up_after_h` after it was first due.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.advice import store as advice_store
from gateway.alerts import records
from gateway.alerts.problems import advice_problem, offline_cameras, offline_problem, wants
from gateway.alerts.sender import DeliveryError, send
from gateway.config.alerts import AlertSettings
from gateway.storage.connection import Database

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ACTIVE = ("open", "acknowledged")


class AlertService:
    """`start()`/`stop()`; `advice_changed` is the advice engine's listener (cheap);
    `sweep()` and `deliver_due()` may be called directly (tests, tools)."""

    def __init__(
        self, db: Database, settings: AlertSettings, *, clock: Clock | None = None
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self._cond = threading.Condition()
        self._advice: list[dict[str, Any]] = []
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.sent = 0
        self.failures = 0

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="shelfsense-alerts", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)
        self._thread = None

    def wake(self) -> None:
        """Look for due deliveries now (a test alert was queued)."""
        with self._cond:
            self._cond.notify_all()

    # ---- triggers (never block) ------------------------------------------------------

    def advice_changed(self, records_: list[dict[str, Any]]) -> None:
        """Advice listener: high advice opens a problem, closed advice ends one."""
        with self._cond:
            self._advice.extend(records_)
            self._cond.notify_all()

    # ---- problems --------------------------------------------------------------------

    def _channels_for(self, kind: str, store: str) -> list[int]:
        return [c for _, role, c in records.recipients(self.db) if wants(role, kind, store)]

    def _open(self, problem: records.Problem, now: datetime) -> None:
        if records.open_problem(
            self.db, problem, self._channels_for(problem.kind, problem.store), now
        ):
            log.info("alert: %s (%s)", problem.title, problem.key)

    def take_advice(self, changed: list[dict[str, Any]], now: datetime) -> None:
        """Open or close the problems of these advice records."""
        closed = []
        for record in changed:
            if record["status"] in ACTIVE and record["level"] == "high":
                self._open(advice_problem(record), now)
            elif record["status"] not in ACTIVE:
                closed.append(f"advice:{record['id']}")
        records.close_problems(self.db, closed, now)

    def sweep(self, now: datetime) -> None:
        """Open problems for high advice and long outages not alerted yet; close those
        that are over."""
        active = advice_store.list_advice(self.db, status=ACTIVE, limit=10_000)
        high = {f"advice:{a['id']}": a for a in active if a["level"] == "high"}
        for key in set(high) - records.known_keys(self.db, sorted(high)):
            self._open(advice_problem(high[key]), now)
        active_keys = {f"advice:{a['id']}" for a in active}
        records.close_problems(
            self.db, sorted(records.open_keys(self.db, "advice") - active_keys), now
        )
        threshold = timedelta(minutes=self.settings.offline_after_min)
        alerted = records.open_cameras(self.db)
        for store, camera, since in offline_cameras(self.db, now - threshold):
            if (store, camera) not in alerted:  # a repeated `offline` is the same outage
                self._open(offline_problem(store, camera, since), now)
        still_offline = {(s, c) for s, c, _ in offline_cameras(self.db, now)}
        back = [key for camera, key in alerted.items() if camera not in still_offline]
        records.close_problems(self.db, back, now)

    # ---- deliveries ------------------------------------------------------------------

    def deliver_due(self, now: datetime | None = None) -> int:
        """Attempt every due delivery; returns how many were sent."""
        sent = 0
        for item in records.due(self.db, now or self.clock()):
            sent += self._attempt(item)
        return sent

    def _attempt(self, item: records.Due) -> bool:
        now = self.clock()
        if item.closed and item.problem.kind != "test":
            records.update_delivery(
                self.db, item.id, "dropped", error="the problem was over before it was sent"
            )
            return False
        if item.problem.kind != "test":
            hours = records.quiet_hours(self.db, item.channel.user)
            if hours is not None and hours.contains(now):
                records.update_delivery(
                    self.db, item.id, "held", next_attempt=hours.ends_after(now)
                )
                return False
        try:
            send(item.channel, records.payload(item, now), now.timestamp(), self.settings.timeout_s)
        except DeliveryError as error:
            self._failed(item, now, str(error))
            return False
        records.update_delivery(self.db, item.id, "sent", attempted=True, sent_at=now)
        self.sent += 1
        return True

    def _failed(self, item: records.Due, now: datetime, error: str) -> None:
        self.failures += 1
        delay = min(self.settings.retry_max_s, self.settings.retry_min_s * 2**item.attempts)
        give_up = item.created_at + timedelta(hours=self.settings.give_up_after_h)
        if now >= give_up:
            records.update_delivery(self.db, item.id, "failed", attempted=True, error=error)
            log.warning("alert %d failed for good: %s", item.id, error)
            return
        retry = min(now + timedelta(seconds=delay), give_up)
        records.update_delivery(
            self.db, item.id, "pending", next_attempt=retry, attempted=True, error=error
        )
        log.info("alert %d not delivered (%s); again at %s", item.id, error, retry.isoformat())

    # ---- the thread ------------------------------------------------------------------

    def _wait_s(self, now: datetime) -> float:
        wait = self.settings.sweep_s
        due = records.next_due(self.db)
        if due is not None:
            wait = min(wait, (due - now).total_seconds())
        return max(0.01, wait)

    def _run(self) -> None:
        next_sweep = 0.0
        while True:
            try:
                now = self.clock()
                with self._cond:
                    changed, self._advice = self._advice, []
                if changed:
                    self.take_advice(changed, now)
                if now.timestamp() >= next_sweep:
                    self.sweep(now)
                    next_sweep = now.timestamp() + self.settings.sweep_s
                self.deliver_due()
                wait = self._wait_s(self.clock())
            except Exception:  # a bad row or a locked file must not end the thread
                log.exception("push alerts: a round failed")
                wait = self.settings.sweep_s
            with self._cond:
                if not self._stopping and not self._advice:
                    self._cond.wait(wait)
                if self._stopping:
                    return
