"""`shelf-gateway loadtest`: how many camera events one gateway stores, and how fast.

It starts a real Mosquitto on a free loopback port (unless `--broker` names one) and the
gateway as its own process (`shelf-gateway run`, so its memory is its own), then plays N
cameras, each with its own MQTT connection and client id as a real camera has, each
publishing R events a second at QoS 1 for S seconds. Payloads are made before the clock
starts (real `ShelfEvent` JSON, no rendering, no detector), and one thread drives every
connection through paho's external-loop API, so the load generator stays cheap next to
the gateway on a small machine.

Latency is publish to stored: the publish time of each event against the moment its row
is first seen in the gateway's SQLite file, which is polled every `POLL_S` (so figures
carry up to that much extra). Throughput (`msgs_per_s`) is the rate rows were stored
between the first and the last stored event. Nothing here is a pass/fail test: it
prints the figures, as JSON with `--json`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import selectors
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gateway.cli.command import Command

if TYPE_CHECKING:  # imported where used: the CLI imports this module for every command
    import paho.mqtt.client as mqtt

POLL_S = 0.01
CAMERAS_PER_STORE = 20
DRAIN_IDLE_S = 15.0
"""After the last publish, give up waiting for more rows once none arrived for this long."""
BROKER_OPTIONS = {
    "max_queued_messages": "1000000",
    "max_queued_bytes": "536870912",
    "max_inflight_messages": "1000",
    "message_size_limit": "262144",
}
"""The queue and in-flight limits of firmware_config/mosquitto/mosquitto.conf (a test
keeps the two equal), so the benchmark broker behaves as a store's broker does."""
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")


class LoadtestError(RuntimeError):
    """The benchmark cannot run (no broker binary, a process that did not start)."""


@dataclass
class Camera:
    """One simulated camera: its connection and its pre-made event payloads."""

    index: int
    store: str
    camera: str
    topic: str
    client: mqtt.Client | None = None
    payloads: list[tuple[str, bytes]] = field(default_factory=list)
    connected: bool = False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LoadtestError(f"mosquitto exited with code {process.returncode} at start")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise LoadtestError(f"mosquitto does not listen on 127.0.0.1:{port} after {timeout}s")


def find_mosquitto() -> str:
    found = shutil.which("mosquitto") or next(
        (str(Path(d) / "mosquitto") for d in SBIN_DIRS if (Path(d) / "mosquitto").exists()),
        None,
    )
    if found is None:
        raise LoadtestError(
            "mosquitto is not installed (apt install mosquitto); "
            "or pass --broker mqtt://HOST:PORT to use a running broker"
        )
    return found


@contextmanager
def mosquitto(workdir: Path) -> Iterator[str]:
    """A Mosquitto on a free loopback port with the store broker's limits; yields its URL."""
    binary = find_mosquitto()
    port = _free_port()
    conf = workdir / "mosquitto.conf"
    options = "".join(f"{k} {v}\n" for k, v in BROKER_OPTIONS.items())
    # Run as the current user: as root, Mosquitto would switch to `mosquitto`.
    conf.write_text(
        f"user {getpass.getuser()}\nlistener {port} 127.0.0.1\nallow_anonymous true\n"
        f"persistence false\n{options}"
    )
    log = workdir / "mosquitto.log"
    with open(log, "ab") as out:
        process = subprocess.Popen([binary, "-c", str(conf)], stdout=out, stderr=out)
    try:
        _wait_port(port, process)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class GatewayProcess:
    """`shelf-gateway run` in its own process."""

    process: subprocess.Popen[bytes]
    port: int
    db: Path
    log: Path

    def health(self) -> dict[str, Any] | None:
        import httpx

        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/api/health", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return None

    def peak_rss_mb(self) -> float | None:
        """The process's peak resident memory (VmHWM, Linux), else its current RSS."""
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            pass
        try:
            import psutil

            return round(psutil.Process(self.process.pid).memory_info().rss / 2**20, 1)
        except Exception:
            return None


