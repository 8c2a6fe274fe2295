"""The int8 twin takes the camera's BGR bytes, computes what the float-input model did,
and turns back into a float-input model for Ultralytics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edge.detector import PAD_VALUE, ModelError, OnnxDetector
from models.pixel_input import (
    CHANNEL_ORDER_KEY,
    float_input_copy,
    take_camera_bytes,
    take_float_rgb,
    takes_bytes,
)

SIZE = 16
CALIBRATED_SCALE = 0.003917739  # what Percentile calibration gave the shipped model's input
OUTPUT_SCALE = 0.05


def _qdq_conv_model(input_scale: float = CALIBRATED_SCALE) -> onnx.ModelProto:
    """What `quantize_static` writes around an exported model's first convolution: the
    float input through QuantizeLinear -> DequantizeLinear, int8 per-channel weights and an
    int32 bias at input x weight scale, the output quantised again."""
    rng = np.random.default_rng(7)
    # Red != blue on purpose. 7-bit weights: CPUs without VNNI add u8 x s8 products in
    # pairs into int16 and saturate with full-range weights, which would blur the test.
    weights = rng.integers(-63, 64, (4, 3, 3, 3), dtype=np.int8)
    weight_scale = rng.uniform(0.002, 0.01, 4).astype(np.float32)
    bias_scale = (np.float32(CALIBRATED_SCALE) * weight_scale).astype(np.float32)
    bias = rng.integers(-2000, 2000, 4, dtype=np.int32)

    def array(value: np.ndarray | float, name: str, dtype: type = np.float32) -> onnx.TensorProto:
        return numpy_helper.from_array(np.asarray(value, dtype), name)

    initializers = [
        array(input_scale, "images_scale"),
        array(0, "images_zero_point", np.uint8),
        array(weights, "w_q", np.int8),
        array(weight_scale, "w_scale"),
        array(np.zeros(4), "w_zero_point", np.int8),
        array(bias, "b_q", np.int32),
        array(bias_scale, "b_scale"),
        array(np.zeros(4), "b_zero_point", np.int32),
        array(OUTPUT_SCALE, "out_scale"),
        array(128, "out_zero_point", np.uint8),
    ]
    dq = "DequantizeLinear"
    nodes = [
        helper.make_node("QuantizeLinear", ["images", "images_scale", "images_zero_point"], ["q"]),
        helper.make_node(dq, ["q", "images_scale", "images_zero_point"], ["x"]),
        helper.make_node(dq, ["w_q", "w_scale", "w_zero_point"], ["w"], axis=0),
        helper.make_node(dq, ["b_q", "b_scale", "b_zero_point"], ["b"], axis=0),
        helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1], name="/model.0/Conv"),
        helper.make_node("QuantizeLinear", ["y", "out_scale", "out_zero_point"], ["y_q"]),
        helper.make_node(dq, ["y_q", "out_scale", "out_zero_point"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "qdq",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4, SIZE, SIZE])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in {"imgsz": str([SIZE, SIZE]), "names": "{0: 'gap', 1: 'messy'}"}.items():
        model.metadata_props.add(key=key, value=value)
    return model


def _run(model: onnx.ModelProto, feed: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: feed})[0]


def _float_rgb(bgr: np.ndarray) -> np.ndarray:
    """Ultralytics' input: RGB planes scaled to 0..1."""
    return (bgr[..., ::-1].transpose(2, 0, 1)[None] / np.float32(255)).astype(np.float32)


@pytest.fixture
def frame() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)


def test_the_rewritten_model_reads_bgr_bytes_and_computes_what_the_float_model_did(
    frame: np.ndarray,
) -> None:
    model = _qdq_conv_model()
    expected = _run(model, _float_rgb(frame))
    take_camera_bytes(model)
    assert takes_bytes(model)
    pixels = model.graph.input[0]
    assert pixels.name == "images" and pixels.type.tensor_type.elem_type == TensorProto.UINT8
    assert [d.dim_value for d in pixels.type.tensor_type.shape.dim] == [1, SIZE, SIZE, 3]
    assert {p.key: p.value for p in model.metadata_props}[CHANNEL_ORDER_KEY] == "bgr"
    readers = [n for n in model.graph.node if "images" in n.input]
    assert [n.op_type for n in readers] == ["Transpose"]  # no QuantizeLinear left on it
    got = _run(model, frame[None])
    # The input scale moved from the calibrated 0.0039177 to exactly 1/255 (0.1 %): at most
    # a step of the output's quantisation; a red/blue mix-up would be tens of steps.
    assert np.abs(got - expected).max() <= OUTPUT_SCALE + 1e-6
    assert np.mean(got == expected) > 0.9
    wrong_order = _run(model, np.ascontiguousarray(frame[None, ..., ::-1]))
    assert np.abs(wrong_order - expected).max() > 10 * OUTPUT_SCALE


