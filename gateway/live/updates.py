"""The in-process broadcaster behind live updates (`GET /api/stream`, server-sent events).

Ingest and the advice service publish from their own threads; each browser tab is a
subscription drained by the web server's event loop. Publishing never blocks and never
waits for a client: every subscription has a bounded buffer, and when a slow client's
buffer is full the oldest update is dropped and the client is told to reload its data
(`resync`), so a stalled phone cannot hold up ingest or grow memory.

What a subscriber may see is decided per update by `LiveView` (a staff user only their
store, a brand user only its own products), the same rules the API applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

QUEUE_SIZE = 256
"""Updates buffered per client before the oldest are dropped (and a resync is sent)."""

UpdateKind = Literal["advice", "slots"]


@dataclass(frozen=True)
class LiveUpdate:
    """One change: an advice record, or the slots of one camera that changed."""

    kind: UpdateKind
    store: str
    data: dict[str, Any]


@dataclass(frozen=True)
class LiveView:
    """What one subscriber may see: one store (staff) and/or one brand (brand users)."""

    store: str | None = None
    brand: str | None = None
    owns: Callable[[str | None], bool] | None = field(default=None, compare=False)
    """For a brand: whether a SKU is one of its products (the API's own test)."""
    advice: Callable[[dict[str, Any]], dict[str, Any] | None] | None = field(
        default=None, compare=False
    )
    """For a brand: an advice record as it may see it, or None to hide it (the API's
    own brand filter, so the stream and the advice list agree)."""

    def _slot_ok(self, slot: dict[str, Any]) -> bool:
        if self.owns is not None:
            return self.owns(slot.get("sku"))
        return self.brand is None or (
            slot.get("brand") is not None and slot["brand"].casefold() == self.brand.casefold()
        )

    def apply(self, update: LiveUpdate) -> dict[str, Any] | None:
        """The update's data as this subscriber may see it, or None to skip it."""
        if self.store is not None and update.store != self.store:
            return None
        if update.kind == "slots":
            slots = [s for s in update.data["slots"] if self._slot_ok(s)]
            if not slots:
                return None
            data = {**update.data, "slots": slots}
            if self.brand is not None:
                data.pop("score", None)  # the whole bay's score speaks of other brands
            return data
        if self.brand is not None:
            brand = update.data.get("brand")
            if brand is None or brand.casefold() != self.brand.casefold():
                return None
        return self.advice(update.data) if self.advice is not None else update.data


class Subscription:
    """One client's bounded buffer; created and drained on the event loop."""

    def __init__(self, broadcaster: Broadcaster, view: LiveView, size: int) -> None:
        self._broadcaster = broadcaster
        self.view = view
        self._buffer: deque[tuple[UpdateKind, dict[str, Any]]] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._loop = asyncio.get_running_loop()
        self._ready = asyncio.Event()
        self.lagged = False
        """Set when updates were dropped: the client must reload instead."""
        self.closed = False

    def offer(self, update: LiveUpdate) -> None:
        """From any thread: keep the update if the view allows it; never blocks."""
        data = self.view.apply(update)
        if data is None:
            return
        with self._lock:
            if len(self._buffer) == self._buffer.maxlen:
                self.lagged = True
            self._buffer.append((update.kind, data))
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: the client is gone
            self._loop.call_soon_threadsafe(self._ready.set)

    def drain(self) -> list[tuple[UpdateKind, dict[str, Any]]]:
        with self._lock:
            items = list(self._buffer)
            self._buffer.clear()
            self._ready.clear()
        return items

    async def wait(self, timeout: float) -> bool:
        """True when there is something to drain (or the broadcaster closed)."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self.closed = True
        self._broadcaster.unsubscribe(self)
        self._wake()


class Broadcaster:
    """Fan-out of live updates to every subscription (thread-safe)."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()
        self.published = 0
        self._final = False

    def subscribe(self, view: LiveView) -> Subscription:
        """A new subscription (call on the event loop that will drain it)."""
        sub = Subscription(self, view, self.queue_size)
        with self._lock:
            if not self._final:
                self._subs.add(sub)
                return sub
        sub.close()  # the server is stopping: the stream ends at once
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subs)

    def publish(self, update: LiveUpdate) -> None:
        """Hand an update to every subscription; returns at once."""
        with self._lock:
            subs = list(self._subs)
        self.published += 1
        for sub in subs:
            sub.offer(update)

    def close(self, *, final: bool = False) -> None:
        """End every open stream (the gateway is stopping). Later ones may subscribe,
        unless `final` (the HTTP server is shutting down): then they end at once too."""
        with self._lock:
            self._final = self._final or final
            subs = list(self._subs)
        for sub in subs:
            sub.close()
