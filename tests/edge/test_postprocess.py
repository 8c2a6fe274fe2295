"""YOLO decoding, NMS and the letterbox, on tensors whose right answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from edge.postprocess import (
    class_wise_nms,
    decode_end2end,
    decode_yolo,
    letterbox_params,
)
from tests.support.edge_nodes import yolo_output

GAP, MESSY = 0, 1


def identity_letterbox(size: int = 640):
    """Frame == network input: boxes come back as input pixels / size."""
    return letterbox_params(size, size, size, size)


def test_letterbox_keeps_aspect_and_centres() -> None:
    lb = letterbox_params(640, 480, 320, 320)
    assert lb.scale == pytest.approx(0.5)
    assert (lb.new_w, lb.new_h) == (320, 240)
    assert (lb.pad_x, lb.pad_y) == (0, 40)

    tall = letterbox_params(300, 600, 160, 160)
    assert (tall.new_w, tall.new_h) == (80, 160)
    assert (tall.pad_x, tall.pad_y) == (40, 0)


def test_nms_suppresses_overlaps_and_keeps_separate_boxes() -> None:
    boxes = np.array(
        [[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10.5]], np.float32
    )
    scores = np.array([0.9, 0.8, 0.7, 0.95], np.float32)
    one_class = np.zeros(4, np.int64)
    keep = class_wise_nms(boxes, scores, one_class, iou=0.5)
    # 3 (0.95) beats 0 and 1 which overlap it; 2 is elsewhere.
    assert keep.tolist() == [3, 2]
    # A strict IoU threshold above every overlap keeps everything, best first.
    assert class_wise_nms(boxes, scores, one_class, iou=0.99).tolist() == [3, 0, 1, 2]


def test_nms_is_class_wise_not_across_classes() -> None:
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0.5, 0, 10.5, 10]], np.float32)
    scores = np.array([0.9, 0.6, 0.8], np.float32)
    classes = np.array([GAP, MESSY, GAP])
    keep = class_wise_nms(boxes, scores, classes, iou=0.5)
    # The second gap box is suppressed by the first; the messy box on the same spot stays.
    assert sorted(keep.tolist()) == [0, 1]


def test_decode_filters_by_confidence_and_picks_best_class() -> None:
    output = yolo_output(
        [(100, 100, 40, 20), (300, 200, 60, 60), (500, 500, 10, 10)],
        [[0.9, 0.1], [0.2, 0.7], [0.3, 0.2]],
    )
    raw = decode_yolo(output, identity_letterbox(), confidence=0.5, iou=0.5)
    assert len(raw) == 2
    order = np.argsort(-raw.scores)
    assert raw.classes[order].tolist() == [GAP, MESSY]
    assert raw.scores[order] == pytest.approx([0.9, 0.7])
    np.testing.assert_allclose(
        raw.boxes[order] * 640, [[80, 90, 120, 110], [270, 170, 330, 230]], atol=1e-3
    )


def test_decode_nms_within_class_only() -> None:
    output = yolo_output(
        [(100, 100, 40, 40), (102, 101, 40, 40), (100, 100, 40, 40)],
        [[0.9, 0.0], [0.8, 0.0], [0.0, 0.6]],
    )
    raw = decode_yolo(output, identity_letterbox(), confidence=0.25, iou=0.5)
    order = np.argsort(raw.classes)
    assert raw.classes[order].tolist() == [GAP, MESSY]
    assert raw.scores[order] == pytest.approx([0.9, 0.6])


def test_decode_undoes_the_letterbox_to_normalised_frame_coordinates() -> None:
    # A 640x480 frame in a 320x320 input: scale 0.5, 40 px of padding above and below.
    lb = letterbox_params(640, 480, 320, 320)
    # Frame box (64, 48)-(320, 240) is input (32, 64)-(160, 160): centre (96, 112), 128x96.
    output = yolo_output([(96, 112, 128, 96)], [[0.8, 0.0]])
    raw = decode_yolo(output, lb, confidence=0.5, iou=0.5)
    np.testing.assert_allclose(raw.boxes[0], [0.1, 0.1, 0.5, 0.5], atol=1e-6)


def test_boxes_in_the_padding_are_dropped_and_others_clipped() -> None:
    lb = letterbox_params(640, 480, 320, 320)
    output = yolo_output(
        [(160, 20, 40, 20), (10, 160, 40, 40)],  # entirely in the top padding; over the edge
        [[0.9, 0.0], [0.9, 0.0]],
    )
    raw = decode_yolo(output, lb, confidence=0.5, iou=0.5)
    assert len(raw) == 1
    assert raw.boxes[0][0] == 0.0
    assert np.all((raw.boxes >= 0) & (raw.boxes <= 1))


def test_no_box_above_confidence_gives_empty_arrays() -> None:
    output = yolo_output([(10, 10, 5, 5)], [[0.1, 0.2]])
    raw = decode_yolo(output, identity_letterbox(), confidence=0.5, iou=0.5)
    assert len(raw) == 0 and raw.boxes.shape == (0, 4)


def test_end_to_end_output_is_decoded_without_nms() -> None:
    lb = identity_letterbox(320)
    output = np.array(
        [[[32, 32, 64, 64, 0.9, 1], [32, 32, 64, 64, 0.8, 1], [0, 0, 1, 1, 0.1, 0]]], np.float32
    )
    raw = decode_end2end(output, lb, confidence=0.5)
    assert raw.classes.tolist() == [MESSY, MESSY]
    np.testing.assert_allclose(raw.boxes[0], [0.1, 0.1, 0.2, 0.2])


def test_matches_ultralytics_non_max_suppression() -> None:
    """Same boxes as Ultralytics' own NMS on a random head output (torch only in the test)."""
    torch = pytest.importorskip("torch")
    ops = pytest.importorskip("ultralytics.utils.nms")
    rng = np.random.default_rng(7)
    n, nc = 400, 2
    centres = rng.uniform(20, 300, (2, n))
    sizes = rng.uniform(10, 80, (2, n))
    scores = rng.uniform(0, 1, (nc, n)) ** 3
    output = np.concatenate([centres, sizes, scores])[None].astype(np.float32)

    ours = decode_yolo(output, identity_letterbox(320), confidence=0.25, iou=0.45)
    (theirs,) = ops.non_max_suppression(torch.from_numpy(output), conf_thres=0.25, iou_thres=0.45)
    theirs = theirs.numpy()

    mine = sorted(
        zip(
            np.round(ours.scores, 5).tolist(),
            ours.classes.tolist(),
            np.round(ours.boxes * 320, 2).tolist(),
            strict=True,
        )
    )
    ref = sorted(
        zip(
            np.round(theirs[:, 4], 5).tolist(),
            theirs[:, 5].astype(int).tolist(),
            np.round(np.clip(theirs[:, :4], 0, 320), 2).tolist(),
            strict=True,
        )
    )
    assert len(mine) > 10
    assert mine == ref
