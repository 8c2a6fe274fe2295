"""The DFL rewrite keeps a detector's outputs and puts its softmax on the last axis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edge.detector import default_model_path
from models.dfl_softmax import softmax_on_last_axis
from tests.support.paths import REPO

ANCHORS = 21
MODELS = REPO / "models"


def _exported_head() -> onnx.ModelProto:
    """Ultralytics' DFL decoding as its exporter writes it, on 21 anchors."""
    bins = np.arange(16, dtype=np.float32).reshape(1, 16, 1, 1)
    nodes = [
        helper.make_node("Reshape", ["raw", "split_shape"], ["split"]),
        helper.make_node("Transpose", ["split"], ["bins_first"], perm=[0, 2, 1, 3]),
        helper.make_node("Softmax", ["bins_first"], ["probabilities"], axis=1),
        helper.make_node("Conv", ["probabilities", "bins"], ["expected"], name="/m.22/dfl/Conv"),
        helper.make_node("Reshape", ["expected", "out_shape"], ["distances"]),
    ]
    graph = helper.make_graph(
        nodes,
        "dfl",
        [helper.make_tensor_value_info("raw", TensorProto.FLOAT, [1, 64, ANCHORS])],
        [helper.make_tensor_value_info("distances", TensorProto.FLOAT, [1, 4, ANCHORS])],
        [
            numpy_helper.from_array(np.array([1, 4, 16, ANCHORS], np.int64), "split_shape"),
            numpy_helper.from_array(np.array([1, 4, ANCHORS], np.int64), "out_shape"),
            numpy_helper.from_array(bins, "bins"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _run(model: onnx.ModelProto, raw: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"raw": raw})[0]


def _softmax_axes(model: onnx.ModelProto) -> list[int]:
    return [
        helper.get_attribute_value(attribute)
        for node in model.graph.node
        if node.op_type == "Softmax"
        for attribute in node.attribute
        if attribute.name == "axis"
    ]


def test_the_rewrite_gives_the_same_distances_with_the_softmax_last() -> None:
    raw = np.random.default_rng(0).normal(0, 3, (1, 64, ANCHORS)).astype(np.float32)
    model = _exported_head()
    before = _run(model, raw)
    # the expected bin of each side's softmax, computed by hand
    logits = raw.reshape(4, 16, ANCHORS)
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    by_hand = (weights / weights.sum(axis=1, keepdims=True) * np.arange(16)[:, None]).sum(axis=1)
    np.testing.assert_allclose(before[0], by_hand, rtol=1e-5, atol=1e-5)

    assert softmax_on_last_axis(model)
    np.testing.assert_allclose(_run(model, raw), before, rtol=1e-6, atol=1e-5)
    assert _softmax_axes(model) == [-1]
    assert [node.op_type for node in model.graph.node].count("Conv") == 0
    assert {init.name for init in model.graph.initializer} >= {"dfl_bins_column"}
    assert "bins" not in {init.name for init in model.graph.initializer}
    assert any(node.name == "/m.22/dfl/MatMul" for node in model.graph.node)


def test_a_model_without_the_exporters_dfl_is_left_alone() -> None:
    model = _exported_head()
    assert softmax_on_last_axis(model)
    rewritten = model.SerializeToString()
    assert not softmax_on_last_axis(model)  # a second pass finds nothing to do
    assert model.SerializeToString() == rewritten


@pytest.mark.parametrize(
    "model",
    [
        default_model_path("fast"),
        MODELS / "shelfsense-shelf-int8.onnx",
        MODELS / "shelfsense-shelf-s-int8.onnx",
        MODELS / "shelfsense-synth.onnx",
    ],
    ids=lambda path: path.name,
)
def test_the_shipped_models_have_the_fast_softmax(model: Path) -> None:
    assert _softmax_axes(onnx.load(str(model))) == [-1]
