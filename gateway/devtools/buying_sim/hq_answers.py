"""What the head office answers about the simulated stores: nearby prices and "add" items.

The simulated stores' uplink (`hq_feed`) goes into a real head-office dataset, the head
office's own analytics job (`analytics.refresh`, on a local Dask cluster) computes its
price references and assortment guidance as it does for live stores, and the saved
results are read back as the pages read them.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gateway.devtools.buying_sim.hq_feed import write_dataset
from gateway.devtools.buying_sim.world import World
from gateway.hq import analytics


@dataclass(frozen=True)
class HqAnswers:
    price_references: pd.DataFrame
    """analytics' `price_references`: store, sku, median, stores, ..."""
    assortment_adds: pd.DataFrame
    """analytics' `assortment_adds`: store, rank, sku, evidence, ..."""
    messages: int


def ask_head_office(
    world: World, sales: np.ndarray, workdir: Path | None = None, workers: int = 1
) -> HqAnswers:
    """Feed the simulated days' `sales` (days, 24, stores, skus) to a head office in
    `workdir` (a temporary folder when None) and read its answers."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="shelfsense-buying-sim-") as temp:
            return ask_head_office(world, sales, Path(temp), workers)
    messages = write_dataset(world, sales, 0, workdir)
    analytics.refresh(workdir, analytics.EngineSettings(workers=workers))
    return HqAnswers(
        price_references=analytics.load_result(workdir, "price_references"),
        assortment_adds=analytics.load_result(workdir, "assortment_adds"),
        messages=messages,
    )
