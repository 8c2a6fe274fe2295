"""Start a real 3-node NATS JetStream cluster on loopback: for the head-office load test
(`shelf-hq loadtest`) and the tests.

Each node is a `nats-server` process with its own config file, `server_name`, JetStream
store folder and cluster routes to the other two, as a production cluster is laid out. The
nodes share one set of users: one per store, allowed to publish only under its own
`shelfsense.<store>.>` subjects and to read only its own reply inbox (what a JetStream
publish acknowledgement needs), and an `ingest` user for the head office's consumers.

A real deployment runs the same layout on three machines, with TLS and credentials from a
secret store (README: Head office).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
INGEST_USER = "ingest"
INGEST_PASSWORD = "ingest-secret"
FLEET_USER = "fleet"
FLEET_PASSWORD = "fleet-secret"
FLEET_INBOX = "_INBOX_fleet"


class ClusterError(RuntimeError):
    """The cluster cannot start: no `nats-server`, or a node that does not come up."""


def find_nats_server() -> str:
    """Path of the `nats-server` binary (Debian puts it in /usr/sbin)."""
    found = shutil.which("nats-server") or next(
        (str(Path(d) / "nats-server") for d in SBIN_DIRS if (Path(d) / "nats-server").exists()),
        None,
    )
    if found is None:
        raise ClusterError("nats-server is not installed (apt-get install nats-server)")
    return found


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Return once 127.0.0.1:port accepts; fail early if `process` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with code {process.returncode} before listening")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def quiet_port() -> int:
    """A free loopback port below the kernel's ephemeral range.

    A port the kernel hands out (bind to 0) can be taken again as the source port of a
    route connection one node dials before the next node has started listening on it.
    """
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(200):
        port = random.randint(max(1024, low - 12_000), low - 1)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port below the ephemeral range")


def store_password(store: str) -> str:
    return f"{store}-secret"


def store_inbox(store: str) -> str:
    """The reply-inbox prefix a store's client uses, so it can read only its own acks."""
    return f"_INBOX_{store}"


def _users(stores: tuple[str, ...]) -> list[dict[str, object]]:
    users: list[dict[str, object]] = [
        {
            "user": INGEST_USER,
            "password": INGEST_PASSWORD,
            "permissions": {
                "publish": {"allow": ["$JS.API.>", "$JS.ACK.>"]},
                "subscribe": {"allow": ["_INBOX.>"]},
            },
        },
        {
            # The load test's relay: it publishes for a thousand simulated stores over a few
            # connections (a thousand clients would measure Python, not the cluster).
            "user": FLEET_USER,
            "password": FLEET_PASSWORD,
            "permissions": {
                "publish": {"allow": ["shelfsense.>"]},
                "subscribe": {"allow": [f"{FLEET_INBOX}.>"]},
            },
        },
    ]
    for store in stores:
        users.append(
            {
                "user": f"store-{store}",
                "password": store_password(store),
                "permissions": {
                    "publish": {"allow": [f"shelfsense.{store}.>"]},
                    "subscribe": {"allow": [f"{store_inbox(store)}.>"]},
                },
            }
        )
    return users


@dataclass
class NatsNode:
    name: str
    port: int
    cluster_port: int
    monitor_port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class NatsCluster:
    """Three `nats-server` processes forming one JetStream cluster on free loopback ports.

    `kill(i)` SIGKILLs node i (no clean shutdown, as a crashed machine) and `restart(i)`
    starts it again on the same ports and store folder, so it catches up with the others.
    """

    def __init__(
        self,
        workdir: Path,
        stores: tuple[str, ...] = ("s1", "s2"),
        size: int = 3,
        binary: str | None = None,
    ):
        self.binary = binary or find_nats_server()
        self.workdir = workdir
        self.stores = stores
        self.nodes = [
            NatsNode(f"n{i + 1}", quiet_port(), quiet_port(), quiet_port(), workdir / f"n{i + 1}")
            for i in range(size)
        ]

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    def _config(self, node: NatsNode) -> str:
        routes = [f"nats-route://127.0.0.1:{n.cluster_port}" for n in self.nodes if n is not node]
        # The config format accepts JSON values, so the users are written as JSON.
        return (
            f"server_name: {node.name}\n"
            f"listen: 127.0.0.1:{node.port}\n"
            f"http: 127.0.0.1:{node.monitor_port}\n"
            "jetstream {\n"
            f'  store_dir: "{node.workdir / "js"}"\n'
            "  max_memory_store: 64MB\n"
            "  max_file_store: 1GB\n"
            "}\n"
            "cluster {\n"
            "  name: shelfsense-test\n"
            f"  listen: 127.0.0.1:{node.cluster_port}\n"
            f"  routes: {json.dumps(routes)}\n"
            "}\n"
            f"authorization {{\n  users: {json.dumps(_users(self.stores), indent=2)}\n}}\n"
        )

    def start_node(self, index: int) -> None:
        node = self.nodes[index]
        node.workdir.mkdir(parents=True, exist_ok=True)
        conf = node.workdir / "nats.conf"
        conf.write_text(self._config(node))
        log = open(node.workdir / "nats.log", "ab")  # noqa: SIM115 - lives as long as the process
        node.process = subprocess.Popen(
            [self.binary, "-c", str(conf)], stdout=log, stderr=log, start_new_session=True
        )
        try:
            wait_for_port(node.port, process=node.process)
        except (RuntimeError, TimeoutError) as error:
            tail = (node.workdir / "nats.log").read_text(errors="replace")[-2000:]
            raise ClusterError(f"nats-server {node.name} did not start: {error}\n{tail}") from None

    def start(self) -> None:
        """Start every node (again, after a whole-cluster kill); none is left running when
        one fails to start."""
        try:
            for index in range(len(self.nodes)):
                if not self.nodes[index].running:
                    self.start_node(index)
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def _jsz(self, node: NatsNode) -> dict[str, Any]:
        url = f"http://127.0.0.1:{node.monitor_port}/jsz"
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.loads(response.read())

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until the running nodes agree on a JetStream meta leader and the leader sees
        every other running node as current (a restarted node has caught up)."""
        deadline = time.monotonic() + timeout
        running = {n.name: n for n in self.nodes if n.running}
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                metas = {
                    name: self._jsz(node).get("meta_cluster") or {}
                    for name, node in running.items()
                }
                leaders = {meta.get("leader") for meta in metas.values()}
                leader = next(iter(leaders)) if len(leaders) == 1 else None
                if leader in running:
                    current = {
                        r["name"] for r in metas[leader].get("replicas", []) if r.get("current")
                    }
                    if set(running) - {leader} <= current:
                        return
            time.sleep(0.2)
        raise TimeoutError(f"the JetStream cluster has no leader after {timeout}s")

    def kill(self, index: int) -> None:
        """SIGKILL node `index`: no goodbye to its peers or clients."""
        node = self.nodes[index]
        if node.process is not None and node.process.poll() is None:
            os.kill(node.process.pid, signal.SIGKILL)
            node.process.wait()
        node.process = None

    def restart(self, index: int) -> None:
        """Start a killed node again on its ports and store folder; it rejoins and catches up."""
        self.kill(index)
        self.start_node(index)
        self.wait_ready()

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.terminate()
                try:
                    node.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait()
            node.process = None


@contextmanager
def running_nats_cluster(
    workdir: Path, stores: tuple[str, ...] = ("s1", "s2"), binary: str | None = None
) -> Iterator[NatsCluster]:
    cluster = NatsCluster(workdir, stores, binary=binary)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
