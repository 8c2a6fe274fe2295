"""`shelf-gateway loadtest` with tiny numbers: it runs end to end and reports every figure.

A benchmark, not a speed test: only the keys and the loss count are checked here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.devtools import loadtest
from gateway.devtools.loadtest import BROKER_OPTIONS
from tests.support.services import find_binary, shipped_delivery_options

KEYS = {"sent", "stored", "lost", "duplicates", "msgs_per_s", "p50_ms", "p99_ms", "gateway_rss_mb"}


def test_loadtest_with_three_cameras_loses_nothing(tmp_path: Path) -> None:
    find_binary("mosquitto")  # skips (or fails under SHELFSENSE_REQUIRE_SERVICES) without it
    command = [sys.executable, "-m", "gateway.cli", "loadtest", "--cameras", "3", "--rate", "5"]
    result = subprocess.run(
        [*command, "--seconds", "2", "--json", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures.keys() >= KEYS
    assert figures["sent"] == 30 and figures["stored"] == 30
    assert figures["lost"] == 0 and figures["duplicates"] == 0
    assert figures["p50_ms"] <= figures["p99_ms"] and figures["gateway_rss_mb"] > 0
    assert (tmp_path / "gateway-data" / "shelfsense.db").exists()


def test_loadtest_without_mosquitto_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(loadtest, "SBIN_DIRS", ())
    with pytest.raises(loadtest.LoadtestError, match=r"apt install mosquitto.*--broker"):
        loadtest.run(cameras=1, rate=1, seconds=1, workdir=tmp_path)


def test_the_benchmark_broker_has_the_store_brokers_limits() -> None:
    shipped = dict(line.split(" ", 1) for line in shipped_delivery_options().splitlines())
    assert shipped == BROKER_OPTIONS
