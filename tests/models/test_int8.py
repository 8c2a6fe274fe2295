"""`shelf-model quantize` and `shelf-model bench`: the int8 twin and the side-by-side figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from edge.detector import OnnxDetector
from models.bench import int8_twin, time_in_blocks
from models.evaluate import box_iou
from models.synth import SYNTHETIC_MODEL

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(fp32 copy, its int8 twin, a rendered dataset) made with the real commands."""
    from models.synth import render_dataset

    folder = tmp_path_factory.mktemp("int8")
    data = render_dataset(folder / "data", 24, seed=5)
    fp32 = folder / "shelf.onnx"
    fp32.write_bytes(SYNTHETIC_MODEL.read_bytes())  # its data: rendered shelves
    subprocess.run(
        [str(BIN / "shelf-model"), "quantize", "--model", str(fp32), "--data", str(data),
         "--count", "16"],
        check=True, capture_output=True,
    )  # fmt: skip
    return fp32, int8_twin(fp32), data


def test_the_int8_twin_is_integer_keeps_metadata_and_finds_what_fp32_finds(twin) -> None:
    fp32, int8, data = twin
    graph = onnx.load(str(int8))
    ops = {node.op_type for node in graph.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert int8.stat().st_size < fp32.stat().st_size / 2
    full, small = OnnxDetector(fp32, threads=1), OnnxDetector(int8, threads=1)
    assert small.names == full.names == ["gap", "messy"]
    assert (small.input_h, small.input_w) == (full.input_h, full.input_w)
    # The twin reads the letterboxed BGR frame itself (models/pixel_input.py).
    assert small.takes_bytes and not full.takes_bytes
    assert small.input_tensor.shape == (1, small.input_h, small.input_w, 3)
    # 7-bit weights: no u8 x s8 pair saturates 16 bits on a CPU without VNNI.
    weights = [
        onnx.numpy_helper.to_array(init)
        for init in graph.graph.initializer
        if init.data_type == onnx.TensorProto.INT8
    ]
    assert weights and all(w.min() >= -64 and w.max() <= 64 for w in weights)
    import cv2

    frame = cv2.imread(str(next((data.parent / "images" / "val").glob("*.jpg"))))
    a, b = full.detect_raw(frame), small.detect_raw(frame)
    assert len(a) > 0
    iou = box_iou(a.boxes.astype(np.float64), b.boxes.astype(np.float64))
    # Every confident fp32 gap/messy box has an int8 box of the same class on top of it.
    same = a.classes[:, None] == b.classes[None, :]
    assert ((iou * same).max(axis=1) > 0.7).mean() >= 0.8


def test_float_layers_stay_float_and_the_rest_is_integer(twin, tmp_path: Path) -> None:
    from models.quantize import calibration_images, quantize_int8

    fp32, _, data = twin
    out = quantize_int8(
        fp32, tmp_path / "f2.onnx", calibration_images(data, "train", 4), float_layers=2
    )
    graph = onnx.load(str(out))
    dequantized = {o for n in graph.graph.node if n.op_type == "DequantizeLinear" for o in n.output}

    def integer(layer: int) -> bool:
        """Does any conv of this layer read a dequantized (int8) tensor?"""
        return any(
            set(n.input) & dequantized
            for n in graph.graph.node
            if n.op_type == "Conv" and n.name.startswith(f"/model.{layer}/")
        )

    assert not integer(0) and not integer(1)
    assert integer(2) and integer(3)
    detector = OnnxDetector(out, threads=1)
    assert detector.names == ["gap", "messy"]
    assert not detector.takes_bytes  # its first convolution is float: a float input


def test_ultralytics_validates_the_twin_through_a_float_input_and_agrees(
    twin, tmp_path: Path
) -> None:
    from models.evaluate import evaluate
    from models.train import validate

    _, int8, data = twin
    ours = evaluate(int8, data, "val")
    theirs = validate(int8, data, 320, "val", project=tmp_path)
    assert abs(ours["gap"]["ap50"] - theirs["gap"]) <= 0.02, (ours["gap"], theirs)


def test_the_fast_models_use_relu_and_the_int8_twin_runs_no_activation_op() -> None:
    """The fast (n) detector is the ReLU variant, so its int8 twin's convolutions carry
    their activations (models/quantize.py); a SiLU would add a Sigmoid and a Mul per conv."""
    from edge.detector import default_model_path
    from models.quantize import float_head_nodes

    fast = default_model_path("fast")
    assert int8_twin(fast) == default_model_path("fast-int8")
    fp32 = onnx.load(str(fast))
    int8 = onnx.load(str(int8_twin(fast)))

    def body_ops(model: onnx.ModelProto) -> set[str]:
        head = set(float_head_nodes(model))
        return {n.op_type for n in model.graph.node if n.name not in head}

    assert "Relu" in body_ops(fp32) and not body_ops(fp32) & {"Sigmoid", "Mul"}
    assert not body_ops(int8) & {"Relu", "Sigmoid", "Mul"}  # a SiLU is a Sigmoid and a Mul
    assert "QuantizeLinear" in body_ops(int8)
    assert OnnxDetector(int8_twin(fast), threads=1, warmup_runs=0).takes_bytes


def test_bench_reports_every_figure_for_both_variants(twin) -> None:
    fp32, int8, _ = twin
    out = subprocess.run(
        [str(BIN / "shelf-model"), "bench", "--model", str(fp32), "--images", "3", "--rounds",
         "1", "--json"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    result = json.loads(out)  # stdout is the JSON object and nothing else
    keys = {
        "pipeline_ms", "session_ms", "ultralytics_ms", "pipeline_over_session", "node_rss_mb",
        "ultralytics_rss_mb", "cold_start_s", "ultralytics_cold_start_s",
    }  # fmt: skip
    for variant in ("fp32", "int8"):
        assert keys <= set(result[variant])
        assert all(result[variant][k] > 0 for k in keys)
        stages = result[variant]["stages_ms"]
        assert set(stages) == {"decode", "letterbox", "inference", "postprocess", "analysis"}
        assert all(ms > 0 for ms in stages.values())
        assert sum(stages.values()) <= result[variant]["pipeline_ms"] * 1.5  # medians, not sums
    assert result["int8"]["model"] == str(int8)
    # Peak memory of a fresh process, not the benchmark's own size.
    assert result["fp32"]["node_rss_mb"] < result["fp32"]["ultralytics_rss_mb"]
    assert result["int8_speedup"] == pytest.approx(
        result["fp32"]["pipeline_ms"] / result["int8"]["pipeline_ms"], rel=0.01
    )


def test_bench_times_each_contender_in_blocks_and_rotates_who_goes_first() -> None:
    calls: list[tuple[str, int]] = []

    def contender(name: str):
        return lambda i: calls.append((name, i)) or float(i)

    times = time_in_blocks({n: contender(n) for n in ("a", "b", "c")}, count=4, rounds=2, block=2)
    order = "".join(calls[k][0] for k in range(0, len(calls), 2))
    images = [(calls[k][1], calls[k + 1][1]) for k in range(0, len(calls), 2)]
    assert order == "abc" + "bca" + "cab" + "abc"  # who goes first moves on every block
    assert images == ([(0, 1)] * 3 + [(2, 3)] * 3) * 2  # block by block, round after round
    assert times == {n: [0.0, 1.0, 2.0, 3.0] * 2 for n in "abc"}


def test_a_last_short_block_still_times_every_image_once_a_round() -> None:
    seen: list[int] = []
    times = time_in_blocks({"only": lambda i: seen.append(i) or 1.0}, count=5, rounds=1, block=2)
    assert seen == [0, 1, 2, 3, 4] and times == {"only": [1.0] * 5}
