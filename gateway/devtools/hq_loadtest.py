"""`shelf-hq loadtest`: a simulated fleet through a real 3-node JetStream cluster into the
head office's store, with a broker node and an ingest process killed on the way.

What it does, in order: starts a 3-node `nats-server` cluster on loopback (or uses
`--nats`), creates the replicated stream, starts `--ingest` ingest processes (real
`shelf-hq ingest` processes sharing one durable consumer), then publishes the fleet's
simulated hours (`gateway.devtools.hq_fleet`) as fast as the cluster acknowledges them,
or at `--rate` messages per second (the stores' pace), from a few publisher connections,
once every ingest process waits on the consumer. A third of the way in it SIGKILLs one
NATS node (by default the one leading the ingest consumer, the worst case for lag;
restarted at half way) and SIGKILLs one ingest process (restarted an hour's batch later).
At the end it waits for the store to hold every message it sent and reports:

- `sent`: distinct messages the cluster acknowledged; `stored`: distinct ids in the
  head office's index; `lost` = sent - stored;
- `duplicates`: messages whose rows sit in more than one Parquet batch file (stored twice);
- `msgs_per_s`: sent / publishing time; `lag_p50_ms`, `lag_p99_ms`: from the cluster's
  publish acknowledgement to the message being queryable (its id committed in the index);
- `kills_at_s`, `killed_node_led` and `lag_over_5s`: when each kill happened (seconds into
  publishing), what the killed node led, and how many messages missed the 5 s target and
  when they were acked (`--timeline FILE`: the lag second by second).

A benchmark, not a test: it prints figures, it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from gateway.cli.command import Command
from gateway.devtools.hq_fleet import fleet_hours, make_fleet
from gateway.devtools.nats_cluster import (
    FLEET_INBOX,
    FLEET_PASSWORD,
    FLEET_USER,
    INGEST_PASSWORD,
    INGEST_USER,
    NatsCluster,
)
from gateway.hq.store import INDEX_FILE
from gateway.uplink.contract import Envelope
from gateway.uplink.jetstream import JetStreamAdmin, JetStreamPublisher

START = datetime(2026, 11, 2, tzinfo=UTC)
PASSWORD_ENV = "SHELFSENSE_HQ_NATS_PASSWORD"


class Acks:
    """When the cluster acknowledged each message (UTC), from every publisher thread."""

    def __init__(self) -> None:
        self.at: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def record(self, envelopes: list[Envelope]) -> None:
        now = datetime.now(UTC)
        with self._lock:
            for env in envelopes:
                self.at.setdefault(env.id, now)


SLOW_MS = 5_000.0
"""The lag target: messages over it are counted, with when they were published."""


class Timeline:
    """When the kills happened, and the lag second by second around them: where a high
    p99 comes from (which kill, how long after it, how long it lasts)."""

    def __init__(self, wall_start: datetime, mono_start: float) -> None:
        self.wall_start = wall_start
        self.mono_start = mono_start
        self.marks: dict[str, float] = {}
        self.roles: list[str] = []
        """What the killed node led when it died: `stream`, `consumer` or nothing."""

    def mark(self, what: str) -> None:
        self.marks[what] = round(time.monotonic() - self.mono_start, 2)

    def _lags(
        self, acked: dict[str, datetime], stored: dict[str, datetime]
    ) -> list[tuple[float, float]]:
        """(seconds since the start when acked, lag ms) for every stored message."""
        return [
            ((at - self.wall_start).total_seconds(), (stored[mid] - at).total_seconds() * 1e3)
            for mid, at in acked.items()
            if mid in stored
        ]

    def summary(
        self, acked: dict[str, datetime], stored: dict[str, datetime], slow_ms: float
    ) -> dict[str, Any]:
        slow = sorted(t for t, lag in self._lags(acked, stored) if lag > slow_ms)
        return {
            "kills_at_s": self.marks,
            "killed_node_led": self.roles,
            f"lag_over_{slow_ms / 1e3:.0f}s": len(slow),
            f"lag_over_{slow_ms / 1e3:.0f}s_acked_at_s": (
                [round(slow[0], 1), round(slow[-1], 1)] if slow else None
            ),
        }

    def seconds(
        self, acked: dict[str, datetime], stored: dict[str, datetime]
    ) -> list[dict[str, Any]]:
        by_second: dict[int, list[float]] = defaultdict(list)
        for t, lag in self._lags(acked, stored):
            by_second[int(t)].append(lag)
        rows = []
        for second in sorted(by_second):
            lags = by_second[second]
            rows.append(
                {
                    "s": second,
                    "acked": len(lags),
                    "p50_ms": round(_percentile(lags, 0.5)),
                    "p99_ms": round(_percentile(lags, 0.99)),
                    "max_ms": round(max(lags)),
                    "events": [k for k, v in self.marks.items() if int(v) == second],
                }
            )
        return rows


def _leaders(admin: JetStreamAdmin, node: str) -> list[str]:
    """Which of the stream and the ingest consumer `node` leads (each has one leader)."""
    roles = []
    with contextlib.suppress(Exception):
        if admin.stream_info().cluster.leader == node:
            roles.append("stream")
    with contextlib.suppress(Exception):
        if admin.consumer_info("ingest").cluster.leader == node:
            roles.append("consumer")
    return roles


def _wait_ingest_ready(
    admin: JetStreamAdmin, count: int, processes: list[subprocess.Popen[bytes]]
) -> None:
    """Wait until every ingest process is waiting on the consumer: the lag measured is
    then the pipeline's, not the processes' start-up (imports, connecting)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("an ingest process exited at start; see its log in --workdir")
        with contextlib.suppress(Exception):
            if admin.consumer_info("ingest").num_waiting >= count:
                return
        time.sleep(0.2)
    raise TimeoutError(f"the {count} ingest processes were not waiting on the consumer in 120s")


