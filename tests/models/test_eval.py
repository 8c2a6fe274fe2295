"""`shelf-model eval`: the node's detector measured on a YOLO dataset, as Ultralytics would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edge.postprocess import RawDetections
from models.evaluate import SIZE_BUCKETS, average_precision, evaluate, match, match_both_ways
from models.synth import SYNTHETIC_MODEL
from models.tile_dataset import TileGrid
from models.yolo_dataset import DatasetError, LabelledImage, load_dataset
from tests.support.paths import SHARED

BIN = Path(sys.executable).parent


def detections(boxes: list[tuple[float, ...]], scores: list[float], classes: list[int]):
    return RawDetections(
        np.asarray(boxes, np.float32).reshape(-1, 4),
        np.asarray(scores, np.float32),
        np.asarray(classes, np.int64),
    )


def truth(boxes: list[tuple[float, ...]], classes: list[int]) -> LabelledImage:
    return LabelledImage(
        Path("x.jpg"), np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(classes)
    )


def test_a_perfect_detection_scores_ultralytics_perfect_ap() -> None:
    gt = truth([(0.1, 0.1, 0.4, 0.5)], [0])
    correct = match(gt, detections([(0.1, 0.1, 0.4, 0.5)], [0.9], [0]))
    assert correct.all()
    # COCO's 101-point interpolation with Ultralytics' sentinels tops out at 0.995.
    assert average_precision(correct, np.array([0.9]), 1)[0] == pytest.approx(0.995)


def test_each_truth_box_is_claimed_once_best_score_first() -> None:
    gt = truth([(0.0, 0.0, 0.5, 0.5)], [0])
    found = detections([(0.0, 0.0, 0.5, 0.45), (0.0, 0.0, 0.5, 0.5)], [0.5, 0.9], [0, 0])
    correct = match(gt, found)
    # The 0.9 box claims the truth; the 0.5 duplicate is a false positive at every IoU.
    assert correct[1].all() and not correct[0].any()


def test_the_truth_side_of_a_match_says_which_labelled_boxes_were_found() -> None:
    gt = truth([(0.0, 0.0, 0.5, 0.5), (0.6, 0.6, 0.9, 0.9)], [0, 0])
    found = detections([(0.0, 0.0, 0.5, 0.45), (0.0, 0.0, 0.5, 0.5)], [0.5, 0.9], [0, 0])
    correct, claimed = match_both_ways(gt, found)
    assert (correct == match(gt, found)).all()
    assert claimed[0].all() and not claimed[1].any()  # the second box has no detection


def test_a_box_of_the_wrong_class_is_never_a_hit() -> None:
    gt = truth([(0.2, 0.2, 0.6, 0.6)], [1])
    assert not match(gt, detections([(0.2, 0.2, 0.6, 0.6)], [0.99], [0])).any()


def test_a_false_positive_ranked_first_halves_the_precision_envelope() -> None:
    # Ranked: FP (0.9), TP (0.8). Precision at recall 1 is 0.5.
    correct = np.array([[False] * 10, [True] * 10])
    ap = average_precision(correct, np.array([0.9, 0.8]), 1)
    assert ap[0] == pytest.approx(0.5 * 0.995, abs=1e-3)


def test_a_malformed_label_names_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "images" / "val").mkdir(parents=True)
    (tmp_path / "labels" / "val").mkdir(parents=True)
    (tmp_path / "images" / "val" / "a.jpg").write_bytes(b"")
    (tmp_path / "labels" / "val" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n1 0.5 half 0.2 0.2\n")
    (tmp_path / "data.yaml").write_text("train: images/val\nval: images/val\nnames: [gap, messy]\n")
    with pytest.raises(DatasetError, match=r"a\.txt:2"):
        load_dataset(tmp_path / "data.yaml").labelled("val")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic dataset with exact labels, on which the shipped model is good."""
    from models.synth import render_dataset

    return render_dataset(tmp_path_factory.mktemp("rendered"), 80, seed=31)


