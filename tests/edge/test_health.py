"""Health figures: counters, median inference time, fps, CPU temperature."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.health import HealthTracker, cpu_temperature_c


def test_cpu_temperature_from_the_thermal_zone_file(tmp_path: Path) -> None:
    zone = tmp_path / "temp"
    zone.write_text("48312\n")
    assert cpu_temperature_c(zone) == pytest.approx(48.3)
    assert cpu_temperature_c(tmp_path / "missing") is None
    zone.write_text("garbage")
    assert cpu_temperature_c(zone) is None


def test_health_snapshot_counts_frames_and_takes_medians() -> None:
    now = [0.0]
    tracker = HealthTracker("s1", "c1", clock=lambda: now[0])
    assert tracker.snapshot().inference_ms is None and tracker.snapshot().fps is None
    for ms in (10.0, 12.0, 500.0, 11.0):  # one slow frame does not move the median much
        now[0] += 0.5
        tracker.frame_ok(ms)
    tracker.frame_failed("camera: gone", camera_lost=True)
    health = tracker.snapshot(model="m", software="x")
    assert health.frames_processed == 4 and health.frames_failed == 1
    assert health.inference_ms == pytest.approx(11.5)
    assert health.fps == pytest.approx(2.0)
    assert health.uptime_s == pytest.approx(2.0)
    assert not health.camera_ok and health.last_error == "camera: gone"
    tracker.frame_ok(10.0)
    assert tracker.snapshot().camera_ok and tracker.consecutive_failures == 0
