"""Helpers shared by the edge tests (this module holds no tests of its own).

- `constant_model`: a real ONNX file, run by the real ONNX Runtime, whose output is a
  tensor the test chooses, with Ultralytics-style metadata: it pins down decoding and the
  letterbox exactly, which a trained model cannot.
- `shipped_model`: the real detector the node runs by default (it must be in the repo).
- `synthetic_model`: the shipped detector trained on rendered shelves, for rendered frames.
- `MqttRecorder`: a real paho client that records what a node publishes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from edge.detector import default_model_path


def constant_model(
    path: Path,
    output: np.ndarray,
    *,
    imgsz: tuple[int, int] = (128, 192),
    names: dict[int, str] | None = None,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write an ONNX model taking `images` (1, 3, h, w) and returning `output` as-is."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    names = {0: "gap", 1: "messy"} if names is None else names
    h, w = imgsz
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, h, w])
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))
    # output = constant + 0 * mean(images): the input is used, the result is exact.
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["const", "nothing"], ["output0"]),
    ]
    initializers = [
        numpy_helper.from_array(output.astype(np.float32), "const"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
    ]
    graph = helper.make_graph(nodes, "constant", [images], [out], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    meta = {"imgsz": str([h, w]), "names": str(names), "task": "detect"}
    meta.update(metadata or {})
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path


def yolo_output(boxes_cxcywh: list[tuple[float, float, float, float]], scores: list[list[float]]):
    """A YOLOv8 head output (1, 4 + nc, N) from per-anchor boxes and class scores."""
    columns = [list(b) + list(s) for b, s in zip(boxes_cxcywh, scores, strict=True)]
    return np.asarray(columns, np.float32).T[None]


def shipped_model() -> Path:
    """The real shipped detector. Missing is a failure, never a skip: the node needs it."""
    path = default_model_path()
    assert path.is_file(), f"the shipped model {path} is missing (is it committed?)"
    return path


def synthetic_model() -> Path:
    """The shipped detector for rendered shelves (what simulated cameras run)."""
    from models.synth import SYNTHETIC_MODEL

    assert SYNTHETIC_MODEL.is_file(), f"the synthetic model {SYNTHETIC_MODEL} is missing"
    return SYNTHETIC_MODEL


def simulated_shelf(**kwargs: Any) -> Any:
    """A `models.synth.SimulatedShelf` with small, test-friendly defaults."""
    from models.synth import SimulatedShelf

    defaults = {"seed": 3, "rows": 3, "slots_per_row": 5, "store": "s1", "camera": "c1"}
    defaults.update(kwargs)
    return SimulatedShelf(**defaults)


def shelf_with_gaps(**kwargs: Any) -> Any:
    """A simulated shelf advanced until at least one slot is sold out (and in view)."""
    shelf = simulated_shelf(**kwargs)
    for _ in range(200):
        shelf.step(600)
        frame = shelf.render()
        if any(v == "empty" and k not in frame.occluded for k, v in frame.truth.items()):
            return shelf
    raise AssertionError("the simulated shelf never ran empty in 33 simulated hours")


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, step: float = 0.02) -> Any:
    """Poll until `predicate()` is truthy; return its value or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout}s")


@dataclass
class Received:
    topic: str
    payload: bytes
    qos: int
    retain: bool


class MqttRecorder:
    """Subscribe to `topic_filter` on a real broker and keep every message received."""

    def __init__(
        self,
        url: str,
        topic_filter: str = "#",
        client_id: str = "recorder",
        *,
        clean_session: bool = True,
    ) -> None:
        """`clean_session=False`: a persistent session, so what is published while the
        broker restarts reaches the recorder when paho reconnects it."""
        import paho.mqtt.client as mqtt

        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        parts = urlsplit(url)
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
        )
        self.client.reconnect_delay_set(0.1, 0.5)

        def on_connect(client, userdata, flags, reason_code, properties):
            client.subscribe(topic_filter, qos=1)

        def on_subscribe(client, userdata, mid, reason_codes, properties):
            self._subscribed.set()

        def on_message(client, userdata, msg):
            with self._lock:
                self.messages.append(Received(msg.topic, msg.payload, msg.qos, msg.retain))

        self.client.on_connect = on_connect
        self.client.on_subscribe = on_subscribe
        self.client.on_message = on_message
        self.client.connect(parts.hostname, parts.port, keepalive=10)
        self.client.loop_start()
        assert self._subscribed.wait(10), "recorder could not subscribe"

    def on(self, topic: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def retained(url: str, topic: str, timeout: float = 1.0) -> Received | None:
    """The retained message on `topic` as a fresh subscriber sees it, or None."""
    recorder = MqttRecorder(url, topic, client_id=f"retained-{time.monotonic_ns()}")
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in recorder.on(topic) if m.retain]
            if found:
                return found[-1]
            time.sleep(0.02)
        return None
    finally:
        recorder.close()
