"""A big sales CSV upload keeps the gateway's memory flat: a real `shelf-gateway run`
process takes a 30 MB file through `POST /api/pos/sales/csv` and its peak resident
memory (VmHWM) grows by less than 100 MB. Before the upload was streamed, a 33 MB file
took the gateway from 316 MB to 1.3 GB.

The process's broker is a free loopback port nobody listens on: the API works without a
broker (health says `degraded`), and no broker is needed to import sales.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from edge.layout import with_check_digit
from tests.support.faults import GatewayProcess
from tests.support.gateway_store import wait_until
from tests.support.services import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/status"),
]

TARGET_BYTES = 30 * 1024 * 1024
MAX_GROWTH_KB = 100 * 1024
SKUS = [with_check_digit(f"4006381{n:05d}") for n in range(200)]


def peak_rss_kb(pid: int) -> int:
    """The process's peak resident set size so far (VmHWM), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmHWM in /proc/{pid}/status")


def write_sales_csv(path: Path) -> int:
    """About 30 MB of valid sale lines over the last 20 days; the number of lines."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)
    with path.open("w", encoding="utf-8") as out:
        out.write("id,time,store,sku,quantity,unit_price,currency\n")
        n = 0
        while out.tell() < TARGET_BYTES:
            at = (start + timedelta(seconds=3 * n)).isoformat()
            out.write(f"R{n:09d}-1,{at},store-1,{SKUS[n % len(SKUS)]},{1 + n % 3},1.49,EUR\n")
            n += 1
    return n


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path / "gw", f"mqtt://127.0.0.1:{free_port()}")
    process.start()
    try:
        wait_until(lambda: process.health() is not None, 60, "the gateway's API")
        yield process
    finally:
        process.stop()


def test_a_30_mb_csv_upload_keeps_memory_flat(gateway: GatewayProcess, tmp_path: Path) -> None:
    csv = tmp_path / "till-export.csv"
    lines = write_sales_csv(csv)
    assert csv.stat().st_size >= TARGET_BYTES
    assert gateway.process is not None
    pid = gateway.process.pid
    before = peak_rss_kb(pid)

    with csv.open("rb") as body:
        response = httpx.post(
            f"http://127.0.0.1:{gateway.port}/api/pos/sales/csv",
            params={"filename": csv.name},
            content=body,
            headers=gateway.headers | {"Content-Type": "text/csv"},
            timeout=600,
        )
    assert response.status_code == 200, response.text[:2000]
    report = response.json()
    assert report["accepted"] == lines and report["rejected"] == 0, report
    growth = peak_rss_kb(pid) - before
    print(f"{lines} lines, {csv.stat().st_size} bytes: peak RSS {before} kB -> +{growth} kB")
    assert growth < MAX_GROWTH_KB, f"peak RSS grew by {growth / 1024:.0f} MB"
