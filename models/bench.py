"""Side-by-side speed and memory of the node's detector, bare ONNX Runtime and Ultralytics.

Everything is measured in one run on the same images; the figures that matter are the
ratios. Each round walks the images in blocks of 20; every contender of both variants
times the whole block before the next one starts, and who goes first rotates from block
to block, so the int8 speed-up is side by side as well. This machine's speed jumps by up
to a half for seconds at a time; blocks of a few hundred milliseconds let every
contender see the same mix of fast and slow seconds (with blocks of all the images, one
contender could fall into a slow stretch and measure the pipeline faster than the bare
session inside it). Not image by image: each contender has its own ONNX Runtime thread
pool, whose workers spin for a while after a run, and on a 2-core machine they slowed
whichever contender ran next (bare `session.run` measured 2-3x slower interleaved than
on its own); in a block of 20 that costs at most the first frame, which the median
ignores. The bare session is built with the node's own session options
(`edge.detector.session_options`), so the two differ only in the work around the model.
Per variant (fp32, int8):

- `pipeline_ms`: the node's whole per-frame work: JPEG decode (at the scale the node's
  folder source uses, `edge.image_decode`), letterbox, inference, decoding and NMS,
  shelf analysis onto a layout;
- `session_ms`: bare `InferenceSession.run` on an already prepared tensor;
- `ultralytics_ms`: `YOLO(onnx_file).predict` on the same decoded image (an int8 twin that
  takes bytes runs behind a float input there, `models/pixel_input.py`: three more ops);
- `stages_ms`: the pipeline's stages timed inside it (medians; decode, letterbox,
  inference, postprocess, analysis), which tells where the work around the model goes;
- `node_rss_mb` / `cold_start_s`: a fresh process that loads the model as the node does
  (torch never imported) and detects on one image: its peak RSS and the time from
  process start to the first result; `ultralytics_*` the same for an Ultralytics process.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from edge.analysis import analyse
from edge.detector import OnnxDetector, default_model_path, session_options
from edge.image_decode import decode_image
from edge.layout import Layout, RowSpec, SlotSpec
from edge.settings import AnalysisSettings, DetectorSettings
from models.pixel_input import float_input_copy

REPO = Path(__file__).resolve().parent.parent
SHELF_REAL = REPO.parent / "shared" / "datasets" / "shelf-real"
BLOCK = 20  # images a contender times before the next one takes over (module docstring)

_NODE_PROBE = """
import sys
import cv2
from edge.detector import OnnxDetector
detector = OnnxDetector(sys.argv[1], threads=int(sys.argv[3]))
detector.detect(cv2.imread(sys.argv[2]))
print("first-result", flush=True)
print(open("/proc/self/status").read(), flush=True)
assert "torch" not in sys.modules, "the node must not import torch"
"""

_ULTRALYTICS_PROBE = """
import os, sys
os.environ["YOLO_OFFLINE"] = "1"
from ultralytics import YOLO
model = YOLO(sys.argv[1], task="detect")
model.predict(sys.argv[2], imgsz=int(sys.argv[3]), device="cpu", verbose=False)
print("first-result", flush=True)
print(open("/proc/self/status").read(), flush=True)
"""


def int8_twin(model: Path) -> Path:
    """Where a model's int8 twin lives: `name-int8.onnx` beside `name.onnx`."""
    return model.with_name(f"{model.stem}-int8.onnx")


def grid_layout(rows: int = 4, slots: int = 6) -> Layout:
    """A plain shelf layout for the analysis stage: equal rows, equal slots."""
    return Layout(
        rows=[
            RowSpec(
                index=r,
                y0=r / rows,
                y1=(r + 1) / rows,
                slots=[SlotSpec(index=s, x0=s / slots, x1=(s + 1) / slots) for s in range(slots)],
            )
            for r in range(rows)
        ]
    )


def bench_images(count: int) -> list[Path]:
    """shelf-real's val photos where that folder is present, else rendered shelf frames."""
    val = SHELF_REAL / "images" / "val"
    if val.is_dir():
        return sorted(val.glob("*.jpg"))[:count]
    from models.synth import render_dataset

    folder = Path(REPO / "runs" / "bench-frames")
    data = render_dataset(folder, max(count, 8), seed=123)
    return sorted((data.parent / "images").rglob("*.jpg"))[:count]