def test_eval_json_has_the_promised_keys(rendered: Path) -> None:
    out = subprocess.run(
        [
            str(BIN / "shelf-model"),
            "eval",
            "--model",
            str(SYNTHETIC_MODEL),
            "--data",
            str(rendered),
            "--json",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(out)
    assert result["images"] == len(load_dataset(rendered).images("val"))
    assert result["ms_per_image"] > 0
    assert result["model"] == str(SYNTHETIC_MODEL)
    for name in ("gap", "messy"):
        assert set(result[name]) >= {"ap50", "ap50_95", "precision", "recall", "f1"}
    assert result["gap"]["ap50"] > 0.8  # the synthetic detector on synthetic shelves
    for name in ("gap", "messy"):
        # Every labelled box falls in one size bucket, and each hit at the operating
        # point claims one labelled box: the buckets add up to the class's recall.
        row = result[name]
        buckets = row["recall_by_size"]
        assert list(buckets) == [bucket[0] for bucket in SIZE_BUCKETS]
        assert sum(b["instances"] for b in buckets.values()) == row["instances"]
        hits = sum(b["recall"] * b["instances"] for b in buckets.values())
        assert hits == pytest.approx(row["recall"] * row["instances"], abs=0.01)
    sizes = result["gap"]["recall_by_size"]
    assert sum(sizes[b]["instances"] for b in ("32-48px", "48-96px", ">=96px")) > 0
    assert list(sizes)[:3] == ["<16px", "16-24px", "24-32px"]  # fine where detectors fail


def test_ap50_agrees_with_ultralytics_val_on_the_same_onnx(rendered: Path, tmp_path: Path) -> None:
    from models.train import validate

    ours = evaluate(SYNTHETIC_MODEL, rendered, "val")
    theirs = validate(SYNTHETIC_MODEL, rendered, 320, "val", project=tmp_path)
    for name in ("gap", "messy"):
        assert abs(ours[name]["ap50"] - theirs[name]) <= 0.02, (name, ours[name], theirs)


def test_mixing_trains_on_both_and_validates_on_the_real_split_only(tmp_path: Path) -> None:
    from models.synth import render_dataset
    from models.yolo_dataset import mix_datasets

    real = render_dataset(tmp_path / "real", 10, seed=1)  # stands in for photos: same format
    synthetic = render_dataset(tmp_path / "synth", 7, seed=2)
    mixed = load_dataset(mix_datasets(real, synthetic, tmp_path / "mixed.yaml"))
    assert len(mixed.images("train")) == len(load_dataset(real).images("train")) + 7
    assert mixed.images("val") == load_dataset(real).images("val")


SHELF_REAL = SHARED / "datasets" / "shelf-real"


@pytest.mark.skipif(
    not (SHELF_REAL / "data.yaml").is_file(),
    reason=f"the real photo dataset is not at {SHELF_REAL} (it is never in the repo)",
)
def test_on_real_photos_the_default_model_agrees_with_ultralytics(tmp_path: Path) -> None:
    from edge.detector import OnnxDetector
    from models.train import validate

    ours = evaluate(None, SHELF_REAL / "data.yaml", "val")
    model = Path(str(ours["model"]))
    imgsz = OnnxDetector(model, threads=1, warmup_runs=0).input_h
    theirs = validate(model, SHELF_REAL / "data.yaml", imgsz, project=tmp_path)
    assert ours["images"] == 155
    for name in ("gap", "messy"):
        assert abs(ours[name]["ap50"] - theirs[name]) <= 0.02, (name, ours[name], theirs)


def test_a_data_yaml_named_by_a_relative_path_finds_its_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without `path:`, splits are relative to the yaml's folder, however the yaml is named."""
    (tmp_path / "set" / "images" / "val").mkdir(parents=True)
    (tmp_path / "set" / "images" / "val" / "a.jpg").write_bytes(b"")
    (tmp_path / "set" / "data.yaml").write_text("val: images/val\nnames: [gap, messy]\n")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    images = load_dataset(Path("../set/data.yaml")).images("val")
    assert images == [(tmp_path / "set" / "images" / "val" / "a.jpg").resolve()]


def test_eval_prints_a_row_per_class_at_the_thresholds_asked(rendered: Path) -> None:
    out = subprocess.run(
        [
            *(str(BIN / "shelf-model"), "eval", "--model", str(SYNTHETIC_MODEL)),
            *("--data", str(rendered), "--class-conf", "messy=0.3"),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    header, columns, *rows = out.splitlines()
    assert header.endswith("operating threshold 0.35, messy 0.3")
    assert columns.split()[0] == "class"
    assert [row.split()[0] for row in rows if not row.startswith(" ")] == ["gap", "messy"]


def test_eval_on_tiles_runs_the_nodes_tiles_and_reports_them(rendered: Path) -> None:
    whole = evaluate(SYNTHETIC_MODEL, rendered, "val")
    tiled = evaluate(SYNTHETIC_MODEL, rendered, "val", tiles=TileGrid(2, 1, 0.15))
    assert tiled["tiles"] == "2x1" and whole["tiles"] is None
    # Every box is still counted once, and a tile shows it larger than the whole frame did.
    assert tiled["gap"]["instances"] == whole["gap"]["instances"]
    small_whole = whole["gap"]["recall_by_size"]["<16px"]["instances"]
    small_tiled = tiled["gap"]["recall_by_size"]["<16px"]["instances"]
    assert small_tiled <= small_whole
    assert tiled["ms_per_image"] > whole["ms_per_image"]  # two runs a photo, not one
    assert 0.0 < tiled["gap"]["ap50"] <= 1.0


def test_eval_on_tiles_with_the_whole_frame_runs_one_window_more(rendered: Path) -> None:
    tiles_only = evaluate(SYNTHETIC_MODEL, rendered, "val", tiles=TileGrid(2, 1, 0.15))
    with_frame = evaluate(
        SYNTHETIC_MODEL, rendered, "val", tiles=TileGrid(2, 1, 0.15, full_frame=True)
    )
    assert with_frame["tiles"] == "2x1+full"
    assert with_frame["gap"]["instances"] == tiles_only["gap"]["instances"]
    # Sizes are read at the tiles' scale either way, so the buckets hold the same boxes.
    for bucket, figures in tiles_only["gap"]["recall_by_size"].items():
        assert with_frame["gap"]["recall_by_size"][bucket]["instances"] == figures["instances"]
    assert 0.0 < with_frame["gap"]["ap50"] <= 1.0