def test_a_float_input_in_front_runs_the_same_integer_model(
    frame: np.ndarray, tmp_path: Path
) -> None:
    model = _qdq_conv_model()
    take_camera_bytes(model)
    on_bytes = _run(model, frame[None])
    path = tmp_path / "twin.onnx"
    onnx.save(model, str(path))

    copy = float_input_copy(path, tmp_path / "float")
    assert copy != path
    floats = onnx.load(str(copy))
    assert not takes_bytes(floats) and floats.graph.input[0].name == "images"
    assert CHANNEL_ORDER_KEY not in {p.key for p in floats.metadata_props}
    np.testing.assert_array_equal(_run(floats, _float_rgb(frame)), on_bytes)
    assert float_input_copy(copy, tmp_path / "again") == copy  # already float: itself
    with pytest.raises(ValueError, match="overwrite"):
        float_input_copy(path, tmp_path)

    again = onnx.load(str(path))
    take_float_rgb(again)
    np.testing.assert_array_equal(_run(again, _float_rgb(frame)), on_bytes)


def test_an_rgb_bytes_model_gets_no_channel_swap_in_front(
    frame: np.ndarray, tmp_path: Path
) -> None:
    model = _qdq_conv_model()
    take_camera_bytes(model)
    for prop in model.metadata_props:
        if prop.key == CHANNEL_ORDER_KEY:
            prop.value = "rgb"  # as if it read RGB bytes
    on_rgb_bytes = _run(model, np.ascontiguousarray(frame[None, ..., ::-1]))
    take_float_rgb(model)
    assert "Slice" not in {n.op_type for n in model.graph.node}
    np.testing.assert_array_equal(_run(model, _float_rgb(frame)), on_rgb_bytes)
    with pytest.raises(ValueError, match="takes float already"):
        take_float_rgb(model)


def test_a_model_without_a_quantised_pixel_input_is_refused_by_name() -> None:
    model = _qdq_conv_model()
    take_camera_bytes(model)
    with pytest.raises(ValueError, match="images"):
        take_camera_bytes(model)  # already bytes
    with pytest.raises(ValueError, match=r"input images: quantised at scale 1\.0.*pixels/255"):
        take_camera_bytes(_qdq_conv_model(input_scale=1.0))  # an input of 0..255, not 0..1
    floats = _qdq_conv_model()
    floats.graph.node.remove(floats.graph.node[0])  # a float conv reads the input
    floats.graph.node[0].input[0] = "images"
    with pytest.raises(ValueError, match="input images: expected one QuantizeLinear"):
        take_camera_bytes(floats)


@pytest.mark.parametrize("order", ["bgr", "rgb"])
def test_the_detector_letterboxes_straight_into_the_bytes_the_model_reads(
    order: str, tmp_path: Path
) -> None:
    model = _qdq_conv_model()
    take_camera_bytes(model)
    for prop in model.metadata_props:
        if prop.key == CHANNEL_ORDER_KEY:
            prop.value = order
    path = tmp_path / f"{order}.onnx"
    onnx.save(model, str(path))
    detector = OnnxDetector(path, threads=1, warmup_runs=1)
    assert detector.takes_bytes and (detector.input_h, detector.input_w) == (SIZE, SIZE)

    frame = np.zeros((8, 16, 3), np.uint8)  # wide: padded above and below
    frame[:] = (200, 100, 10)  # BGR
    detector.preprocess(frame)
    tensor = detector.input_tensor
    assert tensor.shape == (1, SIZE, SIZE, 3) and tensor.dtype == np.uint8
    assert (tensor[0, 0] == PAD_VALUE).all() and (tensor[0, -1] == PAD_VALUE).all()
    pixel = tuple(tensor[0, SIZE // 2, SIZE // 2])
    assert pixel == ((200, 100, 10) if order == "bgr" else (10, 100, 200))
    assert detector.infer().shape == (1, 4, SIZE, SIZE)


def test_a_uint8_input_that_is_not_rows_of_three_channels_names_the_file(tmp_path: Path) -> None:
    model = _qdq_conv_model()
    take_camera_bytes(model)
    model.graph.input[0].type.tensor_type.shape.dim[3].dim_value = 4
    path = tmp_path / "four.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ModelError, match=r"four\.onnx.*\(1, h, w, 3\)"):
        OnnxDetector(path, threads=1, warmup_runs=0)


def test_an_unknown_channel_order_names_the_file_and_key(tmp_path: Path) -> None:
    model = _qdq_conv_model()
    take_camera_bytes(model)
    for prop in model.metadata_props:
        if prop.key == CHANNEL_ORDER_KEY:
            prop.value = "bgra"
    path = tmp_path / "odd.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ModelError, match=r"odd\.onnx: channel_order metadata 'bgra'"):
        OnnxDetector(path, threads=1, warmup_runs=0)
