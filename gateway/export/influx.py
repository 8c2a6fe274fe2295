"""Optional export of camera health, slot states, display scores and sales to InfluxDB.

SQLite stays the gateway's record; InfluxDB (2.x, or anything speaking its
`/api/v2/write` line protocol, such as VictoriaMetrics) feeds Grafana. Ingest hands every
newly stored message to `InfluxExporter.export_stored`, which only turns it into points
and appends them to a bounded in-memory queue: it never waits on the network. One
background thread writes the queue in batches with influxdb-client's synchronous write
API; a failed batch goes back to the head of the queue and is retried with exponential
backoff (retry_min_s doubling up to retry_max_s) until the server takes it, so points
queued while InfluxDB is down are written once it returns. Delivery is at least once: a
batch whose answer was lost (a timeout) is sent again, which InfluxDB absorbs because it
keeps one point per series and timestamp.

Drop policy: when the queue holds `max_queued_points`, the oldest point is dropped for
each new one (counted as `dropped`; the newest data matter most on a dashboard and SQLite
keeps the history). A batch the server refuses as malformed (HTTP 400/413/422) is
dropped and counted as `rejected`; any other failure (connection refused, timeout, 5xx,
401/403/404 while credentials or the bucket are being fixed) is retried. Points still
queued when the gateway stops after `stop(timeout)` are lost (logged).

Every measurement, tag and field written is declared once below (`MEASUREMENTS`), so
dashboards can be checked against it. Other parts (advice counts, later) add their
`Measurement` here and call `export(point)`.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from edge.contract.messages import Availability, Health, ShelfState, SlotStatus
from gateway.retail.pos import SaleLine

if TYPE_CHECKING:
    from gateway.config.settings import InfluxSettings

log = logging.getLogger(__name__)

FieldValue = float | int | str | bool
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ExportPoint:
    """One point, made by `Measurement.point` so its names are declared ones."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time_ns: int


@dataclass(frozen=True)
class Measurement:
    """A measurement's name, its tags and its fields, with what they mean."""

    name: str
    tags: tuple[str, ...]
    fields: tuple[str, ...]
    description: str

    def point(
        self, at: datetime | int, tags: Mapping[str, str | None], fields: Mapping[str, Any]
    ) -> ExportPoint:
        """A point at `at` (aware datetime or ns); None tags and fields are left out."""
        unknown = (set(tags) - set(self.tags)) | (set(fields) - set(self.fields))
        if unknown:
            raise ValueError(f"{self.name}: undeclared tag/field {sorted(unknown)}")
        kept_fields = {k: v for k, v in fields.items() if v is not None}
        if not kept_fields:
            raise ValueError(f"{self.name}: a point needs at least one field")
        return ExportPoint(
            self.name,
            {k: str(v) for k, v in tags.items() if v is not None and str(v) != ""},
            kept_fields,
            at if isinstance(at, int) else time_ns(at),
        )


CAMERA_HEALTH = Measurement(
    "camera_health",
    tags=("store", "camera"),
    fields=(
        "online",
        "uptime_s",
        "frames_processed",
        "frames_failed",
        "camera_ok",
        "inference_ms",
        "fps",
        "cpu_temp_c",
        "outbox_pending",
        "outbox_dropped",
    ),
    description="A node's health report; `online` (1/0) comes from its availability "
    "topic at the time the gateway received it, the rest from `…/health` at the node's ts. "
    "Flags are integers 1/0.",
)
SLOT_STATE = Measurement(
    "slot_state",
    tags=("store", "camera", "row", "slot", "sku", "status"),
    fields=("status_code", "confidence", "gap_fraction"),
    description="Every slot of every stored shelf state. `status` is a tag (few values, "
    "for GROUP BY); `status_code` repeats it as a number for graphs: see STATUS_CODES.",
)
DISPLAY_SCORE = Measurement(
    "display_score",
    tags=("store", "camera"),
    fields=("score", "occluded"),
    description="The display compliance score (0..1) of each stored shelf state; "
    "`occluded` is 1 when a shopper hid the shelf.",
)
SALES = Measurement(
    "sales",
    tags=("store", "sku", "currency"),
    fields=("quantity", "unit_price", "revenue"),
    description="One point per stored POS sale line at its sale time (plus a sub-millisecond "
    "offset from its line id, so two lines of one SKU in the same second stay two points). "
    "quantity is negative for a return; revenue = quantity x unit_price.",
)
ADVICE = Measurement(
    "advice",
    tags=("store", "kind"),
    fields=("open", "acknowledged"),
    description="Active advice per store and kind (gateway/advice/worker.py): written "
    "when the counts change and on every periodic evaluation, zeros included.",
)
MEASUREMENTS: dict[str, Measurement] = {
    m.name: m for m in (CAMERA_HEALTH, SLOT_STATE, DISPLAY_SCORE, SALES, ADVICE)
}
"""Everything the gateway writes to InfluxDB (dashboards may query only these)."""

