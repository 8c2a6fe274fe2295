"""How envelopes travel from store gateways to the head office's ingest.

Two tiny interfaces, so the store's uplink and the head office's ingest never depend on
which message system carries them: a `Publisher` that returns only once the transport
holds the messages durably, and a `Consumer` that hands out `Delivery` objects to ack
(done: never again) or nak (send again, maybe to another ingest process). Delivery is at
least once; the envelope's content-keyed id makes the head office's writes idempotent.

`LocalTransport` is the embedded default for the single-machine demo: an in-process queue
with the same semantics (id de-duplication within a window, shared durable consumers,
redelivery of what is not acked in time). It holds messages in memory only and cannot
span machines or processes; a real deployment uses the JetStream transport.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from pydantic import ValidationError

from gateway.uplink.contract import SUBJECT_ROOT, Envelope

log = logging.getLogger(__name__)

DEFAULT_DUPLICATE_WINDOW_S = 2 * 3600.0
"""How long the transport remembers a message id to drop a second copy. An older
duplicate (an outbox resent after days) is caught by the head office's idempotent writes."""


class TransportError(RuntimeError):
    """The transport did not accept the messages (down, refused, not permitted); the message
    says why and names the subject where one is at fault. Nothing was lost: send again."""


@dataclass(frozen=True, eq=False)
class Delivery:
    """One message handed to a consumer: ack it once it is stored, nak it to have it sent
    again (to this or another consumer) after `delay_s`, or say it is still being worked
    on (`in_progress`) so a slow but alive consumer keeps it past the ack wait."""

    envelope: Envelope
    subject: str
    delivered: int = 1
    """How many times the transport has handed this message out (1 = the first time)."""
    stored_at: datetime | None = None
    """When the transport stored the message (for publish-to-queryable lag)."""
    _ack: Callable[[], None] = field(kw_only=True, repr=False)
    _nak: Callable[[float], None] = field(kw_only=True, repr=False)
    _progress: Callable[[], None] = field(kw_only=True, repr=False)

    def ack(self) -> None:
        self._ack()

    def nak(self, delay_s: float = 0.0) -> None:
        self._nak(delay_s)

    def in_progress(self) -> None:
        """Restart this delivery's ack wait: it is not handed to another consumer for
        another `ack_wait_s`."""
        self._progress()


