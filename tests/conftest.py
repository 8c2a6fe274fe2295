"""Shared fixtures: real brokers on free loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import chromium
from tests.support.services import Mosquitto, running_mosquitto


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh real Mosquitto broker; `mosquitto.url` is `mqtt://127.0.0.1:<port>`."""
    with running_mosquitto(tmp_path / "mosquitto") as broker:
        yield broker


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One real Chromium per test module (see `tests.support.browser`)."""
    with chromium() as launched:
        yield launched