STATUS_CODES: dict[str, int] = {
    SlotStatus.STOCKED: 0,
    SlotStatus.LOW: 1,
    SlotStatus.EMPTY: 2,
    SlotStatus.WRONG_PRODUCT: 3,
    SlotStatus.MESSY: 4,
    SlotStatus.OCCLUDED: 5,
    SlotStatus.UNKNOWN: 6,
}
"""`slot_state.status_code` per status (stable: dashboards map codes to colours)."""


def time_ns(at: datetime) -> int:
    """Nanoseconds since the epoch, exactly (no float rounding)."""
    delta = at - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


# ---- what each stored thing becomes --------------------------------------------------


def points_for(message: BaseModel, received_at: datetime) -> list[ExportPoint]:
    """The points for one newly stored message or sale line (none for other kinds)."""
    if isinstance(message, Health):
        return [health_point(message)]
    if isinstance(message, Availability):
        tags = {"store": message.store, "camera": message.camera}
        # A Last Will carries the node's connect time: the arrival is when it went offline.
        return [CAMERA_HEALTH.point(received_at, tags, {"online": int(message.state == "online")})]
    if isinstance(message, ShelfState):
        return state_points(message)
    if isinstance(message, SaleLine):
        return [sale_point(message)]
    return []


def health_point(health: Health) -> ExportPoint:
    fields: dict[str, Any] = {
        "uptime_s": float(health.uptime_s),
        "frames_processed": health.frames_processed,
        "frames_failed": health.frames_failed,
        "camera_ok": int(health.camera_ok),
        "outbox_pending": health.outbox_pending,
        "outbox_dropped": health.outbox_dropped,
    }
    for name in ("inference_ms", "fps", "cpu_temp_c"):
        value = getattr(health, name)
        fields[name] = None if value is None else float(value)
    return CAMERA_HEALTH.point(health.ts, {"store": health.store, "camera": health.camera}, fields)


def state_points(state: ShelfState) -> list[ExportPoint]:
    camera = {"store": state.store, "camera": state.camera}
    points = [
        DISPLAY_SCORE.point(
            state.ts,
            camera,
            {
                "score": None if state.score is None else float(state.score),
                "occluded": int(state.occluded),
            },
        )
    ]
    for slot in state.slots:
        points.append(
            SLOT_STATE.point(
                state.ts,
                camera
                | {
                    "row": str(slot.row),
                    "slot": str(slot.slot),
                    "sku": slot.sku,
                    "status": slot.status.value,
                },
                {
                    "status_code": STATUS_CODES[slot.status],
                    "confidence": float(slot.confidence),
                    "gap_fraction": float(slot.gap_fraction),
                },
            )
        )
    return points


def sale_point(line: SaleLine) -> ExportPoint:
    offset = zlib.crc32(f"{line.store}/{line.id}".encode()) % 1_000_000
    return SALES.point(
        time_ns(line.time) + offset,
        {"store": line.store, "sku": line.sku, "currency": line.currency},
        {
            "quantity": line.quantity,
            "unit_price": float(line.unit_price),
            "revenue": float(line.revenue),
        },
    )


# ---- the exporter --------------------------------------------------------------------

WriteResult = Literal["ok", "retry", "rejected"]
REJECTED_STATUS = frozenset({400, 413, 422})