def _probe(code: str, *args: str) -> tuple[float, float]:
    """(seconds from process start to its first result, peak RSS in MB) of a fresh process."""
    with tempfile.TemporaryFile("w+") as errors:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            cwd=REPO,
        )
        assert process.stdout is not None
        for line in process.stdout:  # Ultralytics prints its own lines first
            if line.strip() == "first-result":
                break
        cold = time.perf_counter() - start
        rest = process.stdout.read()
        process.wait(timeout=300)
        if process.returncode != 0 or not rest.strip():
            errors.seek(0)
            raise RuntimeError(f"benchmark probe failed ({process.returncode}): {errors.read()}")
    return cold, _peak_rss_mb(rest)


def _peak_rss_mb(proc_status: str) -> float:
    """VmHWM (peak resident set) from /proc/<pid>/status. Not getrusage's ru_maxrss: on
    Linux a child inherits its parent's maximum across fork, which would report the
    benchmark's own size."""
    for line in proc_status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


STAGES = ("decode", "letterbox", "inference", "postprocess", "analysis")
"""The pipeline's stages, timed inside it (`stages_ms`): where the work around the model goes."""


class _Contenders:
    """The three ways to run one model, each prepared once."""

    def __init__(self, model: Path, threads: int, scratch: Path) -> None:
        from ultralytics import YOLO

        self.detector = OnnxDetector(model, threads=threads)
        self.session = ort.InferenceSession(
            str(model), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name
        # An int8 twin takes the camera's bytes; Ultralytics feeds float tensors, so it
        # runs the same integer model behind a float input (models/pixel_input.py).
        self.ultralytics_model = float_input_copy(model, scratch)
        self.ultralytics = YOLO(str(self.ultralytics_model), task="detect")
        self.imgsz = self.detector.input_h
        self.fit = (self.detector.input_w, self.detector.input_h)
        self.layout = grid_layout()
        self.analysis = AnalysisSettings()
        self.stages: dict[str, list[float]] = {}
        self.reset_stages()

    def reset_stages(self) -> None:
        """Forget the stage times so far (the warm-up runs')."""
        self.stages = {name: [] for name in STAGES}

    def pipeline(self, jpeg: np.ndarray) -> float:
        t0 = time.perf_counter()
        frame = decode_image(jpeg, self.fit)
        t1 = time.perf_counter()
        detections = self.detector.detect(frame)
        t2 = time.perf_counter()
        analyse(self.layout, detections, self.analysis)
        t3 = time.perf_counter()
        timing = self.detector.timing
        for name, ms in zip(
            STAGES,
            (
                (t1 - t0) * 1e3,
                timing.preprocess_ms,
                timing.inference_ms,
                timing.postprocess_ms,
                (t3 - t2) * 1e3,
            ),
            strict=True,
        ):
            self.stages[name].append(ms)
        return (t3 - t0) * 1e3

    def session_run(self, tensor: np.ndarray) -> float:
        t0 = time.perf_counter()
        self.session.run(None, {self.input_name: tensor})
        return (time.perf_counter() - t0) * 1e3

    def predict(self, frame: np.ndarray) -> float:
        t0 = time.perf_counter()
        self.ultralytics.predict(frame, imgsz=self.imgsz, device="cpu", verbose=False)
        return (time.perf_counter() - t0) * 1e3


def time_in_blocks(
    contenders: dict[str, Callable[[int], float]], count: int, rounds: int, block: int = BLOCK
) -> dict[str, list[float]]:
    """Per contender, the times (ms) of every image over every round.

    `contenders` maps a name to a function timing one image by its index. A round walks
    the images `block` at a time; each contender runs over the whole block before the
    next starts, and every block starts with the contender one place further along than
    the last, so none always follows the same one.
    """
    names = list(contenders)
    times: dict[str, list[float]] = {name: [] for name in names}
    turn = 0
    for _ in range(rounds):
        for start in range(0, count, block):
            shift = turn % len(names)
            turn += 1
            for name in names[shift:] + names[:shift]:
                times[name].extend(
                    contenders[name](i) for i in range(start, min(start + block, count))
                )
    return times


def _timers(
    contenders: _Contenders, jpegs: list[np.ndarray], frames: list[np.ndarray]
) -> dict[str, Callable[[int], float]]:
    """The three contenders of one model as functions timing image i, warmed up."""
    tensors = []
    for frame in frames:
        contenders.detector.preprocess(frame)
        tensors.append(contenders.detector.input_tensor.copy())
    for frame, tensor, jpeg in zip(frames[:3], tensors, jpegs, strict=False):  # warm all three
        contenders.pipeline(jpeg), contenders.session_run(tensor), contenders.predict(frame)
    contenders.reset_stages()
    return {
        "pipeline": lambda i: contenders.pipeline(jpegs[i]),
        "session": lambda i: contenders.session_run(tensors[i]),
        "ultralytics": lambda i: contenders.predict(frames[i]),
    }


def bench_variants(
    models: dict[str, Path], images: list[Path], threads: int, rounds: int
) -> dict[str, dict]:
    """Medians and ratios per model file; every contender of every model is timed in
    the same rounds, so ratios between the models (the int8 speed-up) are side by side
    too: this machine's speed drifts between minutes by up to a third."""
    jpegs = [np.fromfile(str(p), np.uint8) for p in images]
    frames = [cv2.imdecode(j, cv2.IMREAD_COLOR) for j in jpegs]
    with tempfile.TemporaryDirectory(prefix="shelfsense-bench-") as scratch:
        contenders = {
            name: _Contenders(path, threads, Path(scratch) / name) for name, path in models.items()
        }
        timers = {
            f"{name}/{kind}": timer
            for name, each in contenders.items()
            for kind, timer in _timers(each, jpegs, frames).items()
        }
        times = time_in_blocks(timers, len(images), rounds)
        return {
            name: _figures(models[name], each, times, name, images[0], threads)
            for name, each in contenders.items()
        }


def _figures(
    model: Path,
    contenders: _Contenders,
    times: dict[str, list[float]],
    name: str,
    probe_image: Path,
    threads: int,
) -> dict:
    pipeline, session, ultra = (
        statistics.median(times[f"{name}/{kind}"])
        for kind in ("pipeline", "session", "ultralytics")
    )
    cold, rss = _probe(_NODE_PROBE, str(model), str(probe_image), str(threads))
    u_cold, u_rss = _probe(
        _ULTRALYTICS_PROBE,
        str(contenders.ultralytics_model),
        str(probe_image),
        str(contenders.imgsz),
    )
    return {
        "model": str(model),
        "pipeline_ms": round(pipeline, 2),
        "session_ms": round(session, 2),
        "ultralytics_ms": round(ultra, 2),
        "pipeline_over_session": round(pipeline / session, 3),
        "ultralytics_over_session": round(ultra / session, 3),
        "node_rss_mb": round(rss, 1),
        "ultralytics_rss_mb": round(u_rss, 1),
        "cold_start_s": round(cold, 3),
        "ultralytics_cold_start_s": round(u_cold, 3),
        "stages_ms": {
            stage: round(statistics.median(ms), 3) for stage, ms in contenders.stages.items()
        },
    }


def bench(
    model: Path | None = None,
    int8: Path | None = None,
    count: int = 50,
    rounds: int = 2,
    threads: int | None = None,
) -> dict:
    """The whole benchmark: fp32 and int8 side by side, with the int8 speed-up."""
    from models.train import offline_ultralytics

    os.environ["YOLO_VERBOSE"] = "False"  # its "Loading ..." lines would mix into the JSON
    offline_ultralytics()
    threads = threads or DetectorSettings().threads
    fp32 = Path(model) if model else default_model_path("fast")
    int8 = Path(int8) if int8 else int8_twin(fp32)
    for path in (fp32, int8):
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: no such model (make the int8 twin: shelf-model quantize)"
            )
    images = bench_images(count)
    result: dict = {"images": len(images), "threads": threads, "source": str(images[0].parent)}
    result.update(bench_variants({"fp32": fp32, "int8": int8}, images, threads, rounds))
    result["int8_speedup"] = round(result["fp32"]["pipeline_ms"] / result["int8"]["pipeline_ms"], 3)
    return result
