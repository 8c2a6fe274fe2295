"""`shelf-gateway simulate`, briefly: the real pipeline, till, advice engine and staff on
the simulated store print one JSON object with every figure the issues ask for, in sane
ranges. (The scoring rules themselves: `test_simulate_advice`.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def test_simulate_prints_the_measurements_as_json(tmp_path: Path) -> None:
    args = ["--hours", "1", "--cameras", "2", "--seed", "3", "--json"]
    done = subprocess.run(
        [str(BIN / "shelf-gateway"), "simulate", *args, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["frames"] == 720 and report["cameras"] == 2
    assert 0.8 <= report["slot_accuracy"] <= 1.0
    for kind in ("gap_events", "wrong_product"):
        figures = report[kind]
        assert set(figures) >= {"precision", "recall", "events", "episodes"}
        for name in ("precision", "recall"):
            assert figures[name] is None or 0.0 <= figures[name] <= 1.0
    assert "median_delay_frames" in report["gap_events"]
    assert report["occlusion_false_empty"] >= 0
    assert report["compliance"]["reproduced"] is True
    assert report["gateway"]["dead_letters"] == 0 and report["gateway"]["stored"] > 720
    assert report["timing_ms_median"]["motion_ms"] > 0
    # What the gateway stored stays in --data-dir for a look with sqlite3.
    assert (tmp_path / "shelfsense.db").is_file()

    advice = report["advice"]
    restock = advice["restock"]
    assert set(restock) >= {"precision", "recall", "median_delay_min", "advice", "episodes"}
    # An hour is enough for shelves to run empty and for the advice to follow them.
    assert restock["episodes"] > 0 and restock["advice"] > 0
    assert restock["recall"] is not None and restock["recall"] >= 0.5
    assert 0 <= restock["median_delay_min"] <= 10
    hidden = advice["hidden_stockout"]
    assert hidden["cases"] >= 1 and set(hidden) >= {"recall", "median_delay_min"}
    assert advice["counts"]["restock"] == restock["advice"]
    # Staff acted on advice and the cameras verified some of it.
    assert advice["acknowledged"] > 0 and advice["done"] > 0
    assert advice["resolved_verified"] > 0 and advice["median_time_to_resolve_min"] > 0
    lost = report["lost_units"]
    assert lost["without_advice"] > 0 and 0 <= lost["with_advice"] < lost["without_advice"]
    assert 0 < report["lost_sales_avoided_pct"] <= 100


def test_a_shift_of_three_cameras_reports_each_wrong_product_once(tmp_path: Path) -> None:
    """Issue 21, item 8: the 8 h, 3-camera store plants at least 20 wrong-product and 20
    messy episodes, and no wrong-product episode is reported twice. Sized for CI: one
    frame a minute at 320x240 (about 2.5 min on 2 busy cores; the default 10 s at
    640x480 gives the same counts in about 20 min)."""
    args = ["--hours", "8", "--cameras", "3", "--seed", "1", "--interval", "60"]
    done = subprocess.run(
        [str(BIN / "shelf-gateway"), "simulate", *args, "--size", "320x240", "--json"],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["frames"] == 3 * 8 * 60
    wrong, messy = report["wrong_product"], report["messy"]
    assert wrong["planted"] >= 20 and messy["planted"] >= 20
    assert wrong["episodes"] >= wrong["planted"] and messy["episodes"] >= messy["planted"]
    assert wrong["repeated"] == 0 and wrong["events"] <= wrong["episodes"]
    assert wrong["precision"] >= 0.9 and wrong["recall"] >= 0.8
    assert messy["precision"] >= 0.6 and messy["recall"] >= 0.6
    assert report["advice"]["counts"].get("fix_display", 0) >= 20