@contextmanager
def gateway_process(workdir: Path, broker_url: str) -> Iterator[GatewayProcess]:
    port = _free_port()
    data = workdir / "gateway-data"
    config = workdir / "gateway.yaml"
    config.write_text(
        json.dumps(
            {
                "mqtt": {"url": broker_url, "client_id": f"shelfsense-loadtest-{port}"},
                "data_dir": str(data),
                "http": {"host": "127.0.0.1", "port": port},
            }
        )
    )
    log = workdir / "gateway.log"
    command = [sys.executable, "-m", "gateway.cli", "--log-level", "WARNING", "run"]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [*command, "--config", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    gateway = GatewayProcess(process, port, data / "shelfsense.db", log)
    try:
        deadline = time.monotonic() + 60
        while not ((h := gateway.health()) and h["broker_connected"]):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise LoadtestError(f"the gateway did not start:\n{tail}")
            time.sleep(0.1)
        yield gateway
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def make_cameras(count: int, per_camera: int, prefix: str = "lt") -> list[Camera]:
    """Cameras in stores of CAMERAS_PER_STORE, each with `per_camera` ready payloads."""
    from edge.contract.messages import EventType, ShelfEvent, SlotStatus
    from edge.contract.topics import CameraTopics

    cameras = []
    for index in range(count):
        store, camera = f"{prefix}-store-{index // CAMERAS_PER_STORE + 1}", f"cam-{index + 1}"
        template = ShelfEvent(
            id="0" * 32,
            store=store,
            camera=camera,
            type=EventType.GAP_OPENED,
            row=1,
            slot=3,
            sku="4006381333931",
            previous=SlotStatus.STOCKED,
            status=SlotStatus.EMPTY,
            confidence=0.91,
        ).to_json()
        cam = Camera(index, store, camera, CameraTopics(store, camera).events)
        for seq in range(per_camera):
            event_id = f"{index:08x}{seq:024x}"
            cam.payloads.append((event_id, template.replace(b"0" * 32, event_id.encode(), 1)))
        cameras.append(cam)
    return cameras


class Publishers:
    """Every camera's paho client, driven by one thread with a selector."""

    def __init__(self, cameras: list[Camera], broker_url: str) -> None:
        self.cameras = cameras
        parts = urlsplit(broker_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 1883
        self.selector = selectors.DefaultSelector()
        self.acked = 0
        self._writing: set[int] = set()
        """Cameras whose socket could not take all paho had to write."""

    def connect(self, timeout: float = 30.0) -> None:
        import paho.mqtt.client as mqtt

        for cam in self.cameras:
            client = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2,
                client_id=f"loadtest-{cam.store}-{cam.camera}",
                protocol=mqtt.MQTTv311,
            )
            client.max_inflight_messages_set(1000)
            client.on_connect = lambda c, u, f, rc, p, cam=cam: setattr(
                cam, "connected", not rc.is_failure
            )
            client.on_publish = self._on_publish
            client.connect(self.host, self.port, keepalive=60)
            cam.client = client
            self.selector.register(client.socket(), selectors.EVENT_READ, cam)
        deadline = time.monotonic() + timeout
        while not all(c.connected for c in self.cameras):
            if time.monotonic() > deadline:
                missing = sum(not c.connected for c in self.cameras)
                raise LoadtestError(f"{missing} camera connection(s) not accepted by the broker")
            self.pump(0.05)

    def _on_publish(self, client: mqtt.Client, userdata, mid, reason_code, properties) -> None:
        self.acked += 1

    def publish(self, cam: Camera, payload: bytes) -> None:
        """Hand one event to the camera's client; paho writes it to the socket at once."""
        assert cam.client is not None
        cam.client.publish(cam.topic, payload, qos=1)
        if cam.client.want_write():
            self._writing.add(cam.index)

    def pump(self, timeout: float) -> None:
        """Read whatever the broker sent (PUBACKs) and write what paho could not yet."""
        for key, _ in self.selector.select(timeout):
            key.data.client.loop_read()
            if key.data.client.want_write():
                self._writing.add(key.data.index)
        for index in list(self._writing):
            client = self.cameras[index].client
            assert client is not None
            client.loop_write()
            if not client.want_write():
                self._writing.discard(index)

    def keepalive(self) -> None:
        for cam in self.cameras:
            if cam.client is not None:
                cam.client.loop_misc()

    def close(self) -> None:
        for cam in self.cameras:
            if cam.client is not None:
                cam.client.disconnect()
                cam.client.loop_write()
                with_socket = cam.client.socket()
                if with_socket is not None:
                    self.selector.unregister(with_socket)
        self.selector.close()


class StorePoller:
    """Watches the gateway's SQLite file: when each event row first appears."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.seen: dict[str, float] = {}
        self._last_rowid = 0
        self._conn: sqlite3.Connection | None = None

    def poll(self) -> int:
        if self._conn is None:
            self._conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        rows = self._conn.execute(
            "SELECT rowid, id FROM events WHERE rowid > ? ORDER BY rowid", (self._last_rowid,)
        ).fetchall()
        now = time.monotonic()
        for rowid, event_id in rows:
            self.seen.setdefault(event_id, now)
            self._last_rowid = rowid
        return len(rows)

    def duplicates(self) -> int:
        """Rows beyond one per event id (the primary key should make this 0)."""
        assert self._conn is not None
        total, distinct = self._conn.execute(
            "SELECT count(*), count(DISTINCT id) FROM events"
        ).fetchone()
        return total - distinct

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def _probe(publishers: Publishers, poller: StorePoller, timeout: float = 30.0) -> None:
    """One event end to end before the clock starts: the gateway's subscription is in place."""
    cam = publishers.cameras[0]
    publishers.publish(cam, cam.payloads[0][1].replace(b'"id":"', b'"id":"probe', 1))
    deadline = time.monotonic() + timeout
    while not poller.poll():
        if time.monotonic() > deadline:
            raise LoadtestError("a probe event did not reach the gateway's database")
        publishers.pump(0.05)
    poller.seen.clear()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(
    *,
    cameras: int,
    rate: float,
    seconds: float,
    broker: str | None = None,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Run the benchmark; returns the figures `--json` prints."""
    per_camera = max(1, round(rate * seconds))
    with ExitStack() as stack:
        folder = workdir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="shelfsense-loadtest-"))
        )
        folder.mkdir(parents=True, exist_ok=True)
        broker_url = broker or stack.enter_context(mosquitto(folder))
        gateway = stack.enter_context(gateway_process(folder, broker_url))
        fleet = make_cameras(cameras, per_camera, prefix=f"lt{os.getpid()}")
        publishers = Publishers(fleet, broker_url)
        stack.callback(publishers.close)
        publishers.connect()
        poller = StorePoller(gateway.db)
        stack.callback(poller.close)
        _probe(publishers, poller)

        # Camera c sends its k-th event at start + (k + c / cameras) / rate: evenly spread.
        total = cameras * per_camera
        published: dict[str, float] = {}
        start = time.monotonic() + 0.2
        next_poll = next_keepalive = start
        sent = 0
        while sent < total:
            now = time.monotonic()
            while sent < total:
                k, c = divmod(sent, cameras)
                if start + (k + c / cameras) / rate > now:
                    break
                event_id, payload = fleet[c].payloads[k]
                publishers.publish(fleet[c], payload)
                published[event_id] = time.monotonic()
                sent += 1
            if now >= next_poll:
                poller.poll()
                next_poll = now + POLL_S
            if now >= next_keepalive:
                publishers.keepalive()
                next_keepalive = now + 1.0
            k, c = divmod(sent, cameras)
            due = start + (k + c / cameras) / rate
            publishers.pump(max(0.0, min(due, next_poll) - time.monotonic()))
        publish_end = time.monotonic()

        # Drain: until every event is stored, or nothing new arrived for DRAIN_IDLE_S.
        last_progress = time.monotonic()
        while len(poller.seen) < total and time.monotonic() - last_progress < DRAIN_IDLE_S:
            publishers.pump(POLL_S)
            if poller.poll():
                last_progress = time.monotonic()
        health = gateway.health() or {}
        rss = gateway.peak_rss_mb()

        ours = {i: t for i, t in poller.seen.items() if i in published}
        latencies = [(t - published[i]) * 1e3 for i, t in ours.items()]
        stored_times = sorted(ours.values())
        span = stored_times[-1] - stored_times[0] if len(stored_times) > 1 else 0.0
        counters = health.get("counters", {})
        return {
            "cameras": cameras,
            "rate": rate,
            "seconds": seconds,
            "offered_per_s": round(cameras * rate, 1),
            "sent": sent,
            "acked_by_broker": publishers.acked,
            "stored": len(ours),
            "lost": sent - len(ours),
            "duplicates": poller.duplicates(),
            "redelivered": counters.get("duplicates", 0),
            "dead_letters": counters.get("dead_letters", 0),
            "publish_per_s": round(sent / max(publish_end - start, 1e-9), 1),
            "msgs_per_s": round((len(ours) - 1) / span, 1) if span else 0.0,
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p99_ms": round(_percentile(latencies, 0.99), 1) if latencies else None,
            "max_ms": round(max(latencies), 1) if latencies else None,
            "poll_ms": POLL_S * 1e3,
            "gateway_rss_mb": rss,
            "broker": broker or "mosquitto (started here)",
        }


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value

    return parse


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cameras", type=_positive(int), default=200, help="default 200")
    parser.add_argument(
        "--rate", type=_positive(float), default=10.0, help="events per second per camera"
    )
    parser.add_argument("--seconds", type=_positive(float), default=30.0, help="default 30")
    parser.add_argument(
        "--broker",
        metavar="mqtt://HOST:PORT",
        help="use this broker (anonymous) instead of starting Mosquitto",
    )
    parser.add_argument(
        "--workdir", type=Path, help="keep the database and logs here (default: a temp folder)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def _handler(args: argparse.Namespace) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per health poll otherwise
    try:
        result = run(
            cameras=args.cameras,
            rate=args.rate,
            seconds=args.seconds,
            broker=args.broker,
            workdir=args.workdir,
        )
    except LoadtestError as error:
        print(f"shelf-gateway loadtest: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            print(f"{key:<{width}}  {value}")
    return 0


def command() -> Command:
    return Command(
        name="loadtest",
        help="benchmark: N simulated cameras publishing events through Mosquitto to the gateway",
        description=(
            "Start Mosquitto (or use --broker) and the gateway in its own process, then "
            "publish --rate events a second from each of --cameras simulated cameras for "
            "--seconds, and report sent, stored, lost, duplicates, msgs_per_s, p50_ms and "
            "p99_ms (publish to stored) and gateway_rss_mb."
        ),
        add_arguments=_add_arguments,
        handler=_handler,
    )
