"""Synthetic shelves: a renderer with exact ground truth and a simulated store shelf.

Imports only numpy and OpenCV (and `edge.layout`), so the demo and the simulator camera
source can use it without torch (checked by `make lint`).
"""

from pathlib import Path

from models.synth.dataset import CLASSES, random_frame, render_dataset
from models.synth.simulated_shelf import Box, RenderedFrame, Sale, SimulatedShelf

SYNTHETIC_MODEL = Path(__file__).resolve().parent.parent / "shelfsense-synth.onnx"
"""The detector trained on this renderer's shelves: what simulated cameras run (the demo,
`simulate`), whatever the node's default model for real photos is."""

__all__ = [
    "CLASSES",
    "SYNTHETIC_MODEL",
    "Box",
    "RenderedFrame",
    "Sale",
    "SimulatedShelf",
    "random_frame",
    "render_dataset",
]
