"""Move the exported head's DFL softmax onto the last axis, where ONNX Runtime is fast.

Ultralytics exports the distribution focal loss decoding as Reshape (1, 4, 16, A) ->
Transpose (0, 2, 1, 3) -> Softmax over axis 1 -> a 1x1 Conv with the bin numbers 0..15.
ONNX Runtime's CPU Softmax is written for the last axis; over axis 1 it transposes the
tensor there and back on every call, which cost 1.5 ms of a 9 ms frame here (and as much
in the int8 twin, where the head stays float). The same arithmetic with the 16 bins last:
Transpose (0, 1, 3, 2) -> Softmax over the last axis -> MatMul with the bins as a
(16, 1) matrix gives (1, 4, A, 1), which the exporter's next Reshape turns into the same
(1, 4, A) as before. The outputs are unchanged (a test checks it).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

BINS_NAME = "dfl_bins_column"


def _consumers(graph: onnx.GraphProto, tensor: str) -> list[onnx.NodeProto]:
    return [node for node in graph.node if tensor in node.input]


def _attribute(node: onnx.NodeProto, name: str, default: object = None) -> object:
    for attribute in node.attribute:
        if attribute.name == name:
            return helper.get_attribute_value(attribute)
    return default


def _renamed(name: str, op_type: str) -> str:
    """`/model.22/dfl/conv/Conv` -> `/model.22/dfl/conv/MatMul`: the head's name prefix
    stays, so the int8 quantizer keeps the node float (`quantize.float_head_nodes`)."""
    return f"{name.rsplit('/', 1)[0]}/{op_type}" if "/" in name else f"{name}_{op_type}"


def _dfl_chain(graph: onnx.GraphProto) -> tuple[onnx.NodeProto, ...] | None:
    """The exporter's Transpose -> Softmax(axis 1) -> Conv(bins) nodes, or None."""
    for transpose in graph.node:
        if transpose.op_type != "Transpose" or _attribute(transpose, "perm") != [0, 2, 1, 3]:
            continue
        after = _consumers(graph, transpose.output[0])
        if len(after) != 1 or after[0].op_type != "Softmax" or _attribute(after[0], "axis") != 1:
            continue
        softmax = after[0]
        after = _consumers(graph, softmax.output[0])
        if len(after) == 1 and after[0].op_type == "Conv" and len(after[0].input) == 2:
            return transpose, softmax, after[0]
    return None


def softmax_on_last_axis(model: onnx.ModelProto) -> bool:
    """Rewrite `model`'s DFL decoding in place; False when it has no such decoding."""
    graph = model.graph
    chain = _dfl_chain(graph)
    if chain is None:
        return False
    transpose, softmax, conv = chain
    weights = {init.name: init for init in graph.initializer}
    bins = numpy_helper.to_array(weights[conv.input[1]])  # (1, 16, 1, 1)
    graph.initializer.append(
        numpy_helper.from_array(bins.reshape(1, -1).T.astype(np.float32), BINS_NAME)
    )
    position = list(graph.node).index(transpose)
    replacement = [
        helper.make_node(
            "Transpose",
            [transpose.input[0]],
            [transpose.output[0]],
            transpose.name,
            perm=[0, 1, 3, 2],
        ),
        helper.make_node(
            "Softmax", [transpose.output[0]], [softmax.output[0]], softmax.name, axis=-1
        ),
        helper.make_node(
            "MatMul",
            [softmax.output[0], BINS_NAME],
            [conv.output[0]],
            _renamed(conv.name, "MatMul"),
        ),
    ]
    for node in chain:
        graph.node.remove(node)
    for offset, node in enumerate(replacement):
        graph.node.insert(position + offset, node)
    if not _consumers(graph, conv.input[1]):
        graph.initializer.remove(weights[conv.input[1]])
    del graph.value_info[:]  # shapes inside the head changed; ONNX Runtime infers them
    onnx.checker.check_model(model)
    return True
