"""What `shelf-model train` asks of Ultralytics, checked without importing torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from models.train import MODEL_YAML, TrainRecipe, starting_point, train, train_arguments


def test_from_scratch_runs_offline_on_the_cpu_under_out(tmp_path: Path) -> None:
    args = train_arguments(TrainRecipe(data=tmp_path / "data.yaml"), tmp_path / "runs", "first")
    assert args["pretrained"] is False
    assert args["plots"] is False and args["amp"] is False and args["device"] == "cpu"
    assert args["project"] == str((tmp_path / "runs").resolve()) and args["name"] == "first"


def test_fine_tuning_keeps_the_checkpoint_weights(tmp_path: Path) -> None:
    best = tmp_path / "best.pt"
    args = train_arguments(TrainRecipe(data=tmp_path / "data.yaml", weights=best), tmp_path)
    assert args["pretrained"] == str(best)


def test_the_model_is_built_from_the_yaml_unless_a_checkpoint_alone_is_given(
    tmp_path: Path,
) -> None:
    data, best, p2 = tmp_path / "data.yaml", tmp_path / "best.pt", tmp_path / "p2.yaml"
    assert starting_point(TrainRecipe(data=data)) == MODEL_YAML
    assert starting_point(TrainRecipe(data=data, model=p2)) == p2
    assert starting_point(TrainRecipe(data=data, weights=best)) == best  # its own architecture
    # A new architecture on a trained one: the yaml is built, the checkpoint's layers that
    # fit are copied in by Ultralytics' trainer from `pretrained`.
    transfer = TrainRecipe(data=data, model=p2, weights=best)
    assert starting_point(transfer) == p2
    assert train_arguments(transfer, tmp_path)["pretrained"] == str(best)


def test_a_missing_checkpoint_is_named(tmp_path: Path) -> None:
    recipe = TrainRecipe(data=tmp_path / "data.yaml", weights=tmp_path / "nope.pt")
    with pytest.raises(FileNotFoundError, match=r"nope\.pt"):
        train(recipe, tmp_path)


def test_importing_the_models_package_loads_neither_torch_nor_ultralytics() -> None:
    code = (
        "import sys, models, models.synth, models.train, models.export, models.cli\n"
        "heavy = {'torch', 'ultralytics'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_step_batch_is_ultralytics_nominal_batch(tmp_path: Path) -> None:
    """Batches accumulate up to `step_batch` images before each optimizer step."""
    recipe = TrainRecipe(data=tmp_path / "data.yaml", batch=16, step_batch=16)
    assert train_arguments(recipe, tmp_path)["nbs"] == 16
    assert train_arguments(TrainRecipe(data=tmp_path / "data.yaml"), tmp_path)["nbs"] == 64
