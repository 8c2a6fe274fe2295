"""Validate, de-duplicate and persist camera messages; bad ones go to the dead-letter table.

The MQTT callback only enqueues, so the network thread never waits on the disk; one writer
thread drains the queue in batches, one transaction per batch (a commit per message would
cap ingest far below what a store of cameras sends). A malformed message becomes a dead
letter whose reason names the topic and the field or line at fault, and the loop goes on.
POS terminals' sale lines (`{prefix}/{store}/pos_sales`) take the same path, so they are
batched with camera messages and share the one writer (see gateway/retail/pos.py).

A message is acknowledged to the broker (its `ack`, a QoS 1 PUBACK) only after the
transaction that stored or dead-lettered it has committed: if the gateway is killed with
messages in its queue, the broker still holds them for the persistent session and sends
them again, and de-duplication makes the second copy harmless.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from pydantic import BaseModel, ValidationError

from edge.contract.messages import Availability, CameraMessage, Health, ShelfEvent, ShelfState
from edge.contract.topics import (
    DEFAULT_PREFIX,
    CameraTopic,
    IncomingTopic,
    PosSalesTopic,
    TopicKind,
    UnknownTopic,
    parse_topic,
)
from gateway.retail.pos import store_pos_message
from gateway.storage.connection import Database
from gateway.storage.transactions import SlotChange, Transaction

log = logging.getLogger(__name__)

PAYLOAD_MODELS: dict[TopicKind, type[CameraMessage]] = {
    TopicKind.AVAILABILITY: Availability,
    TopicKind.STATE: ShelfState,
    TopicKind.EVENTS: ShelfEvent,
    TopicKind.HEALTH: Health,
}
"""What ingest stores per topic kind; other kinds are not its business (see decode_message)."""

BATCH_MAX = 1000
QUEUE_MAX = 100_000
ENQUEUE_TIMEOUT_S = 30.0
OVERSIZE_KEEP_BYTES = 1024
"""Bytes of an oversized payload kept in its dead letter: enough to see what it was."""


class Incoming(NamedTuple):
    """One message as the MQTT thread hands it over."""

    topic: IncomingTopic
    payload: bytes
    received_at: datetime
    retained: bool = False
    ack: Callable[[], None] | None = None
    """Tells the broker the message is safe (QoS 1); called after the commit."""


StoredListener = Callable[[Sequence[tuple[BaseModel, datetime]]], None]
"""Told, after each commit, of every newly stored (message or sale line, received_at);
must not block (the InfluxDB exporter only queues)."""

SlotListener = Callable[[Sequence[tuple[ShelfState, Sequence[SlotChange]]]], None]
"""Told, after each commit, of each newly stored state whose slots changed, with the
changes the slot log recorded (the live feed publishes them); must not block."""


class Rejected(Exception):
    """A message that cannot be stored; the text is the dead letter's reason."""