def _victim(admin: JetStreamAdmin, cluster: NatsCluster, kill_node: str) -> int:
    """The index of the node to kill: a leader's (found now), or the one given."""
    if kill_node.isdigit():
        return int(kill_node)
    if kill_node not in ("consumer-leader", "stream-leader"):
        raise ValueError(f"--kill-node {kill_node!r}: want consumer-leader, stream-leader or 0-2")
    info = admin.consumer_info("ingest") if kill_node == "consumer-leader" else admin.stream_info()
    names = [node.name for node in cluster.nodes]
    return names.index(info.cluster.leader)


def _ingest_process(urls: list[str], data_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, PASSWORD_ENV: INGEST_PASSWORD}
    command = [
        sys.executable,
        "-m",
        "gateway.cli.hq",
        "ingest",
        "--data-dir",
        str(data_dir),
        "--nats",
        ",".join(urls),
        "--user",
        INGEST_USER,
        "--password-env",
        PASSWORD_ENV,
    ]
    out = log.open("ab")
    return subprocess.Popen(command, env=env, stdout=out, stderr=out, start_new_session=True)


def _publish_all(
    publishers: list[JetStreamPublisher], batches: list[list[Envelope]], acks: Acks, chunk: int
) -> None:
    """Each publisher takes every n-th chunk of a batch; all of them in parallel."""
    chunks = [batch[i : i + chunk] for batch in batches for i in range(0, len(batch), chunk)]

    def work(index: int) -> None:
        for part in chunks[index :: len(publishers)]:
            publishers[index].publish(part)
            acks.record(part)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(publishers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _publish_paced(
    publishers: list[JetStreamPublisher],
    batch: list[Envelope],
    acks: Acks,
    rate: float,
    started: float,
) -> None:
    """Publish a tenth of a second's worth at a time, never ahead of `rate` msgs/s since
    `started`: stores send at their own pace, not as fast as the cluster acks."""
    step = max(1, int(rate / 10))
    for start in range(0, len(batch), step):
        due = started + (len(acks.at) + step) / rate
        time.sleep(max(0.0, due - time.monotonic()))
        _publish_all(publishers, [batch[start : start + step]], acks, chunk=max(1, step // 4))


def _stored_at(data_dir: Path) -> dict[str, datetime]:
    import sqlite3

    with sqlite3.connect(data_dir / INDEX_FILE, timeout=60) as db:
        rows = db.execute("SELECT msg_id, stored_at FROM stored").fetchall()
    return {mid: datetime.fromisoformat(at.replace("Z", "+00:00")) for mid, at in rows}


def _duplicates(data_dir: Path) -> int:
    """Messages whose rows are in more than one batch file."""
    files_of: dict[str, set[str]] = defaultdict(set)
    for path in data_dir.glob("*/day=*/shard=*/*.parquet"):
        for msg_id in set(pq.read_table(path, columns=["msg_id"]).column(0).to_pylist()):
            files_of[msg_id].add(path.name)
    return sum(1 for files in files_of.values() if len(files) > 1)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_loadtest(
    stores: int,
    hours: int,
    *,
    ingest: int = 2,
    publishers: int = 4,
    seed: int = 1,
    workdir: Path,
    wait_s: float = 300.0,
    rate: float = 0.0,
    timeline: Path | None = None,
    kill_node: str = "consumer-leader",
) -> dict[str, Any]:
    fleet = make_fleet(stores, seed)
    batches = list(fleet_hours(fleet, START, hours, seed))
    total = len({env.id for batch in batches for env in batch})
    cluster = NatsCluster(workdir / "nats", stores=())
    data_dir = workdir / "hq"
    processes: list[subprocess.Popen[bytes]] = []
    clients: list[Any] = []
    try:
        cluster.start()
        admin = JetStreamAdmin(cluster.urls, INGEST_USER, INGEST_PASSWORD)
        clients.append(admin)
        admin.ensure_stream(replicas=3)
        processes = [
            _ingest_process(cluster.urls, data_dir, workdir / f"ingest{i}.log")
            for i in range(ingest)
        ]
        _wait_ingest_ready(admin, ingest, processes)
        victim = 0
        pubs = [
            JetStreamPublisher(
                cluster.urls,
                FLEET_USER,
                FLEET_PASSWORD,
                inbox_prefix=FLEET_INBOX,
                publish_timeout_s=60,
            )
            for _ in range(publishers)
        ]
        clients.extend(pubs)
        acks = Acks()
        killed = {"broker_node_killed": False, "consumer_killed": False}
        third, half = len(batches) // 3, len(batches) // 2
        started = time.monotonic()
        clock = Timeline(datetime.now(UTC), started)
        for index, batch in enumerate(batches):
            if index == third:
                victim = _victim(admin, cluster, kill_node)
                clock.roles = _leaders(admin, cluster.nodes[victim].name)
                cluster.kill(victim)
                clock.mark("node_killed")
                os.kill(processes[0].pid, signal.SIGKILL)
                processes[0].wait()
                clock.mark("ingest_killed")
                killed = {"broker_node_killed": True, "consumer_killed": True}
            if index == third + 1:
                processes[0] = _ingest_process(cluster.urls, data_dir, workdir / "ingest0.log")
                clock.mark("ingest_restarted")
            if index == half:
                cluster.restart(victim)
                clock.mark("node_restarted")
            if rate:
                _publish_paced(pubs, batch, acks, rate, started)
            else:
                _publish_all(pubs, [batch], acks, chunk=500)
        publish_s = time.monotonic() - started
        stored_at = _wait_stored(data_dir, total, wait_s)
        lags = [
            (stored_at[mid] - at).total_seconds() * 1e3
            for mid, at in acks.at.items()
            if mid in stored_at
        ]
        if timeline is not None:
            timeline.write_text(
                "\n".join(json.dumps(row) for row in clock.seconds(acks.at, stored_at)) + "\n"
            )
        return {
            "stores": stores,
            "hours": hours,
            "sent": len(acks.at),
            "expected": total,
            "stored": len(stored_at),
            "lost": len(set(acks.at) - set(stored_at)),
            "duplicates": _duplicates(data_dir),
            "msgs_per_s": round(len(acks.at) / publish_s, 1),
            "publish_s": round(publish_s, 1),
            "lag_p50_ms": round(_percentile(lags, 0.5), 1),
            "lag_p99_ms": round(_percentile(lags, 0.99), 1),
            "ingest_processes": ingest,
            "paced_msgs_per_s": rate or None,
            **killed,
            **clock.summary(acks.at, stored_at, slow_ms=SLOW_MS),
        }
    finally:
        for client in clients:
            client.close()
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
        cluster.stop()


def _wait_stored(data_dir: Path, total: int, wait_s: float) -> dict[str, datetime]:
    deadline = time.monotonic() + wait_s
    while True:
        stored = _stored_at(data_dir) if (data_dir / INDEX_FILE).exists() else {}
        if len(stored) >= total or time.monotonic() > deadline:
            return stored
        time.sleep(1.0)


def _run(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="shelfsense-hq-loadtest-"))
    result = run_loadtest(
        args.stores,
        args.hours,
        ingest=args.ingest,
        publishers=args.publishers,
        seed=args.seed,
        workdir=workdir,
        rate=args.rate,
        timeline=args.timeline,
        kill_node=args.kill_node,
    )
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0 if result["lost"] == 0 and result["duplicates"] == 0 else 1


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stores", type=int, default=1000, help="simulated stores (default 1000)")
    parser.add_argument("--hours", type=int, default=24, help="simulated hours (default 24)")
    parser.add_argument("--ingest", type=int, default=2, help="ingest processes (default 2)")
    parser.add_argument(
        "--publishers", type=int, default=4, help="publisher connections (default 4)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        metavar="MSGS_PER_S",
        help="publish at this pace (default 0: as fast as the cluster acks)",
    )
    parser.add_argument("--seed", type=int, default=1, help="the fleet's seed")
    parser.add_argument(
        "--workdir", type=Path, help="keep the cluster and data here (default: a temp dir)"
    )
    parser.add_argument(
        "--kill-node",
        default="consumer-leader",
        help="the NATS node to kill: consumer-leader (the node the ingest consumer's "
        "deliveries come from: the worst case for lag, the default), stream-leader, or an "
        "index 0-2",
    )
    parser.add_argument(
        "--timeline",
        type=Path,
        metavar="FILE",
        help="write one JSON line per second of publishing: messages acked, their lag "
        "p50/p99/max, and the kills that happened in that second",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")


def command() -> Command:
    return Command(
        name="loadtest",
        help="a simulated fleet through a real 3-node JetStream cluster, with kills; JSON figures",
        description=__doc__.split("\n\n")[0],
        add_arguments=_arguments,
        handler=_run,
    )
