"""`shelf-hq loadtest` end to end on a small fleet: a real 3-node JetStream cluster, real
ingest processes, one node and one ingest process SIGKILLed mid-run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.services import find_binary


def test_the_loadtest_loses_nothing_and_stores_nothing_twice_through_kills(tmp_path: Path) -> None:
    find_binary("nats-server")  # skip with a reason, or fail under SHELFSENSE_REQUIRE_SERVICES=1
    command = [
        sys.executable,
        "-m",
        "gateway.cli.hq",
        "--log-level",
        "WARNING",
        "loadtest",
        "--stores",
        "15",
        "--hours",
        "6",
        "--workdir",
        str(tmp_path),
        "--json",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["stores"] == 15 and result["sent"] == result["expected"] > 500
    assert result["lost"] == 0 and result["duplicates"] == 0
    assert result["stored"] == result["sent"]
    assert result["broker_node_killed"] is True and result["consumer_killed"] is True
    assert result["msgs_per_s"] > 0 and 0 < result["lag_p50_ms"] <= result["lag_p99_ms"]
    # The stored rows are real: the analytics can read them back.
    assert any((tmp_path / "hq" / "slot_hours").rglob("*.parquet"))