@dataclass
class IngestCounters:
    """Totals since start, shown by /api/health."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    stale: int = 0
    ignored: int = 0
    dead_letters: int = 0
    dropped: int = 0
    batches: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


WRITER_COUNTERS = ("stored", "duplicates", "stale", "ignored", "dead_letters")
"""Counters the writer thread owns (reset when a batch is rolled back and retried)."""


def _loc(parts: tuple[int | str, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def describe_validation_error(topic: str, error: ValidationError) -> str:
    """One reason naming the topic and every bad field (or the JSON line and column)."""
    problems = []
    for item in error.errors():
        msg = item["msg"].removeprefix("Value error, ")
        where = _loc(item["loc"])
        problems.append(f"{where}: {msg}" if where else msg)
    return f"{topic}: " + "; ".join(problems)


def decode_message(
    camera_topic: CameraTopic, payload: bytes, max_payload_bytes: int
) -> CameraMessage | None:
    """Validate one camera message; raises Rejected naming the topic and the fault.

    Returns None for topics ingest does not store: the gateway's own publications
    (config, snapshot requests) and snapshots, which the gateway keeps in memory
    (gateway.mqtt.snapshots).
    """
    topic = camera_topic.text
    model = PAYLOAD_MODELS.get(camera_topic.kind)
    if model is None:
        return None
    if len(payload) > max_payload_bytes:
        raise Rejected(
            f"{topic}: payload of {len(payload)} bytes exceeds max_payload_bytes "
            f"({max_payload_bytes})"
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejected(f"{topic}: payload is not UTF-8 (byte {error.start})") from None
    try:
        message = model.model_validate_json(text)
    except ValidationError as error:
        raise Rejected(describe_validation_error(topic, error)) from None
    for field, expected in (("store", camera_topic.store), ("camera", camera_topic.camera)):
        actual = getattr(message, field)
        if actual != expected:
            raise Rejected(
                f"{topic}: {field}: {actual!r} does not match the topic's {field} {expected!r}"
            )
    if isinstance(message, ShelfEvent) and "id" not in message.model_fields_set:
        # The contract's default would invent an id, and a redelivery would then be stored
        # twice: an event must carry the id its node gave it.
        raise Rejected(f"{topic}: id: required, so a redelivered event can be recognised")
    return message


def _acknowledge(item: Incoming) -> None:
    if item.ack is not None:
        try:
            item.ack()
        except Exception:  # a lost ack only means the broker sends the message again
            log.exception("cannot acknowledge the message on %s", item.topic.text)


class Ingest:
    """The queue and the writer thread between the MQTT client and the database."""

    def __init__(
        self,
        db: Database,
        *,
        prefix: str = DEFAULT_PREFIX,
        max_payload_bytes: int = 64 * 1024,
        batch_max: int = BATCH_MAX,
        queue_max: int = QUEUE_MAX,
    ) -> None:
        self.db = db
        self.prefix = prefix
        self.max_payload_bytes = max_payload_bytes
        self.batch_max = batch_max
        self.counters = IngestCounters()
        self._queue: queue.Queue[Incoming | None] = queue.Queue(maxsize=queue_max)
        self._thread: threading.Thread | None = None
        self._done = threading.Condition()
        self._processed = 0
        self.listeners: list[StoredListener] = []
        self._fresh: list[tuple[BaseModel, datetime]] = []
        self.slot_listeners: list[SlotListener] = []
        self._changed: list[tuple[ShelfState, Sequence[SlotChange]]] = []
        self._deleted: dict[tuple[str, str], datetime] = {}
        """Deleted cameras and when: what they sent before then is not stored."""

    def forget_camera(self, store: str, camera: str, deleted_at: datetime) -> None:
        """A camera deleted at `deleted_at`: what it sent before then is dropped, whether
        still queued or still on its way (stamped before it by the node), or the last of
        it (the node's "offline", say) would bring the camera back as soon as it is
        written. What it sends afterwards makes it a new camera."""
        self._deleted[(store, camera)] = deleted_at

    # ---- the MQTT side ---------------------------------------------------------------

    def submit(
        self,
        topic: IncomingTopic | str,
        payload: bytes,
        retained: bool = False,
        ack: Callable[[], None] | None = None,
        received_at: datetime | None = None,
    ) -> None:
        """Enqueue one message (called on the MQTT network thread: never touches the disk).

        `topic` comes as the MQTT link read it; a caller with only the topic text (the
        simulation, a test) passes that and it is read here, with this ingest's prefix.
        A full queue blocks (back-pressure on the broker connection) for a while, then
        drops the message with an error in the log rather than block forever; a dropped
        QoS 1 message is not acknowledged, so the broker sends it again after a reconnect.
        """
        if isinstance(topic, str):
            topic = parse_topic(topic, self.prefix)
        item = Incoming(topic, bytes(payload), received_at or datetime.now(UTC), retained, ack)
        self.counters.received += 1
        try:
            self._queue.put(item, timeout=ENQUEUE_TIMEOUT_S)
        except queue.Full:
            self.counters.dropped += 1
            log.error(
                "ingest queue full for %.0fs: dropped a message on %s%s",
                ENQUEUE_TIMEOUT_S,
                topic.text,
                " (unacknowledged: the broker keeps it)" if ack else "",
            )
            with self._done:
                self._processed += 1
                self._done.notify_all()

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="shelfsense-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Store everything already queued, then end the writer thread."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("ingest writer did not finish within %.0fs", timeout)
        self._thread = None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every message received so far is stored or rejected."""
        deadline = time.monotonic() + timeout
        with self._done:
            while self._processed < self.counters.received:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._done.wait(left)
        return True

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    # ---- the writer thread -----------------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            batch: list[Incoming] = []
            if first is None:
                stopping = True
            else:
                batch.append(first)
            while len(batch) < self.batch_max:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    continue
                batch.append(item)
            if batch:
                self._write_batch(batch)

    def _write_batch(self, batch: list[Incoming]) -> None:
        """One transaction for the batch; if it fails, one per message so only the bad
        message is lost to the dead-letter table."""
        before = self.counters.as_dict()
        self._fresh, self._changed = [], []
        try:
            with self.db.transaction() as tx:
                for item in batch:
                    self._handle(tx, item)
                if self.counters.dead_letters != before["dead_letters"]:
                    tx.prune_dead_letters()
            self._notify()
        except Exception:
            log.exception("batch of %d messages failed; storing them one by one", len(batch))
            for name in WRITER_COUNTERS:
                setattr(self.counters, name, before[name])
            for item in batch:
                if self._write_one(item):
                    _acknowledge(item)
        else:
            for item in batch:
                _acknowledge(item)
        self.counters.batches += 1
        with self._done:
            self._processed += len(batch)
            self._done.notify_all()

    def _write_one(self, item: Incoming) -> bool:
        """Store one message, else its dead letter; False when neither could be committed
        (then it stays unacknowledged and the broker sends it again after a reconnect)."""
        self._fresh, self._changed = [], []
        try:
            with self.db.transaction() as tx:
                self._handle(tx, item)
            self._notify()
            return True
        except Exception as error:
            log.exception("cannot store message on %s", item.topic.text)
            try:
                with self.db.transaction() as tx:
                    self._dead_letter(tx, item, f"{item.topic.text}: database error: {error}")
                return True
            except Exception:
                log.exception("cannot store the dead letter for %s either", item.topic.text)
                return False

    def _notify(self) -> None:
        """Hand what the committed transaction stored to the listeners."""
        fresh, self._fresh = self._fresh, []
        if not fresh:
            return
        for listener in self.listeners:
            try:
                listener(fresh)
            except Exception:  # a listener bug must not stop ingest
                log.exception("ingest listener %r failed", listener)
        changed, self._changed = self._changed, []
        if not changed:
            return
        for slot_listener in self.slot_listeners:
            try:
                slot_listener(changed)
            except Exception:
                log.exception("slot listener %r failed", slot_listener)

    def _dead_letter(self, tx: Transaction, item: Incoming, reason: str) -> None:
        keep = (
            OVERSIZE_KEEP_BYTES
            if len(item.payload) > self.max_payload_bytes
            else self.max_payload_bytes
        )
        tx.record_dead_letter(item.topic.text, reason, item.payload, item.received_at, keep)
        self.counters.dead_letters += 1
        log.warning("dead letter: %s", reason)

    def _handle(self, tx: Transaction, item: Incoming) -> None:
        if item.retained and not item.payload:
            # An empty retained message clears the broker's copy; nothing to store.
            self.counters.ignored += 1
            return
        topic = item.topic
        if isinstance(topic, PosSalesTopic):
            self._handle_pos(tx, item, topic)
            return
        if isinstance(topic, UnknownTopic):
            self._dead_letter(tx, item, f"{topic.text}: {topic.problem}")
            return
        try:
            message = decode_message(topic, item.payload, self.max_payload_bytes)
        except Rejected as rejected:
            self._dead_letter(tx, item, str(rejected))
            return
        if message is None:
            self.counters.ignored += 1
            return
        self._store(tx, topic.kind, message, item)

    def _handle_pos(self, tx: Transaction, item: Incoming, topic: PosSalesTopic) -> None:
        """A POS terminal's sale lines: good lines are stored, the message is dead-lettered
        (with every bad line named) if any line was refused."""
        result = store_pos_message(
            tx, topic.text, topic.store, item.payload, item.received_at, self.max_payload_bytes
        )
        if result.accepted:
            self.counters.stored += 1
            self._fresh.extend((line, item.received_at) for line in result.accepted)
        elif result.duplicates and result.problem is None:
            self.counters.duplicates += 1
        if result.problem is not None:
            self._dead_letter(tx, item, result.problem)

    def _store(self, tx: Transaction, kind: TopicKind, message: BaseModel, item: Incoming) -> None:
        assert isinstance(message, CameraMessage)
        deleted_at = self._deleted.get((message.store, message.camera))
        if deleted_at is not None and min(item.received_at, message.ts) <= deleted_at:
            self.counters.ignored += 1
            return
        # A retained copy may be hours old: it proves the camera was seen at its own ts,
        # never later than now.
        seen_at = min(message.ts, item.received_at) if item.retained else item.received_at
        if isinstance(message, Availability):
            tx.record_availability(
                message.store, message.camera, message.state == "online", item.received_at
            )
            if message.state == "online":
                tx.touch_camera(message.store, message.camera, seen_at)
            self.counters.stored += 1
            self._fresh.append((message, item.received_at))
            return
        tx.touch_camera(message.store, message.camera, seen_at)
        if isinstance(message, ShelfEvent):
            fresh = tx.record_event(message, item.received_at)
            if not fresh:
                self.counters.duplicates += 1
                return
        elif isinstance(message, ShelfState):
            recorded = tx.record_state(message, item.received_at)
            if not recorded.stored:
                self.counters.stale += 1
                return
            if recorded.changes:
                self._changed.append((message, recorded.changes))
        elif isinstance(message, Health):
            if not tx.record_health(message, item.received_at):
                self.counters.duplicates += 1
                return
        else:  # pragma: no cover - PAYLOAD_MODELS and this chain change together
            raise TypeError(f"no store for {kind}")
        self.counters.stored += 1
        self._fresh.append((message, item.received_at))