class InfluxExporter:
    """The bounded queue and the writer thread between ingest and InfluxDB."""

    def __init__(self, settings: InfluxSettings) -> None:
        self.settings = settings
        self._queue: deque[ExportPoint] = deque()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._flush_requested = False
        self._inflight = 0
        self._thread: threading.Thread | None = None
        self._stop_deadline = float("inf")
        self._client: Any = None
        self._write_api: Any = None
        self.queued = 0
        self.written = 0
        self.dropped = 0
        self.rejected = 0
        self.failures = 0
        self.last_error: str | None = None
        self._warned_full = False

    # ---- the ingest side (never blocks on the network) -------------------------------

    def export(self, point: ExportPoint) -> None:
        """Queue one point; a full queue drops its oldest point (see the module doc)."""
        self.export_many([point])

    def export_many(self, points: Iterable[ExportPoint]) -> None:
        limit = self.settings.max_queued_points
        with self._cond:
            for point in points:
                if len(self._queue) >= limit:
                    self._queue.popleft()
                    self.dropped += 1
                    if not self._warned_full:
                        self._warned_full = True
                        log.warning(
                            "InfluxDB export queue full (%d points, %s): dropping the oldest",
                            limit,
                            self.last_error or "server slow",
                        )
                self._queue.append(point)
                self.queued += 1
            if len(self._queue) >= self.settings.batch_size:
                self._cond.notify_all()

    def export_stored(self, stored: Sequence[tuple[BaseModel, datetime]]) -> None:
        """Ingest's listener: points for each newly stored (message, received_at)."""
        points: list[ExportPoint] = []
        for message, received_at in stored:
            points.extend(points_for(message, received_at))
        if points:
            self.export_many(points)

    def export_sales(self, lines: Sequence[SaleLine]) -> None:
        """Points for sale lines stored through the API or a CSV import."""
        self.export_many(sale_point(line) for line in lines)

    # ---- status ----------------------------------------------------------------------

    @property
    def queue_depth(self) -> int:
        with self._cond:
            return len(self._queue) + self._inflight

    @property
    def counters(self) -> dict[str, int]:
        return {
            "influx_queued": self.queued,
            "influx_written": self.written,
            "influx_dropped": self.dropped,
            "influx_rejected": self.rejected,
            "influx_failures": self.failures,
            "influx_queue_depth": self.queue_depth,
        }

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread; the server may be down (it is retried)."""
        if self._thread is not None:
            return
        from influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS

        s = self.settings
        self._client = InfluxDBClient(
            url=s.url,
            token=s.token.get_secret_value() if s.token else None,
            org=s.org,
            timeout=int(s.timeout_s * 1000),
            retries=False,  # this exporter retries, with its own backoff
        )
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)
        self._stop.clear()
        self._stop_deadline = float("inf")
        self._thread = threading.Thread(target=self._run, name="shelfsense-influx", daemon=True)
        self._thread.start()
        log.info("exporting to InfluxDB %s, bucket %s", s.url, s.bucket)

    def flush(self, timeout: float = 10.0) -> bool:
        """Write what is queued now; True once the queue is empty (False after timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._flush_requested = True
            self._cond.notify_all()
            while self._queue or self._inflight:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return False
                self._cond.wait(min(left, 0.1))
            return True

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued (trying for up to `timeout` s), then end the thread."""
        if self._thread is None:
            return
        with self._cond:
            self._stop_deadline = time.monotonic() + timeout
            self._stop.set()
            self._cond.notify_all()
        self._thread.join(timeout + self.settings.timeout_s + 1)
        self._thread = None
        left = len(self._queue)
        if left:
            log.error("InfluxDB export stopped with %d point(s) not written", left)
        if self._client is not None:
            self._client.close()
            self._client = None

    # ---- the writer thread -----------------------------------------------------------

    def _next_batch(self) -> list[ExportPoint] | None:
        """Wait for a full batch, the flush interval, a flush or stop; None = finished."""
        s = self.settings
        with self._cond:
            deadline = time.monotonic() + s.flush_interval_s
            while (
                len(self._queue) < s.batch_size
                and not self._stop.is_set()
                and not self._flush_requested
            ):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            if not self._queue:
                self._flush_requested = False
                return None if self._stop.is_set() else []
            batch = [self._queue.popleft() for _ in range(min(s.batch_size, len(self._queue)))]
            self._inflight = len(batch)
            return batch

    def _run(self) -> None:
        delay = self.settings.retry_min_s
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            if not batch:
                continue
            result = self._write(batch)
            with self._cond:
                self._inflight = 0
                if result == "retry":
                    self._requeue(batch)
                self._cond.notify_all()
            if result != "retry":
                delay = self.settings.retry_min_s
                continue
            if self._stop.is_set():
                left = self._stop_deadline - time.monotonic()
                if left <= 0:
                    return
                time.sleep(min(delay, left))
            else:
                self._stop.wait(delay)
            delay = min(delay * 2, self.settings.retry_max_s)

    def _requeue(self, batch: list[ExportPoint]) -> None:
        """Put a failed batch back at the head; over the limit, the oldest go first."""
        self._queue.extendleft(reversed(batch))
        while len(self._queue) > self.settings.max_queued_points:
            self._queue.popleft()
            self.dropped += 1

    def _write(self, batch: list[ExportPoint]) -> WriteResult:
        from influxdb_client import Point, WritePrecision
        from influxdb_client.rest import ApiException

        records = []
        for p in batch:
            record = Point(p.measurement)
            for key, value in p.tags.items():
                record.tag(key, value)
            for key, value in p.fields.items():
                record.field(key, value)
            records.append(record.time(p.time_ns, WritePrecision.NS))
        try:
            self._write_api.write(
                bucket=self.settings.bucket,
                org=self.settings.org,
                record=records,
                write_precision=WritePrecision.NS,
            )
        except ApiException as error:
            reason = f"HTTP {error.status} {error.reason}: {str(error.body or '')[:200]}"
            if error.status in REJECTED_STATUS:
                self.rejected += len(batch)
                log.error("InfluxDB refused %d points: %s", len(batch), reason)
                return "rejected"
            return self._failed(reason)
        except Exception as error:  # connection refused, timeout, DNS: the server is away
            return self._failed(f"{type(error).__name__}: {error}")
        if self.last_error is not None:
            log.info("InfluxDB export resumed at %s", self.settings.url)
        self.last_error = None
        self._warned_full = False
        self.written += len(batch)
        return "ok"

    def _failed(self, reason: str) -> WriteResult:
        self.failures += 1
        if self.last_error is None:
            log.warning("InfluxDB write failed (%s); retrying with backoff", reason)
        self.last_error = reason
        return "retry"
