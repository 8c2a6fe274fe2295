"""Frames rendered from a simulated shelf (`models.synth`): the demo's and the tests' camera.

Each `read()` advances the simulated shelf by the wall time since the previous read times
`speedup` (sales empty slots, staff restock them), then renders it. `models.synth` is
imported lazily here, so a camera node in a store never needs the `models` package.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edge.layout import Layout
from edge.settings import SimulatorConfig
from edge.sources.base import as_bgr


class SimulatorSource:
    """Wraps a `models.synth.SimulatedShelf`; `.layout` is the shelf's true layout."""

    def __init__(
        self,
        shelf: Any,
        *,
        speedup: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shelf = shelf
        self.speedup = speedup
        self._clock = clock
        self._last: float | None = None
        self.last_render: Any = None
        self.sales: list[Any] = []

    @classmethod
    def from_config(cls, config: SimulatorConfig, *, store: str, camera: str) -> SimulatorSource:
        """Build the simulated shelf the config describes (imports `models.synth`)."""
        try:
            from models.synth import SimulatedShelf  # lazy: only the simulator needs it
        except ImportError as error:
            raise RuntimeError(
                "source kind 'simulator' needs the shelfsense 'models' package "
                f"(models.synth): {error}"
            ) from error
        shelf = SimulatedShelf(
            seed=config.seed,
            rows=config.rows,
            slots_per_row=config.slots_per_row,
            size=tuple(config.size),
            store=store,
            camera=camera,
        )
        return cls(shelf, speedup=config.speedup)

    @property
    def layout(self) -> Layout:
        return self.shelf.layout

    @property
    def preferred_model(self) -> Path:
        """The detector trained on rendered shelves: the node runs it on these frames
        unless its config names another (the default model is for real photos)."""
        from models.synth import SYNTHETIC_MODEL

        return SYNTHETIC_MODEL

    def read(self) -> np.ndarray | None:
        now = self._clock()
        if self._last is not None:
            elapsed = max(0.0, now - self._last) * self.speedup
            if elapsed > 0:
                self.sales = list(self.shelf.step(elapsed) or [])
        self._last = now
        self.last_render = self.shelf.render()
        return as_bgr(self.last_render.image, "simulator")

    def close(self) -> None:
        """Nothing to release; the simulated shelf lives on for a later read."""
