"""The camera node's main loop: read frame -> detect -> analyse -> publish, forever.

Analysis is `edge.pipeline.ShelfPipeline` (motion gate, slot states, wrong-product check,
smoothing, compliance). Snapshots go out only when the gateway asks for one, the
gateway's config enables them for this camera and the node's own config allows them.

A signed model the gateway announces is fetched and loaded on a thread of its own
(`edge.model_update`); the loop then tries it beside the current one on the reference
picture (`edge.model_check`) and switches between two frames, or keeps the model it runs
and says why (`…/rollout`, and health's `model_update`).

Nothing a camera or a frame can do stops the loop: failures are counted in health and
the next read is retried after a backoff that grows while failures repeat. Several nodes
can run as threads of one process (the demo does), each with its own detector.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from importlib import metadata
from pathlib import Path

import cv2
import numpy as np

from edge.contract.messages import (
    Health,
    NodeConfig,
    ShelfEvent,
    ShelfState,
    Snapshot,
    SnapshotRequest,
    utc_now,
)
from edge.contract.model_rollout import ModelCheck, RolloutOutcome, RolloutStatus
from edge.detector import Detector, OnnxDetector, default_model_path
from edge.health import HealthTracker
from edge.layout import Layout
from edge.model_check import compare_models
from edge.model_update import ModelUpdater, Prepared
from edge.pipeline import FrameResult, ShelfPipeline
from edge.publisher import NodePublisher
from edge.settings import DetectorSettings, NodeSettings, load_layout
from edge.snapshot import refusal, take_snapshot
from edge.sources import CameraUnavailable, FrameError, FrameSource, open_source
from edge.tiling import TiledDetector

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0


def software_version() -> str:
    try:
        return f"shelfsense {metadata.version('shelfsense')}"
    except metadata.PackageNotFoundError:
        return "shelfsense (source tree)"


def build_detector(settings: DetectorSettings, preferred_model: Path | None = None) -> Detector:
    """The detector the config asks for: the ONNX model, on tiles when `tiles` is set."""
    detector = OnnxDetector(
        settings.model or preferred_model or default_model_path(settings.bundled),
        threads=settings.threads,
        confidence=settings.confidence,
        class_confidence=settings.class_confidence,
        iou=settings.iou,
        warmup_runs=settings.warmup_runs,
    )
    tiles = settings.tiles
    if tiles is None:
        return detector
    return TiledDetector(
        detector,
        cols=tiles.cols,
        rows=tiles.rows,
        overlap=tiles.overlap,
        full_frame=tiles.full_frame,
        rows_only=tiles.region == "rows",
    )


class CameraNode:
    """One camera: its source, detector, analysis and MQTT session.

    `source` and `detector` default to what `settings` describes; pass them in to share
    a prepared object (the demo's simulated shelves, a detector with threads=1).
    """

    def __init__(
        self,
        settings: NodeSettings,
        source: FrameSource | None = None,
        detector: Detector | None = None,
    ) -> None:
        self.settings = settings
        self.source: FrameSource = (
            source
            if source is not None
            else open_source(settings.source, store=settings.store, camera=settings.camera)
        )
        self.detector: Detector = (
            detector
            if detector is not None
            else build_detector(settings.detector, getattr(self.source, "preferred_model", None))
        )
        self._fit_source_to_detector()
        self.health = HealthTracker(settings.store, settings.camera)
        self._wake = threading.Event()  # set by a config arriving (or by stop) to end a wait
        self.model_version: str | None = None  # a rolled-out model's; None: the configured one
        self.model_update: str | None = None  # the last roll-out's outcome, in words
        self._waiting_model: Prepared | None = None  # loaded, waits for a reference picture
        self.updater = ModelUpdater(
            settings.model_updates, settings.models_dir, self._detector_for, self._wake.set
        )
        self.publisher = NodePublisher(
            settings,
            on_config=self._on_config,
            on_snapshot_request=self._on_snapshot_request,
            on_model=self.updater.announce,
        )
        self.software = software_version()
        self.seq = 0
        self.layout, self.layout_version = self._initial_layout()
        self._fit_detector_to_layout()
        self.pipeline = ShelfPipeline(settings, self.layout)
        self.last_result: FrameResult | None = None
        self.snapshots_enabled = False  # by the gateway's config for this camera
        self.last_frame: np.ndarray | None = None
        self._pending: NodeConfig | None = None
        self._snapshot_requests: list[SnapshotRequest] = []
        self._pending_lock = threading.Lock()
        self._finished_logged = False

    def _fit_source_to_detector(self) -> None:
        """Let a source that decodes photos decode them no larger than the detector's
        input (`FolderSource.fit_to`); live cameras deliver their configured size."""
        fit_to = getattr(self.source, "fit_to", None)
        size = (getattr(self.detector, "input_w", None), getattr(self.detector, "input_h", None))
        if callable(fit_to) and None not in size:
            fit_to(size)

    def _initial_layout(self) -> tuple[Layout | None, str | None]:
        """Local layout until the gateway sends one: the layout file, else the source's own
        (a simulated shelf knows its layout), else none (detections only)."""
        if self.settings.layout_file is not None:
            layout = load_layout(Path(self.settings.layout_file))
            log.info("layout %s from %s", layout.version, self.settings.layout_file)
            return layout, layout.version
        layout = getattr(self.source, "layout", None)
        if isinstance(layout, Layout):
            log.info("layout %s from the %s source", layout.version, type(self.source).__name__)
            return layout, layout.version
        log.info("no layout yet: publishing detections only until the gateway sends one")
        return None, None

    def _on_config(self, config: NodeConfig) -> None:
        """Called on paho's thread: hand the config to the loop and wake it, so a new
        layout applies now (and a frame under it goes out), not at the next capture."""
        with self._pending_lock:
            self._pending = config
        self._wake.set()

    def _on_snapshot_request(self, request: SnapshotRequest) -> None:
        """Called on paho's thread: the loop answers after its next frame."""
        with self._pending_lock:
            self._snapshot_requests.append(request)

    def answer_snapshot_requests(self) -> list[Snapshot]:
        """Answer every pending request with the last frame (blurred), or a refusal that
        says which switch is off; returns what was published."""
        with self._pending_lock:
            requests, self._snapshot_requests = self._snapshot_requests, []
        answers = [self.snapshot_for(request) for request in requests]
        for answer in answers:
            self.publisher.publish_snapshot(answer)
        return answers

    def snapshot_for(self, request: SnapshotRequest) -> Snapshot:
        """A snapshot of the last frame, if both the gateway and this node allow one."""
        s = self.settings
        if not s.snapshots.allowed:
            why = "this node's config does not allow snapshots (snapshots.allowed)"
            return refusal(s.store, s.camera, request, why)
        if not self.snapshots_enabled:
            why = "snapshots are not enabled for this camera at the gateway"
            return refusal(s.store, s.camera, request, why)
        if self.last_frame is None:
            return refusal(s.store, s.camera, request, "no frame yet; try again in a moment")
        result = self.last_result
        gate = self.pipeline.gate
        return take_snapshot(
            s.store,
            s.camera,
            request,
            self.last_frame,
            s.snapshots,
            motion=result.motion if result else None,
            person_detector=gate.person_detector if gate else None,
            layout=self.layout,
            layout_version=self.layout_version,
        )

    def configure(self, config: NodeConfig) -> None:
        """Take a config as the gateway sends it; it applies before the next frame (at
        once in `run`)."""
        self._on_config(config)

    def _apply_pending_config(self) -> bool:
        """Apply a config that arrived; True when it brought a new layout."""
        with self._pending_lock:
            config, self._pending = self._pending, None
        if config is None:
            return False
        self.snapshots_enabled = config.snapshots_enabled
        if config.layout is None or config.version == self.layout_version:
            return False
        log.info(
            "switching to layout %s (%d rows, %d slots)",
            config.version,
            len(config.layout.rows),
            len(config.layout.slot_boxes()),
        )
        self.layout, self.layout_version = config.layout, config.version
        self._fit_detector_to_layout()
        self.pipeline.set_layout(config.layout)
        return True

    def _fit_detector_to_layout(self) -> None:
        """A tiled detector set to the rows' region covers the current layout's rows."""
        if isinstance(self.detector, TiledDetector) and self.layout is not None:
            self.detector.set_rows([(row.y0, row.y1) for row in self.layout.rows])

    @property
    def model_name(self) -> str | None:
        return getattr(self.detector, "name", None)

    # ---- model roll-outs -------------------------------------------------------------

    def _detector_for(self, model: Path | None) -> Detector:
        """A detector with this node's settings on `model` (None: the configured model)."""
        settings = self.settings.detector
        if model is not None:
            settings = settings.model_copy(update={"model": model})
        return build_detector(settings, getattr(self.source, "preferred_model", None))

    def _reference_picture(self) -> tuple[np.ndarray, str] | None:
        """The picture a new model is tried on: the configured reference image, else the
        last frame; None while there is neither."""
        path = self.settings.model_updates.reference_image
        if path is not None:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None:
                return image, "reference_image"
            log.warning("%s: cannot read the reference image; using the last frame", path)
        if self.last_frame is not None:
            return self.last_frame, "last_frame"
        return None

    def apply_model_update(self) -> bool:
        """Take a prepared model roll-out, if one waits: switch or keep, and report;
        True when the node now runs another model."""
        prepared = self._waiting_model or self.updater.take()
        self._waiting_model = None
        if prepared is None:
            return False
        announcement = prepared.announcement
        if prepared.detector is None:
            self._report(prepared, RolloutOutcome.REJECTED, prepared.problem)
            return False
        if announcement is None:
            self._switch(prepared.detector, None)
            self._report(prepared, RolloutOutcome.REVERTED, None)
            return True
        picture = self._reference_picture()
        if picture is None:
            self._waiting_model = prepared  # tried once the first frame is in
            return False
        frame, reference = picture
        result = compare_models(
            self.detector, prepared.detector, frame, self.settings.model_updates, reference
        )
        if not result.passed:
            self._report(prepared, RolloutOutcome.REJECTED, result.problem, result.check)
            return False
        self._switch(prepared.detector, announcement.version)
        self._report(prepared, RolloutOutcome.SWITCHED, None, result.check)
        return True

    def _switch(self, detector: Detector, version: str | None) -> None:
        log.info(
            "switching model %s -> %s (%s)",
            self.model_name,
            getattr(detector, "name", "?"),
            version or "configured",
        )
        self.detector = detector
        self.model_version = version
        self._fit_source_to_detector()
        self._fit_detector_to_layout()

    def _report(
        self,
        prepared: Prepared,
        outcome: RolloutOutcome,
        reason: str | None,
        check: ModelCheck | None = None,
    ) -> None:
        announcement = prepared.announcement
        version = announcement.version if announcement else None
        self.model_update = f"{outcome.value} {version or 'configured model'}" + (
            f": {reason}" if reason else ""
        )
        (log.warning if outcome is RolloutOutcome.REJECTED else log.info)(
            "model roll-out: %s", self.model_update
        )
        self.publisher.publish_rollout_status(
            RolloutStatus(
                store=self.settings.store,
                camera=self.settings.camera,
                rollout=announcement.rollout if announcement else None,
                version=version,
                outcome=outcome,
                reason=reason,
                running_version=self.model_version,
                running_model=self.model_name,
                check=check,
            )
        )

    def tick(self) -> bool:
        """One capture-detect-analyse-publish cycle; False when the frame failed."""
        try:
            frame = self.source.read()
        except Exception as error:  # a camera can fail in any way; the loop must go on
            bad_frame_only = isinstance(error, FrameError) and not isinstance(
                error, CameraUnavailable
            )
            self._failed(f"camera: {error}", camera_lost=not bad_frame_only, error=error)
            return False
        if frame is None:
            if not self._finished_logged:
                log.info("the source has no more frames; idling (health still published)")
                self._finished_logged = True
            return True
        try:
            state, events = self.process(frame)
        except Exception as error:  # one frame the detector cannot take is one failed frame
            self._failed(f"detector: {error}", camera_lost=False, error=error)
            return False
        self.publisher.publish_frame(state, events)
        for event in events:
            # Logged once queued in the outbox: each id here reaches the gateway.
            log.info(
                "slot %s/%s: %s (%s) event %s",
                event.row,
                event.slot,
                event.type.value,
                event.status,
                event.id,
            )
        if self._snapshot_requests:
            self.answer_snapshot_requests()
        return True

    def process(
        self, frame: np.ndarray, now: datetime | None = None
    ) -> tuple[ShelfState, list[ShelfEvent]]:
        """Detect and analyse one BGR frame taken at `now` (default: now): the state to
        publish and the new events. A config received meanwhile applies first."""
        self._apply_pending_config()
        now = now or utc_now()
        started = time.perf_counter()
        detections = self.detector.detect(frame)
        elapsed_ms = (time.perf_counter() - started) * 1e3
        timing = getattr(self.detector, "timing", None)
        inference_ms = getattr(timing, "inference_ms", elapsed_ms)
        result = self.pipeline.process(frame, detections, now)
        self.last_result = result
        self.last_frame = frame
        self.seq += 1
        self.health.frame_ok(inference_ms)
        state = ShelfState(
            store=self.settings.store,
            camera=self.settings.camera,
            ts=now,
            seq=self.seq,
            layout_version=self.layout_version,
            slots=result.slots,
            detections=detections,
            score=result.score,
            occluded=result.occluded,
            model=self.model_name,
            model_version=self.model_version,
        )
        return state, result.events

    def _failed(self, message: str, *, camera_lost: bool, error: Exception) -> None:
        self.health.frame_failed(message, camera_lost=camera_lost)
        n = self.health.consecutive_failures
        if n == 1 or n % 50 == 0:
            # Expected failures (FrameError) need no traceback; anything else is a bug.
            log.warning(
                "%s (failure %d in a row)",
                message,
                n,
                exc_info=not isinstance(error, FrameError),
            )

    def backoff_s(self) -> float:
        """Wait after a failed tick: one capture period after a bad frame; while the camera
        is gone, the period doubled per failure in a row, up to MAX_BACKOFF_S."""
        interval = self.settings.interval_s
        n = self.health.consecutive_failures
        if n == 0 or self.health.camera_ok:
            return interval
        return min(max(MAX_BACKOFF_S, interval), interval * 2 ** min(n - 1, 16))

    def health_report(self) -> Health:
        """The node's health now, with what waits in (and was dropped from) the outbox."""
        outbox = self.publisher.outbox
        health = self.health.snapshot(
            model=self.model_name,
            software=self.software,
            outbox_pending=outbox.pending,
            outbox_dropped=outbox.dropped,
        )
        health.snapshots_allowed = self.settings.snapshots.allowed
        health.model_version = self.model_version
        health.model_update = self.model_update
        return health

    def publish_health(self) -> None:
        self.publisher.publish_health(self.health_report())

    def _wake_on_stop(self, stop: threading.Event) -> None:
        stop.wait()
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set, then publish `offline` and release the camera.

        Between captures the loop waits on `_wake`, which a config or `stop` sets: a new
        layout applies the moment it arrives and a frame is taken under it at once (its
        state shows the new slots), then captures go on every interval from there."""
        self.publisher.start()
        self.updater.start()
        watcher = threading.Thread(
            target=self._wake_on_stop, args=(stop,), name="node-stop-watch", daemon=True
        )
        watcher.start()
        next_tick = next_health = time.monotonic()
        try:
            while not stop.is_set():
                self._wake.clear()
                now = time.monotonic()
                if self._apply_pending_config():
                    next_tick = now
                if self.apply_model_update():
                    next_tick = now  # a frame under the new model goes out at once
                    next_health = now
                if now >= next_tick:
                    ok = self.tick()
                    done = time.monotonic()
                    next_tick = (
                        (now + self.settings.interval_s) if ok else (done + self.backoff_s())
                    )
                    now = done
                if now >= next_health:
                    self.publish_health()
                    next_health = now + self.settings.health_interval_s
                self._wake.wait(max(0.0, min(next_tick, next_health) - time.monotonic()))
        finally:
            log.info("stopping camera %s/%s", self.settings.store, self.settings.camera)
            self.updater.stop()
            self.publisher.stop()
            try:
                self.source.close()
            except Exception as error:
                log.warning("closing the source failed: %s", error)
