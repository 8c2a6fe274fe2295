"""`shelf-gateway simulate`, briefly: the real pipeline on the simulated store prints one
JSON object with every figure the issue asks for, in sane ranges."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def test_simulate_prints_the_measurements_as_json(tmp_path: Path) -> None:
    args = ["--hours", "0.5", "--cameras", "1", "--seed", "3", "--json"]
    done = subprocess.run(
        [str(BIN / "shelf-gateway"), "simulate", *args, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["frames"] == 180 and report["cameras"] == 1
    assert 0.8 <= report["slot_accuracy"] <= 1.0
    for kind in ("gap_events", "wrong_product"):
        figures = report[kind]
        assert set(figures) >= {"precision", "recall", "events", "episodes"}
        for name in ("precision", "recall"):
            assert figures[name] is None or 0.0 <= figures[name] <= 1.0
    assert "median_delay_frames" in report["gap_events"]
    assert report["occlusion_false_empty"] >= 0
    assert report["compliance"]["reproduced"] is True
    assert report["gateway"]["dead_letters"] == 0 and report["gateway"]["stored"] > 180
    assert report["timing_ms_median"]["motion_ms"] > 0
    # What the gateway stored stays in --data-dir for a look with sqlite3.
    assert (tmp_path / "shelfsense.db").is_file()
