"""Ctrl-C of a gateway with a browser's live stream open: a real `shelf-gateway run`
process (and `shelf-gateway demo`), a connected `/api/stream`, SIGINT. The process
exits 0 without a traceback: the streams end before uvicorn's graceful-shutdown timeout
would cancel them (its "CancelledError" traceback is what a user saw before)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.faults import GatewayProcess
from tests.support.services import Mosquitto, free_port, wait_for_port

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
SHUTDOWN_S = 20


class OpenStream:
    """A browser tab's EventSource: a socket holding `GET /api/stream` open."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        lines = ["GET /api/stream HTTP/1.1", f"Host: 127.0.0.1:{port}"]
        lines += ["Accept: text/event-stream", *(f"{k}: {v}" for k, v in headers.items())]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.head = self.sock.recv(4096).decode(errors="replace")

    def read_to_end(self, timeout: float) -> bytes:
        """What the server still sends until it closes the connection."""
        self.sock.settimeout(timeout)
        chunks = []
        while chunk := self.sock.recv(4096):
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def gateway(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path / "gw", mosquitto.url)
    process.start()
    try:
        process.wait_ready()
        yield process
    finally:
        process.cleanup()


def assert_clean(output: str) -> None:
    for sign in ("Traceback", "CancelledError", "timeout graceful shutdown exceeded"):
        assert sign not in output, f"{sign!r} in the output:\n{output[-4000:]}"


def test_ctrl_c_with_an_open_stream_ends_the_stream_and_exits_cleanly(
    gateway: GatewayProcess,
) -> None:
    streams = [OpenStream(gateway.port, gateway.headers) for _ in range(2)]
    assert all(" 200 " in s.head.splitlines()[0] for s in streams), streams[0].head
    assert gateway.process is not None
    started = time.monotonic()
    gateway.process.send_signal(signal.SIGINT)
    for stream in streams:
        stream.read_to_end(SHUTDOWN_S)  # the server ends each stream (no hang)
        stream.close()
    code = gateway.process.wait(SHUTDOWN_S)
    took = time.monotonic() - started
    output = gateway.output()
    assert code == 0, output[-4000:]
    assert_clean(output)
    assert "gateway stopped" in output
    print(f"stopped in {took:.1f} s with 2 open streams")


def test_ctrl_c_of_the_demo_with_an_open_stream_exits_cleanly(tmp_path: Path) -> None:
    port = free_port()
    users_file = tmp_path / "users.json"
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                *(str(BIN / "shelf-gateway"), "demo", "--cameras", "1", "--stores", "1"),
                *("--port", str(port), "--users-file", str(users_file), "--interval", "1"),
                *("--data-dir", str(tmp_path / "data")),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, timeout=120, process=process)
        deadline = time.monotonic() + 30
        while not users_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        admin = next(u for u in json.loads(users_file.read_text()) if u["role"] == "admin")
        stream = OpenStream(port, {"Authorization": f"Bearer {admin['token']}"})
        assert " 200 " in stream.head.splitlines()[0], stream.head
        time.sleep(3)  # the cameras publish: slot updates flow on the stream
        process.send_signal(signal.SIGINT)
        stream.read_to_end(SHUTDOWN_S)
        stream.close()
        code = process.wait(SHUTDOWN_S + 20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log.read_text(errors="replace")
    assert code == 0, output[-4000:]
    assert_clean(output)
