"""Pulling each store's guidance from the head office's API, on a schedule.

The store gateway asks (HTTP GET with its `staff:<store>` API token) rather than the
head office pushing over the uplink: the uplink is one-way by design (a store's NATS
credential may only publish its own subjects), the HQ API already enforces who may read
which store, and a pull needs nothing open towards the store. What a pull gets is
stored in SQLite (`records`), so the page shows the last references while the head
office or the network is away; a failed pull is recorded with its error and retried at
the next interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from gateway.config.hq_guidance import HqGuidanceSettings
from gateway.guidance import records
from gateway.storage.connection import Database

log = logging.getLogger(__name__)


class GuidanceError(RuntimeError):
    """A pull that failed; the message names the URL and what went wrong."""


class HqGuidanceClient:
    """GETs one store's prices and assortment from the HQ API."""

    def __init__(self, settings: HqGuidanceSettings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        headers = {"Authorization": f"Bearer {settings.token.get_secret_value()}"}
        self._http = httpx.Client(
            base_url=str(settings.url).rstrip("/"),
            headers=headers,
            timeout=settings.timeout_s,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str) -> dict[str, Any]:
        url = f"{self._http.base_url}{path}"
        try:
            response = self._http.get(path)
        except httpx.HTTPError as error:
            raise GuidanceError(f"GET {url}: {type(error).__name__}: {error}") from None
        if response.status_code != 200:
            raise GuidanceError(f"GET {url}: HTTP {response.status_code}: {response.text[:200]}")
        try:
            return response.json()
        except ValueError:
            raise GuidanceError(f"GET {url}: the answer is not JSON") from None

    def fetch(self, store: str) -> tuple[list[dict], list[dict], datetime | None]:
        """The store's price references, assortment items (with `kind`) and when HQ's
        analytics last ran."""
        prices = self._get(f"/api/stores/{store}/prices")
        assortment = self._get(f"/api/stores/{store}/assortment")
        items = [{**a, "kind": "add"} for a in assortment.get("adds", [])] + [
            {**d, "kind": "delist"} for d in assortment.get("delists", [])
        ]
        stamp = assortment.get("refreshed_at") or prices.get("refreshed_at")
        return prices.get("references", []), items, datetime.fromisoformat(stamp) if stamp else None


class GuidancePuller:
    """Pulls every `interval_s` for each store this gateway serves (the first at start)."""

    def __init__(
        self,
        db: Database,
        stores: Sequence[str],
        settings: HqGuidanceSettings,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.db = db
        self.stores = list(stores)
        self.settings = settings
        self.client = HqGuidanceClient(settings, transport)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def pull_now(self) -> dict[str, str | None]:
        """Pull every store once; per store None (stored) or the error."""
        results: dict[str, str | None] = {}
        for store in self.stores:
            at = datetime.now(UTC)
            try:
                prices, items, refreshed = self.client.fetch(store)
                records.save_pull(self.db, store, prices, items, refreshed, at)
                results[store] = None
            except GuidanceError as error:
                log.warning("hq guidance for %s: %s (keeping the last pull)", store, error)
                records.save_failure(self.db, store, str(error), at)
                results[store] = str(error)
        return results

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="hq-guidance", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self.client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.pull_now()
            except Exception:  # the schedule must outlive a bad answer or a locked database
                log.exception("hq guidance pull failed")
            self._stop.wait(self.settings.interval_s)
