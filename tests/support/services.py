"""Start real servers (Mosquitto, VictoriaMetrics) for integration tests.

A test that needs a server binary skips with a reason when it is missing, and fails
instead when SHELFSENSE_REQUIRE_SERVICES=1 (CI sets it), so CI can never go green by
skipping the real-server tests.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import REPO

SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
SHIPPED_MOSQUITTO_CONF = REPO / "firmware_config" / "mosquitto" / "mosquitto.conf"
DELIVERY_OPTIONS = (
    "max_inflight_messages",
    "max_queued_messages",
    "max_queued_bytes",
    "message_size_limit",
)


def shipped_delivery_options() -> str:
    """The queue and in-flight limits of the shipped Mosquitto config: test brokers
    deliver (and drop) exactly as a store's broker does."""
    lines = SHIPPED_MOSQUITTO_CONF.read_text().splitlines()
    return "\n".join(line for line in lines if line.split(" ", 1)[0] in DELIVERY_OPTIONS) + "\n"


def services_required() -> bool:
    return os.environ.get("SHELFSENSE_REQUIRE_SERVICES", "") not in ("", "0", "false")


def find_binary(name: str) -> str:
    """Path of a server binary, or skip/fail the test with the reason."""
    path = shutil.which(name) or next(
        (str(Path(d) / name) for d in SBIN_DIRS if (Path(d) / name).exists()), None
    )
    if path:
        return path
    reason = f"{name} is not installed (apt-get install {name})"
    if services_required():
        pytest.fail(f"SHELFSENSE_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(
    port: int, timeout: float = 10.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Return once 127.0.0.1:port accepts; fail early if `process` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before listening")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class Mosquitto:
    """A real Mosquitto broker on a free loopback port, stoppable and restartable.

    `extra_ports` are listeners that `config_extra` opens: `start()` waits for them too,
    since Mosquitto opens its listeners one after another. `config` replaces the whole
    generated config (it must open `port` and `extra_ports` itself).
    """

    def __init__(
        self,
        workdir: Path,
        config_extra: str = "",
        port: int | None = None,
        extra_ports: tuple[int, ...] = (),
        config: str | None = None,
    ) -> None:
        self.binary = find_binary("mosquitto")
        self.workdir = workdir
        self.port = port or free_port()
        self.config_extra = config_extra
        self.extra_ports = extra_ports
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        default_auth = (
            "allow_anonymous true\n" if "allow_anonymous" not in self.config_extra else ""
        )
        conf.write_text(
            self.config
            if self.config is not None
            # Run as the current user: as root, Mosquitto would switch to the
            # `mosquitto` user, which cannot read the test's private temp folder.
            else f"user {getpass.getuser()}\n"
            f"listener {self.port} 127.0.0.1\n"
            f"{default_auth}"
            f"persistence true\npersistence_location {self.workdir}/\n"
            f"{shipped_delivery_options()}"
            f"{self.config_extra}\n"
        )
        log = open(self.workdir / "mosquitto.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen([self.binary, "-c", str(conf)], stdout=log, stderr=log)
        try:
            for port in (self.port, *self.extra_ports):
                wait_for_port(port, process=self.process)
        except (RuntimeError, TimeoutError) as error:
            tail = (self.workdir / "mosquitto.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"mosquitto did not start: {error}\n{tail}") from None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@contextmanager
def running_mosquitto(workdir: Path, config_extra: str = "") -> Iterator[Mosquitto]:
    broker = Mosquitto(workdir, config_extra)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


class VictoriaMetrics:
    """A real VictoriaMetrics on a free loopback port: it takes InfluxDB's line protocol at
    /api/v2/write, the endpoint influxdb-client writes to. Stoppable and restartable on the
    same port and data folder, to play an InfluxDB that goes away and comes back."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.binary = find_binary("victoria-metrics")
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / "victoria-metrics.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [
                self.binary,
                f"-httpListenAddr=127.0.0.1:{self.port}",
                f"-storageDataPath={self.workdir / 'data'}",
                "-search.latencyOffset=0s",
                "-retentionPeriod=1y",
            ],
            stdout=log,
            stderr=log,
        )
        try:
            wait_for_port(self.port, timeout=30, process=self.process)
        except (RuntimeError, TimeoutError) as error:
            tail = (self.workdir / "victoria-metrics.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"victoria-metrics did not start: {error}\n{tail}") from None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def _get(self, path: str) -> bytes:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as response:
            return response.read()

    def series(self, match: str) -> list[dict[str, Any]]:
        """Every stored series whose selector matches, e.g. '{__name__=~"sales_.*"}', as
        /api/v1/export gives them: {"metric": {...}, "values": [...], "timestamps": [...]}.
        Points become searchable about a second after they are written: poll."""
        self._get("/internal/force_flush")
        query = urllib.parse.urlencode({"match[]": match})
        lines = self._get(f"/api/v1/export?{query}").decode().splitlines()
        return [json.loads(line) for line in lines if line.strip()]


@contextmanager
def running_victoria_metrics(workdir: Path) -> Iterator[VictoriaMetrics]:
    server = VictoriaMetrics(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class TcpProxy:
    """A loopback TCP forwarder that can cut the network like a pulled cable.

    `cut()` turns it into a black hole: bytes in both directions are read and dropped
    and no connection is closed, so each side only notices through its keepalive (as
    with a dead Wi-Fi link, unlike a stopped broker that resets the connection).
    `restore()` closes the half-dead connections and forwards new ones again.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._cut = threading.Event()
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def cut(self) -> None:
        self._cut.set()

    def restore(self) -> None:
        self._close_connections()
        self._cut.clear()

    def close(self) -> None:
        self._closing.set()
        self._server.close()
        self._close_connections()
        self._thread.join(5)

    def _close_connections(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()  # the broker is down: refused, as it would be without us
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
                return
            if self._cut.is_set():
                continue  # the black hole
            try:
                dst.sendall(data)
            except OSError:
                return
