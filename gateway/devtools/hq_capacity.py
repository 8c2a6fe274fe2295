"""`shelf-hq capacity`: the head office's size for N stores, worked from what the simulated
fleet really sends.

It runs a sample of simulated stores (`hq_fleet`) for a day, counts every envelope by
kind with its encoded size, writes them into a real `HqStore` and compacts it, so the
bytes per message in Parquet and in the id index are measured, not guessed. Then it
scales to `--stores`: messages per second (the day's average, the busiest simulated
hour, and the top-of-hour burst when every store sends its hourly rollups and sales
within `--burst-window-s`), bytes per day on the wire and at rest, storage per year,
and the machines of each kind: ingest at the rate measured here (decode and store, one
core), NATS and Dask at the per-core rates given (defaults: what this repository's load
test and bench-analytics measured; see the README's Head office section). Prints JSON; the
assumptions are in the output next to the figures they produce.
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from gateway.cli.command import Command
from gateway.devtools.hq_fleet import CAMERAS, fleet_hours, make_fleet
from gateway.devtools.hq_loadtest import START
from gateway.hq.store import INDEX_FILE, HqStore
from gateway.uplink.contract import Envelope, Kind

NATS_OVERHEAD_B = 150
"""Per message on the wire beyond the JSON: subject, `Nats-Msg-Id` header, protocol
line, publish ack (an estimate from the NATS protocol, not measured here)."""
JETSTREAM_OVERHEAD_B = 60
"""Per stored message in a JetStream file store: sequence, timestamp, lengths, checksum."""
HOURLY = (Kind.ROLLUP, Kind.SALES)
"""The kinds every store sends right after each hour closes."""


def measure(stores: int, hours: int, workdir: Path, seed: int = 1) -> dict[str, Any]:
    """Per store and day: messages and JSON bytes by kind, the busiest hour, and the bytes
    each message costs in the compacted Parquet dataset and in the id index."""
    count: Counter[str] = Counter()
    size: Counter[str] = Counter()
    per_hour: list[int] = []
    ingest_s = 0.0
    store = HqStore(workdir)
    for batch in fleet_hours(make_fleet(stores, seed), START, hours, seed):
        steady = [e for e in batch if e.kind not in (Kind.PROFILE, Kind.PRODUCTS)]
        per_hour.append(len(steady))
        wire = [env.to_bytes() for env in batch]
        for env, data in zip(batch, wire, strict=True):
            count[env.kind.value] += 1
            size[env.kind.value] += len(data)
        started = time.perf_counter()  # what an ingest process does: decode, then store
        for start in range(0, len(wire), 500):
            store.write([Envelope.from_bytes(d) for d in wire[start : start + 500]])
        ingest_s += time.perf_counter() - started
    store.compact()
    messages = store.stored_count()
    store.close()
    with sqlite3.connect(workdir / INDEX_FILE) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    parquet = sum(p.stat().st_size for p in workdir.glob("*/day=*/shard=*/*.parquet"))
    index = (workdir / INDEX_FILE).stat().st_size
    days = hours / 24
    return {
        "sample_stores": stores,
        "sample_hours": hours,
        "cameras_per_store": len(CAMERAS),
        "per_store_day": {
            kind: {
                "messages": round(count[kind] / stores / days, 2),
                "mean_bytes": round(size[kind] / count[kind]),
            }
            for kind in sorted(count)
        },
        "messages_per_store_day": round(sum(count.values()) / stores / days, 1),
        "json_bytes_per_store_day": round(sum(size.values()) / stores / days),
        "busiest_hour_vs_mean": round(max(per_hour) / (sum(per_hour) / len(per_hour)), 2),
        "hourly_burst_messages_per_store": round(
            sum(count[k.value] for k in HOURLY) / stores / hours, 2
        ),
        "ingest_msgs_per_s_one_core": round(messages / ingest_s),
        "parquet_bytes_per_message": round(parquet / messages, 1),
        "index_bytes_per_message": round(index / messages, 1),
    }


def model(
    sample: dict[str, Any],
    stores: int,
    *,
    burst_window_s: float,
    nats_msgs_per_core: float,
    nats_node_cores: int,
    dask_store_days_per_core_s: float,
    refresh_every_s: float,
    replicas: int = 3,
    stream_days: float = 7.0,
) -> dict[str, Any]:
    """Scale the measured sample to `stores`."""
    per_day = sample["messages_per_store_day"] * stores
    avg = per_day / 86400
    busiest = avg * sample["busiest_hour_vs_mean"]
    burst = sample["hourly_burst_messages_per_store"] * stores / burst_window_s + avg
    peak = max(busiest, burst)
    json_bytes = sample["json_bytes_per_store_day"] * stores
    wire = json_bytes + per_day * NATS_OVERHEAD_B
    stream = (json_bytes + per_day * JETSTREAM_OVERHEAD_B) * replicas * stream_days
    parquet = per_day * sample["parquet_bytes_per_message"]
    index = per_day * sample["index_bytes_per_message"]
    stream_cores = peak / nats_msgs_per_core
    gb = 1e9
    return {
        "stores": stores,
        "messages_per_day": round(per_day),
        "msgs_per_s_average": round(avg),
        "msgs_per_s_busiest_hour": round(busiest),
        "msgs_per_s_top_of_hour_burst": round(burst),
        "wire_gb_per_day": round(wire / gb, 1),
        "jetstream_gb_on_disk_all_replicas": round(stream / gb, 1),
        "parquet_gb_per_day": round(parquet / gb, 2),
        "parquet_tb_per_year": round(parquet * 365 / 1e12, 2),
        "id_index_gb_per_day": round(index / gb, 1),
        # whole replica groups: each stream's R3 group lives on `replicas` nodes
        "nats_nodes": replicas * math.ceil(stream_cores / nats_node_cores / replicas),
        "ingest_cores": math.ceil(peak / sample["ingest_msgs_per_s_one_core"]),
        "dask_cores_one_day_per_refresh": math.ceil(
            stores / dask_store_days_per_core_s / refresh_every_s
        ),
        "assumptions": {
            "burst_window_s": burst_window_s,
            "nats_msgs_per_s_per_core": nats_msgs_per_core,
            "nats_node_cores": nats_node_cores,
            "dask_store_days_per_core_s": dask_store_days_per_core_s,
            "refresh_every_s": refresh_every_s,
            "stream_replicas": replicas,
            "stream_retention_days": stream_days,
            "nats_overhead_bytes": NATS_OVERHEAD_B,
            "jetstream_overhead_bytes": JETSTREAM_OVERHEAD_B,
        },
    }


def _run(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="shelfsense-hq-capacity-"))
    sample = measure(args.sample, 24, workdir, args.seed)
    result = {
        "measured": sample,
        "model": model(
            sample,
            args.stores,
            burst_window_s=args.burst_window_s,
            nats_msgs_per_core=args.nats_msgs_per_core,
            nats_node_cores=args.nats_node_cores,
            dask_store_days_per_core_s=args.dask_store_days_per_core_s,
            refresh_every_s=args.refresh_every_s,
        ),
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stores", type=int, default=1_000_000, help="stores to size for")
    parser.add_argument("--sample", type=int, default=200, help="simulated stores measured")
    parser.add_argument("--seed", type=int, default=1, help="the fleet's seed")
    parser.add_argument(
        "--burst-window-s",
        type=float,
        default=300.0,
        help="seconds over which the stores' hourly sends spread (default 300)",
    )
    parser.add_argument(
        "--nats-msgs-per-core",
        type=float,
        default=973.0,
        help="replicated, acknowledged messages per second per NATS core (default: the "
        "load test's 1947 msgs/s on 2 cores that also ran ingest and the publishers)",
    )
    parser.add_argument("--nats-node-cores", type=int, default=8, help="cores per NATS node")
    parser.add_argument(
        "--dask-store-days-per-core-s",
        type=float,
        default=38.8,
        help="store-days one Dask core analyses per second (default: bench-analytics, "
        "1000 stores x 24 h in 12.9 s on 2 workers)",
    )
    parser.add_argument(
        "--refresh-every-s", type=float, default=3600.0, help="how often the job runs"
    )
    parser.add_argument("--workdir", type=Path, help="where the sample goes (default: temp)")
    parser.add_argument("--json", action="store_true", help="print one JSON line")


def command() -> Command:
    return Command(
        name="capacity",
        help="size the head office for N stores from what the simulated fleet sends (JSON)",
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        add_arguments=_arguments,
        handler=_run,
    )
