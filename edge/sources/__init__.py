"""Camera sources: one module per backend, all behind the tiny contract in `base`.

`BACKENDS` names each backend's class by text, and `open_source` imports only the one a
config asks for: picamera2 exists only on Raspberry Pi OS and OpenCV's capture stack is
heavy, so a node replaying a folder of photos never loads either. Each backend class
builds itself with `from_config(config, store=..., camera=...)`.

May import the node's settings, layout and image decoding; the simulator backend alone
imports the synthetic renderer `models.synth`, lazily, which a store's node never loads.
"""

from __future__ import annotations

import importlib

from edge.contract.config_file import ConfigError
from edge.settings import SourceConfig
from edge.sources.base import CameraUnavailable, FrameError, FrameSource

BACKENDS: dict[str, str] = {
    "picamera2": "edge.sources.picamera2:Picamera2Source",
    "opencv": "edge.sources.opencv:OpenCVSource",
    "folder": "edge.sources.folder:FolderSource",
    "video": "edge.sources.video:VideoSource",
    "simulator": "edge.sources.simulator:SimulatorSource",
}
"""Source `kind` (the config's `source.kind`) -> "module:Class" of its backend."""


def open_source(config: SourceConfig, *, store: str, camera: str) -> FrameSource:
    """Build the backend named by `config.kind`; hardware is not touched until `read()`.

    Raises ConfigError naming the kind and the known ones when no backend has that kind.
    """
    kind = config.kind
    target = BACKENDS.get(kind)
    if target is None:
        raise ConfigError(
            f"source kind {kind!r} has no camera backend (known: {', '.join(sorted(BACKENDS))})"
        )
    module_name, _, class_name = target.partition(":")
    backend = getattr(importlib.import_module(module_name), class_name)
    return backend.from_config(config, store=store, camera=camera)


__all__ = ["BACKENDS", "CameraUnavailable", "FrameError", "FrameSource", "open_source"]
