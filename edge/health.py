"""The node's health figures: frames, failures, inference time, fps, CPU temperature.

Kept apart from the loop so the numbers mean the same in every place they are read:
inference time and fps are taken over a sliding window of recent frames (medians are
robust to one slow frame), counters over the node's lifetime.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from edge.contract.messages import Health

CPU_THERMAL_ZONE = Path("/sys/class/thermal/thermal_zone0/temp")


def cpu_temperature_c(path: Path = CPU_THERMAL_ZONE) -> float | None:
    """SoC temperature in °C where the kernel exposes it (Raspberry Pi does); else None."""
    try:
        return round(int(path.read_text().strip()) / 1000.0, 1)
    except (OSError, ValueError):
        return None


class HealthTracker:
    """Counts what the node loop did; `snapshot()` turns it into a `Health` payload."""

    def __init__(
        self,
        store: str,
        camera: str,
        *,
        window: int = 100,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.camera = camera
        self._clock = clock
        self.started = clock()
        self.frames_processed = 0
        self.frames_failed = 0
        self.consecutive_failures = 0
        self.camera_ok = True
        self.last_error: str | None = None
        self._inference_ms: deque[float] = deque(maxlen=window)
        self._frame_times: deque[float] = deque(maxlen=window)

    def frame_ok(self, inference_ms: float) -> None:
        """A frame went through detection and analysis."""
        self.frames_processed += 1
        self.consecutive_failures = 0
        self.camera_ok = True
        self._inference_ms.append(inference_ms)
        self._frame_times.append(self._clock())

    def frame_failed(self, error: str, *, camera_lost: bool) -> None:
        """A frame could not be read or analysed; `camera_lost` when the camera is gone."""
        self.frames_failed += 1
        self.consecutive_failures += 1
        self.last_error = error
        if camera_lost:
            self.camera_ok = False

    @property
    def inference_ms(self) -> float | None:
        return round(statistics.median(self._inference_ms), 2) if self._inference_ms else None

    @property
    def fps(self) -> float | None:
        times = self._frame_times
        if len(times) < 2 or times[-1] <= times[0]:
            return None
        return round((len(times) - 1) / (times[-1] - times[0]), 3)

    def snapshot(
        self,
        *,
        model: str | None = None,
        software: str | None = None,
        outbox_pending: int = 0,
        outbox_dropped: int = 0,
    ) -> Health:
        return Health(
            store=self.store,
            camera=self.camera,
            uptime_s=round(self._clock() - self.started, 3),
            frames_processed=self.frames_processed,
            frames_failed=self.frames_failed,
            camera_ok=self.camera_ok,
            last_error=self.last_error,
            inference_ms=self.inference_ms,
            fps=self.fps,
            cpu_temp_c=cpu_temperature_c(),
            outbox_pending=outbox_pending,
            outbox_dropped=outbox_dropped,
            model=model,
            software=software,
        )