class Publisher(Protocol):
    """What a store's uplink sends through."""

    def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Return once the transport holds every envelope durably; raise TransportError
        otherwise (some may have been accepted: sending them again is harmless)."""
        ...

    def close(self) -> None: ...


class Consumer(Protocol):
    """What a head-office ingest process reads from; several may share one durable name."""

    @property
    def ack_wait_s(self) -> float:
        """How long a delivery may stay unsettled before it goes to another consumer
        (each `in_progress` call restarts it)."""
        ...

    def fetch(self, batch: int = 100, timeout_s: float = 1.0) -> list[Delivery]:
        """Up to `batch` deliveries, waiting at most `timeout_s` for the first; [] when
        none came. Malformed messages are logged and acked away, never returned."""
        ...

    def close(self) -> None: ...


def decode(subject: str, data: bytes) -> Envelope | None:
    """The envelope in a message, or None (logged, naming the subject) when it is malformed:
    a bad message must never stop a consumer."""
    try:
        envelope = Envelope.from_bytes(data)
    except (ValidationError, ValueError) as error:
        first = error.errors()[0] if isinstance(error, ValidationError) else None
        why = f"{'.'.join(map(str, first['loc'])) or 'message'}: {first['msg']}" if first else error
        log.warning("dropping a malformed message on %s: %s", subject, why)
        return None
    if envelope.subject != subject:
        log.warning(
            "dropping a message on %s: its envelope says store %r, kind %r",
            subject,
            envelope.store,
            envelope.kind.value,
        )
        return None
    return envelope


@dataclass
class _Entry:
    seq: int
    subject: str
    data: bytes
    stored_at: datetime


@dataclass
class _Group:
    """A durable consumer: where it is in the log and what it has out."""

    next_seq: int
    pending: dict[int, tuple[float, int]] = field(default_factory=dict)  # seq -> (deadline, n)
    redeliver: deque[tuple[int, int]] = field(default_factory=deque)  # (seq, n)
    delayed: dict[int, tuple[float, int]] = field(default_factory=dict)  # seq -> (due, n)


class LocalTransport:
    """The in-process transport of the single-machine demo (thread-safe, memory only).

    Keeps JetStream's semantics that the uplink and ingest rely on: a second message with
    an id seen within `duplicate_window_s` is dropped; consumers sharing a durable name
    share its messages; a delivery not acked within `ack_wait_s` (or nak'ed) is handed out
    again. A message is forgotten once every durable consumer has acked it; before any
    consumer exists, up to `max_messages` wait (the oldest are discarded beyond that).
    """

    def __init__(
        self,
        duplicate_window_s: float = DEFAULT_DUPLICATE_WINDOW_S,
        ack_wait_s: float = 30.0,
        max_messages: int = 1_000_000,
    ) -> None:
        self.duplicate_window_s = duplicate_window_s
        self.ack_wait_s = ack_wait_s
        self.max_messages = max_messages
        self._cond = threading.Condition()
        self._log: dict[int, _Entry] = {}
        self._next_seq = 1
        self._seen: OrderedDict[str, float] = OrderedDict()  # id -> when stored (monotonic)
        self._groups: dict[str, _Group] = {}
        self.duplicates = 0
        """Messages dropped because their id was seen within the window."""

    def publisher(self, store: str | None = None) -> LocalPublisher:
        """A publisher; with `store`, it may publish only that store's subjects, as a store's
        credential on the real transport."""
        return LocalPublisher(self, store)

    def consumer(self, durable: str = "ingest") -> LocalConsumer:
        """A consumer of the durable `durable`; it starts at the oldest message kept."""
        with self._cond:
            if durable not in self._groups:
                self._groups[durable] = _Group(next_seq=next(iter(self._log), self._next_seq))
        return LocalConsumer(self, durable)

    @property
    def stored(self) -> int:
        """Messages kept (not yet acked by every durable consumer)."""
        with self._cond:
            return len(self._log)

    def _store(self, envelopes: Sequence[Envelope]) -> None:
        now = time.monotonic()
        with self._cond:
            while self._seen and next(iter(self._seen.values())) < now - self.duplicate_window_s:
                self._seen.popitem(last=False)
            for envelope in envelopes:
                if envelope.id in self._seen:
                    self.duplicates += 1
                    continue
                self._seen[envelope.id] = now
                seq = self._next_seq
                self._next_seq += 1
                self._log[seq] = _Entry(
                    seq, envelope.subject, envelope.to_bytes(), datetime.now(UTC)
                )
            while len(self._log) > self.max_messages:
                del self._log[next(iter(self._log))]  # the oldest: the log is in seq order
            self._cond.notify_all()

    def _take(self, durable: str, batch: int, timeout_s: float) -> list[tuple[_Entry, int]]:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            group = self._groups[durable]
            while True:
                taken = self._ready(group, batch)
                if taken:
                    return taken
                left = deadline - time.monotonic()
                wake = [d for d, _ in (*group.pending.values(), *group.delayed.values())]
                if left <= 0:
                    return []
                self._cond.wait(min([left, *(max(0.0, d - time.monotonic()) for d in wake)]))

    def _ready(self, group: _Group, batch: int) -> list[tuple[_Entry, int]]:
        """Hand out up to `batch` messages: redeliveries first, then new ones in order."""
        now = time.monotonic()
        for seq, (deadline, n) in list(group.pending.items()):
            if deadline <= now:
                del group.pending[seq]
                group.redeliver.append((seq, n))
        for seq, (due, n) in list(group.delayed.items()):
            if due <= now:
                del group.delayed[seq]
                group.redeliver.append((seq, n))
        taken: list[tuple[_Entry, int]] = []
        while group.redeliver and len(taken) < batch:
            seq, n = group.redeliver.popleft()
            if seq in self._log:
                taken.append((self._log[seq], n + 1))
        while len(taken) < batch and group.next_seq < self._next_seq:
            seq = group.next_seq
            group.next_seq += 1
            if seq in self._log:
                taken.append((self._log[seq], 1))
        for entry, n in taken:
            group.pending[entry.seq] = (now + self.ack_wait_s, n)
        return taken

    def _touch(self, durable: str, seq: int) -> None:
        """Restart the ack wait of a message handed out to `durable` (not yet settled)."""
        with self._cond:
            group = self._groups[durable]
            out = group.pending.get(seq)
            if out is not None:
                group.pending[seq] = (time.monotonic() + self.ack_wait_s, out[1])

    def _settle(self, durable: str, seq: int, redeliver_after_s: float | None) -> None:
        """Ack (`redeliver_after_s` None) or nak a message handed out to `durable`."""
        with self._cond:
            group = self._groups[durable]
            out = group.pending.pop(seq, None)
            if out is None:
                return  # already redelivered after ack_wait, or settled twice
            if redeliver_after_s is not None:
                group.delayed[seq] = (time.monotonic() + redeliver_after_s, out[1])
            self._forget_acked()
            self._cond.notify_all()

    def _forget_acked(self) -> None:
        """Drop log entries every durable consumer is done with."""
        floor = min(
            (
                min(
                    [
                        group.next_seq,
                        *group.pending,
                        *group.delayed,
                        *(seq for seq, _ in group.redeliver),
                    ]
                )
                for group in self._groups.values()
            ),
            default=None,
        )
        while floor is not None and self._log and next(iter(self._log)) < floor:
            del self._log[next(iter(self._log))]


class LocalPublisher:
    def __init__(self, transport: LocalTransport, store: str | None) -> None:
        self._transport = transport
        self._store = store
        self._closed = False

    def publish(self, envelopes: Sequence[Envelope]) -> None:
        if self._closed:
            raise TransportError("the publisher is closed")
        for envelope in envelopes:
            if self._store is not None and envelope.store != self._store:
                raise TransportError(
                    f"permission denied: store {self._store!r} may not publish to "
                    f"{envelope.subject}"
                )
            if not envelope.subject.startswith(f"{SUBJECT_ROOT}."):
                raise TransportError(f"subject {envelope.subject}: not an uplink subject")
        self._transport._store(envelopes)

    def close(self) -> None:
        self._closed = True


class LocalConsumer:
    def __init__(self, transport: LocalTransport, durable: str) -> None:
        self._transport = transport
        self.durable = durable

    @property
    def ack_wait_s(self) -> float:
        return self._transport.ack_wait_s

    def fetch(self, batch: int = 100, timeout_s: float = 1.0) -> list[Delivery]:
        deliveries = []
        deadline = time.monotonic() + timeout_s
        while not deliveries:
            taken = self._transport._take(
                self.durable, batch, max(0.0, deadline - time.monotonic())
            )
            if not taken:
                return []
            for entry, n in taken:
                envelope = decode(entry.subject, entry.data)
                if envelope is None:
                    self._transport._settle(self.durable, entry.seq, None)
                    continue
                deliveries.append(
                    Delivery(
                        envelope,
                        entry.subject,
                        n,
                        entry.stored_at,
                        _ack=lambda seq=entry.seq: self._transport._settle(self.durable, seq, None),
                        _nak=lambda delay_s, seq=entry.seq: self._transport._settle(
                            self.durable, seq, delay_s
                        ),
                        _progress=lambda seq=entry.seq: self._transport._touch(self.durable, seq),
                    )
                )
        return deliveries

    def close(self) -> None:
        pass
