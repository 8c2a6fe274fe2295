"""Synthetic shelves: a renderer with exact ground truth and a simulated store shelf.

Imports only numpy and OpenCV (and `edge.layout`), so the demo can use it without torch.
"""

from models.synth.dataset import CLASSES, random_frame, render_dataset
from models.synth.simulated_shelf import Box, RenderedFrame, Sale, SimulatedShelf

__all__ = [
    "CLASSES",
    "Box",
    "RenderedFrame",
    "Sale",
    "SimulatedShelf",
    "random_frame",
    "render_dataset",
]
