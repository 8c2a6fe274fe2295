"""`shelf-node smoke-test`: what an installer runs on a freshly set-up Pi, before the service.

One pass through what the node needs, each step printed on its own line with `ok` or
`FAIL` and the reason: the camera (the source from the config gives a frame: its size,
brightness and, for picamera2, the sensor), the model (the configured detector loads:
file, input size, classes), inference (median milliseconds of `detect()` on that frame)
and the broker (a connection with the node's credentials and TLS is accepted). It uses
its own MQTT client id, so a node already running keeps its session; the camera itself
can be held by one process only, so firmware_config/smoke-test.sh stops the service first.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from edge.contract.broker import new_client
from edge.detector import Detector, ModelError
from edge.settings import NodeSettings
from edge.sources import FrameError, FrameSource, open_source
from edge.sources.picamera2 import Picamera2Source


@dataclass
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str


@dataclass
class SmokeReport:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str, out: TextIO) -> None:
        self.checks.append(Check(name, ok, detail))
        print(f"{name + ':':<11}{'ok  ' if ok else 'FAIL'} {detail}", file=out, flush=True)


def grab_frame(source: FrameSource, timeout_s: float) -> np.ndarray:
    """The first frame within `timeout_s` (a camera may need a moment to start); the last
    error when none came."""
    deadline = time.monotonic() + timeout_s
    last: str = "no frame"
    while True:
        try:
            frame = source.read()
            if frame is not None:
                return frame
            last = "the source has no frames (a recording that has ended?)"
        except FrameError as error:
            last = str(error)
        if time.monotonic() >= deadline:
            raise FrameError(last)
        time.sleep(0.2)


def describe_camera(settings: NodeSettings, source: FrameSource, frame: np.ndarray) -> str:
    kind = settings.source.kind
    sensor = source.sensor if isinstance(source, Picamera2Source) else None
    height, width = frame.shape[:2]
    text = f"{kind}, frame {width}x{height}, mean brightness {float(frame.mean()):.0f}/255"
    return f"{text}, sensor {sensor}" if sensor else text


def time_inference(detector: Detector, frame: np.ndarray, runs: int) -> tuple[list[float], int]:
    """Milliseconds of each of `runs` detect() calls on one frame, and the boxes found."""
    times: list[float] = []
    boxes = 0
    for _ in range(runs):
        start = time.perf_counter()
        boxes = len(detector.detect(frame))
        times.append((time.perf_counter() - start) * 1e3)
    return times, boxes


def check_broker(settings: NodeSettings, timeout_s: float) -> tuple[bool, str]:
    """Connect once with the node's credentials and TLS, under a client id of its own."""
    mqtt = settings.mqtt
    client = new_client(
        mqtt, f"shelfsense-smoke-{settings.store}-{settings.camera}", clean_session=True
    )
    answered = threading.Event()
    outcome: dict[str, str | bool] = {}

    def on_connect(client, userdata, flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        outcome["ok"] = not reason_code.is_failure
        outcome["reason"] = str(reason_code)
        answered.set()

    client.on_connect = on_connect
    start = time.perf_counter()
    try:
        client.connect(mqtt.host, mqtt.port, keepalive=mqtt.keepalive_s)
    except (OSError, ValueError) as error:  # refused, no route, DNS, TLS handshake
        return False, f"{mqtt.url} unreachable: {error}"
    client.loop_start()
    try:
        if not answered.wait(timeout_s):
            return False, f"{mqtt.url}: no answer to CONNECT within {timeout_s:.0f} s"
    finally:
        client.disconnect()
        client.loop_stop()
    if not outcome["ok"]:
        return (
            False,
            f"{mqtt.url} refused the connection: {outcome['reason']} (user, password, ACL?)",
        )
    elapsed = (time.perf_counter() - start) * 1e3
    who = f" as {mqtt.username}" if mqtt.username else ""
    return True, f"{mqtt.url} reachable, connected{who} in {elapsed:.0f} ms"


def run_smoke_test(
    settings: NodeSettings,
    out: TextIO,
    *,
    runs: int = 10,
    camera_timeout_s: float = 10.0,
    broker_timeout_s: float = 5.0,
) -> SmokeReport:
    """Print one line per check to `out`; the report says whether all passed."""
    report = SmokeReport()
    print(f"shelfsense smoke test of {settings.store}/{settings.camera}", file=out)
    frame: np.ndarray | None = None
    source = open_source(settings.source, store=settings.store, camera=settings.camera)
    try:
        frame = grab_frame(source, camera_timeout_s)
        report.add("camera", True, describe_camera(settings, source, frame), out)
    except FrameError as error:
        report.add("camera", False, str(error), out)
    finally:
        source.close()
    detector: Detector | None = None
    try:
        detector = _configured_detector(settings)
        report.add("model", True, describe_model(detector), out)
    except ModelError as error:
        report.add("model", False, str(error), out)
    if detector is not None and frame is not None:
        times, boxes = time_inference(detector, frame, runs)
        report.add(
            "inference",
            True,
            f"median {statistics.median(times):.1f} ms over {runs} runs "
            f"(min {min(times):.1f}, max {max(times):.1f}), {boxes} boxes",
            out,
        )
    else:
        report.add("inference", False, "not run: needs a camera frame and a model", out)
    report.add("broker", *check_broker(settings, broker_timeout_s), out)
    print("result: " + ("PASS" if report.ok else "FAIL"), file=out)
    return report


def _configured_detector(settings: NodeSettings) -> Detector:
    from edge.node import build_detector

    return build_detector(settings.detector)


def describe_model(detector: Detector) -> str:
    path = getattr(detector, "model_path", None)
    size = (getattr(detector, "input_w", None), getattr(detector, "input_h", None))
    names = getattr(detector, "names", None)
    text = str(path) if path else detector.name
    if None not in size:
        text += f", input {size[0]}x{size[1]}"
    if names:
        text += f", classes {', '.join(names)}"
    return text
