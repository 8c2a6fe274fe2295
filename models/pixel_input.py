"""An int8 model that takes the camera's bytes: uint8 BGR pixels, rows x columns x channels.

Ultralytics' models take a float tensor, RGB planes scaled to 0..1 (NCHW). The node's
frames are BGR bytes in rows (NHWC), so for a float model it splits the planes, swaps
red and blue and multiplies each pixel by 1/255, and the int8 model then quantises the
result straight back to bytes (scale ~1/255) and ONNX Runtime transposes it to NHWC for
its integer convolutions. `take_camera_bytes` removes that round trip from the int8
twin: its input becomes the letterboxed BGR frame itself, dequantised with scale 1/255
(which represents every pixel exactly), and the first convolution's weights swap their
red and blue input channels. ONNX Runtime's layout optimiser then cancels the NHWC ->
NCHW transpose against its own NCHW -> NHWC one, so the first integer convolution reads
the frame buffer as it is.

`take_float_rgb` is the way back, for tools that feed Ultralytics' float tensors to the
file (`YOLO(file).predict` and `val`): it quantises the float tensor to those same bytes
in front of the model, so they run the same integer model as the node.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edge.detector import CHANNEL_ORDER_KEY, channel_order

_PIXEL_SCALE = np.float32(1.0 / 255.0)


def _consumers(graph: onnx.GraphProto, tensor: str) -> list[onnx.NodeProto]:
    return [node for node in graph.node if tensor in node.input]


def _producer(graph: onnx.GraphProto, tensor: str, what: str) -> onnx.NodeProto:
    node = next((node for node in graph.node if tensor in node.output), None)
    if node is None:
        raise ValueError(f"{what}: {tensor} is not computed by a node (a float initializer?)")
    return node


def _only(nodes: list[onnx.NodeProto], op_type: str, what: str) -> onnx.NodeProto:
    if len(nodes) != 1 or nodes[0].op_type != op_type:
        found = [node.op_type for node in nodes]
        raise ValueError(f"{what}: expected one {op_type}, found {found}")
    return nodes[0]


def _input_size(value: onnx.ValueInfoProto) -> tuple[int, int, int]:
    """(channels, height, width) of a static NCHW input."""
    dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
    if len(dims) != 4 or dims[0] != 1 or dims[1] != 3 or min(dims) <= 0:
        raise ValueError(f"input {value.name}: expected a static 1x3xHxW shape, got {dims}")
    return dims[1], dims[2], dims[3]


def _initializer_proto(graph: onnx.GraphProto, name: str) -> onnx.TensorProto:
    found = next((init for init in graph.initializer if init.name == name), None)
    if found is None:
        raise ValueError(f"{name}: expected a constant (an initializer)")
    return found


def _initializer(graph: onnx.GraphProto, name: str) -> np.ndarray:
    return numpy_helper.to_array(_initializer_proto(graph, name))


def _set_initializer(graph: onnx.GraphProto, name: str, array: np.ndarray) -> None:
    _initializer_proto(graph, name).CopyFrom(numpy_helper.from_array(array, name))


def _first_conv(
    graph: onnx.GraphProto, source: str
) -> tuple[onnx.NodeProto, onnx.NodeProto, onnx.NodeProto]:
    """(QuantizeLinear, DequantizeLinear, Conv) that read the float input, after checking
    the input is pixels / 255 (a scale near 1/255, zero point 0): anything else (0..255,
    mean/std normalised) would be silently wrong on bytes."""
    what = f"input {source}"
    quantize = _only(_consumers(graph, source), "QuantizeLinear", what)
    dequantize = _only(_consumers(graph, quantize.output[0]), "DequantizeLinear", what)
    conv = _only(_consumers(graph, dequantize.output[0]), "Conv", what)
    scale = float(_initializer(graph, quantize.input[1]))
    zero = _initializer(graph, quantize.input[2]) if len(quantize.input) > 2 else 0
    if abs(scale * 255 - 1) > 0.01 or int(zero) != 0:
        raise ValueError(f"{what}: quantised at scale {scale}, zero point {zero}: not pixels/255")
    groups = next((a.i for a in conv.attribute if a.name == "group"), 1)
    if groups != 1:
        raise ValueError(f"{conv.name}: a grouped first convolution ({groups} groups)")
    return quantize, dequantize, conv


def _swap_red_and_blue(graph: onnx.GraphProto, conv: onnx.NodeProto) -> None:
    """Reverse the input channels of a QDQ convolution's int8 weights (per output channel
    scales are untouched, so the integer weights stay exact)."""
    producer = _producer(graph, conv.input[1], conv.name)
    weights = _only([producer], "DequantizeLinear", f"{conv.name} weights")
    array = _initializer(graph, weights.input[0])
    if array.ndim != 4 or array.shape[1] != 3:
        raise ValueError(f"{conv.name}: weights {array.shape}, expected 3 input channels")
    _set_initializer(graph, weights.input[0], np.ascontiguousarray(array[:, ::-1]))


def _requantize_bias(graph: onnx.GraphProto, conv: onnx.NodeProto) -> None:
    """An int32 bias is stored at input scale x weight scale; the input scale changed."""
    if len(conv.input) < 3 or not conv.input[2]:
        return
    bias = _only([_producer(graph, conv.input[2], conv.name)], "DequantizeLinear", conv.name)
    weights = _producer(graph, conv.input[1], conv.name)
    values = _initializer(graph, bias.input[0]).astype(np.float64)
    value = values * _initializer(graph, bias.input[1])
    scale = (_PIXEL_SCALE * _initializer(graph, weights.input[1])).astype(np.float32)
    _set_initializer(graph, bias.input[0], np.round(value / scale).astype(np.int32))
    _set_initializer(graph, bias.input[1], scale)


def take_camera_bytes(model: onnx.ModelProto) -> None:
    """Rewrite a QDQ int8 model, in place, to take a (1, H, W, 3) uint8 BGR frame.

    Expects what `onnxruntime.quantization.quantize_static` writes for an Ultralytics
    export: the float input (pixels / 255) read by one QuantizeLinear -> DequantizeLinear
    -> Conv. Raises ValueError naming the input or node where the graph differs.
    """
    graph = model.graph
    source = graph.input[0]
    if source.type.tensor_type.elem_type != TensorProto.FLOAT:
        raise ValueError(f"input {source.name}: already takes bytes (or is not float)")
    channels, height, width = _input_size(source)
    quantize, dequantize, conv = _first_conv(graph, source.name)

    _swap_red_and_blue(graph, conv)
    _requantize_bias(graph, conv)
    graph.node.remove(quantize)
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(_PIXEL_SCALE), "pixels_scale"),
            numpy_helper.from_array(np.array(0, np.uint8), "pixels_zero_point"),
        ]
    )
    transpose = helper.make_node(
        "Transpose", [source.name], ["pixels_nchw"], perm=[0, 3, 1, 2], name="pixels_to_nchw"
    )
    dequantize.input[:] = ["pixels_nchw", "pixels_scale", "pixels_zero_point"]
    graph.node.insert(0, transpose)
    pixels = helper.make_tensor_value_info(
        source.name, TensorProto.UINT8, [1, height, width, channels]
    )
    graph.input.remove(source)
    graph.input.insert(0, pixels)
    _drop_unused_initializers(graph)
    model.metadata_props.add(key=CHANNEL_ORDER_KEY, value="bgr")
    onnx.checker.check_model(model)


def takes_bytes(model: onnx.ModelProto) -> bool:
    """Does the model's input take uint8 pixels (the node's int8 form)?"""
    return model.graph.input[0].type.tensor_type.elem_type == TensorProto.UINT8


def take_float_rgb(model: onnx.ModelProto) -> None:
    """Put a float (1, 3, H, W) RGB 0..1 input, in place, in front of a model that takes
    bytes: quantise to the same bytes (scale 1/255), rows x columns, and RGB -> BGR where
    the model reads BGR."""
    if not takes_bytes(model):
        raise ValueError(f"input {model.graph.input[0].name}: takes float already")
    graph = model.graph
    pixels = graph.input[0]
    height, width, channels = (d.dim_value for d in pixels.type.tensor_type.shape.dim[1:])
    metadata = {prop.key: prop.value for prop in model.metadata_props}
    bgr = channel_order(metadata, f"input {pixels.name}") == "bgr"
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(_PIXEL_SCALE), "float_input_scale"),
            numpy_helper.from_array(np.array(0, np.uint8), "float_input_zero_point"),
        ]
    )
    name = pixels.name  # the float input keeps the model's input name
    for node in graph.node:
        node.input[:] = ["pixels_in" if i == name else i for i in node.input]
    nodes = [
        helper.make_node(
            "QuantizeLinear",
            [name, "float_input_scale", "float_input_zero_point"],
            ["rgb_bytes"],
            name="float_to_bytes",
        ),
        helper.make_node(
            "Transpose", ["rgb_bytes"], ["rgb_nhwc" if bgr else "pixels_in"], perm=[0, 2, 3, 1]
        ),
    ]
    if bgr:
        graph.initializer.extend(
            [  # channels reversed: start at the last, step -1, past the first
                numpy_helper.from_array(np.array([channels - 1], np.int64), "reverse_start"),
                numpy_helper.from_array(np.array([-channels - 1], np.int64), "reverse_end"),
                numpy_helper.from_array(np.array([3], np.int64), "reverse_axis"),
                numpy_helper.from_array(np.array([-1], np.int64), "reverse_step"),
            ]
        )
        nodes.append(
            helper.make_node(
                "Slice",
                ["rgb_nhwc", "reverse_start", "reverse_end", "reverse_axis", "reverse_step"],
                ["pixels_in"],
                name="rgb_to_bgr",
            )
        )
    for index, node in enumerate(nodes):
        graph.node.insert(index, node)
    graph.input.remove(pixels)
    graph.input.insert(
        0, helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, channels, height, width])
    )
    order = [prop for prop in model.metadata_props if prop.key == CHANNEL_ORDER_KEY]
    for prop in order:
        model.metadata_props.remove(prop)
    onnx.checker.check_model(model)


def float_input_copy(path: Path, folder: Path) -> Path:
    """`path` itself if it takes float tensors, else a copy in `folder` that does
    (`take_float_rgb`)."""
    model = onnx.load(str(path))
    if not takes_bytes(model):
        return Path(path)
    out = folder / Path(path).name
    if out.resolve() == Path(path).resolve():
        raise ValueError(f"{path}: the float-input copy would overwrite it; give another folder")
    take_float_rgb(model)
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
    return out


def _drop_unused_initializers(graph: onnx.GraphProto) -> None:
    used = {name for node in graph.node for name in node.input}
    unused = [init for init in graph.initializer if init.name not in used]
    for init in unused:
        graph.initializer.remove(init)
