"""Reading a YOLO-format detection dataset (data.yaml, images/, labels/) without Ultralytics.

Evaluation, int8 calibration and benchmarks read the same datasets Ultralytics trains on,
so they follow its conventions: `path` in data.yaml is the root (default: the yaml's own
folder), a split is a folder of images or a .txt list of image paths, and each image's
label file is found by swapping the last `images` folder for `labels` and the suffix for
`.txt`. Label lines are `class cx cy w h`, normalised to 0..1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


class DatasetError(ValueError):
    """The dataset is not readable as YOLO format; the message names the file and line."""


@dataclass(frozen=True)
class LabelledImage:
    """One image and its ground truth: xyxy boxes normalised to the image, class ids."""

    path: Path
    boxes: np.ndarray  # (N, 4) float64, x0 y0 x1 y1 in 0..1
    classes: np.ndarray  # (N,) int64


@dataclass(frozen=True)
class Dataset:
    """A data.yaml's class names and where its splits are."""

    yaml_path: Path
    root: Path
    names: list[str]
    splits: dict[str, list[Path]]  # split name -> folders or .txt lists as written

    def images(self, split: str) -> list[Path]:
        """The split's image files, sorted, so every tool sees them in the same order."""
        if split not in self.splits:
            raise DatasetError(f"{self.yaml_path}: no split {split!r} (has {sorted(self.splits)})")
        found: list[Path] = []
        for source in self.splits[split]:
            found.extend(_list_images(source))
        if not found:
            raise DatasetError(f"{self.yaml_path}: split {split!r} holds no images")
        return sorted(found)

    def labelled(self, split: str) -> list[LabelledImage]:
        """Every image of the split with its boxes (an image without a label file has none)."""
        return [read_labels(image, len(self.names)) for image in self.images(split)]


def load_dataset(yaml_path: Path) -> Dataset:
    """Parse a data.yaml; relative paths resolve against its `path`, else its own folder."""
    yaml_path = Path(yaml_path)
    try:
        data = yaml.safe_load(yaml_path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise DatasetError(f"{yaml_path}: cannot read: {error}") from error
    if not isinstance(data, dict):
        raise DatasetError(f"{yaml_path}: expected a mapping with names and splits")
    root = (yaml_path.parent / (data.get("path") or "")).resolve()  # an absolute `path` wins
    names = _names(data.get("names"), yaml_path)
    splits: dict[str, list[Path]] = {}
    for split in ("train", "val", "test"):
        value = data.get(split)
        if value:
            entries = value if isinstance(value, list) else [value]
            splits[split] = [p if p.is_absolute() else root / p for p in map(Path, entries)]
    return Dataset(yaml_path, root, names, splits)


def _names(value: object, source: Path) -> list[str]:
    if isinstance(value, dict):
        return [str(value[k]) for k in sorted(value)]
    if isinstance(value, list):
        return [str(v) for v in value]
    raise DatasetError(f"{source}: `names` must be a list or an id -> name mapping")


def _list_images(source: Path) -> list[Path]:
    if source.is_dir():
        return [p for p in source.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES]
    if source.suffix == ".txt" and source.is_file():
        lines = [line.strip() for line in source.read_text().splitlines() if line.strip()]
        return [(source.parent / line).resolve() for line in lines]
    raise DatasetError(f"{source}: not a folder of images nor a .txt list of them")


def label_path(image: Path) -> Path:
    """`.../images/<split>/x.jpg` -> `.../labels/<split>/x.txt` (Ultralytics' rule)."""
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def read_labels(image: Path, num_classes: int) -> LabelledImage:
    """The boxes of one image; a malformed line is an error naming the file and line."""
    path = label_path(image)
    boxes: list[tuple[float, float, float, float]] = []
    classes: list[int] = []
    lines = path.read_text().splitlines() if path.is_file() else []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            cls = int(fields[0])
            cx, cy, w, h = (float(v) for v in fields[1:5])
        except ValueError as error:
            raise DatasetError(f"{path}:{number}: not `class cx cy w h`: {line!r}") from error
        if len(fields) != 5 or not 0 <= cls < num_classes:
            raise DatasetError(
                f"{path}:{number}: want `class cx cy w h` with class < {num_classes}"
            )
        boxes.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
        classes.append(cls)
    return LabelledImage(
        image,
        np.clip(np.asarray(boxes, np.float64).reshape(-1, 4), 0.0, 1.0),
        np.asarray(classes, np.int64),
    )


def mix_datasets(real_yaml: Path, synthetic_yaml: Path, out: Path) -> Path:
    """A data.yaml that trains on the real train split plus every synthetic image and
    validates on the real val split only (a model is judged on photos, not renders)."""
    real, synthetic = load_dataset(real_yaml), load_dataset(synthetic_yaml)
    if real.names != synthetic.names:
        raise DatasetError(f"{real_yaml}: classes {real.names} differ from {synthetic.names}")
    train = [*real.splits["train"], *synthetic.splits.get("train", [])]
    train += synthetic.splits.get("val", [])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        yaml.safe_dump(
            {
                "path": str(real.root),
                "train": [str(p) for p in train],
                "val": [str(p) for p in real.splits["val"]],
                "names": dict(enumerate(real.names)),
            },
            sort_keys=False,
        )
    )
    return out
