"""`shelf-hq bench-analytics`: how long the cross-store jobs take for a fleet of N stores.

Writes a simulated fleet's hours straight into a head-office store (no transport: this
times the engine, the load test times the stream), then runs the analytics job on a local
Dask cluster and reads one brand's page-sized result, printing JSON: rows and files
written, write time, job time, and the time to answer a brand's cross-store question from
the saved results. A benchmark: it prints figures and asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from gateway.cli.command import Command
from gateway.devtools.hq_fleet import BRANDS, fleet_hours, make_fleet
from gateway.devtools.hq_loadtest import START
from gateway.hq import analytics
from gateway.hq.store import HqStore


def run_bench(stores: int, hours: int, workdir: Path, workers: int = 2) -> dict[str, Any]:
    store = HqStore(workdir)
    started = time.perf_counter()
    messages = 0
    for batch in fleet_hours(make_fleet(stores), START, hours):
        for start in range(0, len(batch), 5000):
            messages += store.write(batch[start : start + 5000]).stored
    write_s = time.perf_counter() - started
    store.close()
    started = time.perf_counter()
    counts = analytics.refresh(workdir, analytics.EngineSettings(workers=workers))
    job_s = time.perf_counter() - started
    brand = next(iter(BRANDS))
    started = time.perf_counter()
    rows = analytics.load_result(workdir, "brand_store_days")
    page = rows[rows["brand"] == brand].sort_values("osa")
    page_ms = (time.perf_counter() - started) * 1e3
    files = sum(1 for _ in workdir.glob("*/day=*/shard=*/*.parquet"))
    return {
        "stores": stores,
        "hours": hours,
        "messages": messages,
        "parquet_files": files,
        "dataset_mb": round(sum(p.stat().st_size for p in workdir.rglob("*.parquet")) / 2**20, 1),
        "write_s": round(write_s, 1),
        "job_s": round(job_s, 1),
        "dask_workers": workers,
        "results_rows": counts,
        "brand_page_rows": len(page),
        "brand_page_ms": round(page_ms, 1),
    }


def _run(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="shelfsense-hq-bench-"))
    result = run_bench(args.stores, args.hours, workdir, args.workers)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stores", type=int, default=1000, help="simulated stores")
    parser.add_argument("--hours", type=int, default=24, help="simulated hours")
    parser.add_argument("--workers", type=int, default=2, help="local Dask workers")
    parser.add_argument("--workdir", type=Path, help="where the dataset goes (default: a temp dir)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")


def command() -> Command:
    return Command(
        name="bench-analytics",
        help="time the cross-store analytics job on a simulated fleet of N stores (JSON)",
        description=__doc__.split("\n\n")[0],
        add_arguments=_arguments,
        handler=_run,
    )
