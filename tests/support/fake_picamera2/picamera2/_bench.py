"""The fake camera's hardware, held by the test: attached sensors, what they see, faults.

`BENCH.reset()` gives one attached IMX708 looking at a test card; tests change it to
unplug the camera, make `configure`/`start`/`stop` fail, or paint a scene. A `shelf-node`
subprocess cannot be reached that way: FAKE_PICAMERA2_CAMERAS=0 in its environment starts
it with no camera attached.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def test_card(width: int = 64, height: int = 48) -> np.ndarray:
    """An RGB scene: red left third, green middle, blue right third."""
    scene = np.zeros((height, width, 3), np.uint8)
    third = width // 3
    scene[:, :third, 0] = 255
    scene[:, third : 2 * third, 1] = 255
    scene[:, 2 * third :, 2] = 255
    return scene


@dataclass
class Sensor:
    """One camera module on the ribbon cable."""

    model: str = "imx708"
    id: str = "/base/axi/pcie@120000/rp1/i2c@88000/imx708@1a"
    resolution: tuple[int, int] = (4608, 2592)
    scene: np.ndarray = field(default_factory=test_card)
    """What the lens sees, true R, G, B order, any size (scaled to the stream)."""
    attached: bool = True
    """False: the cable came loose while streaming (captures fail)."""
    holder: Any = None


@dataclass
class Bench:
    sensors: list[Sensor] = field(default_factory=list)
    refuse_configure: bool = False
    refuse_start: bool = False
    stop_failures: int = 0
    """The next this many `stop()` calls fail (the real `close()` stops first, so a stop
    that keeps failing makes it fail too and the camera stays held)."""
    configurations: list[dict[str, Any]] = field(default_factory=list)
    captures: int = 0
    opened: int = 0
    closed: int = 0

    def reset(self) -> None:
        self.sensors = [Sensor() for _ in range(int(os.environ.get("FAKE_PICAMERA2_CAMERAS", "1")))]
        self.refuse_configure = self.refuse_start = False
        self.stop_failures = 0
        self.configurations = []
        self.captures = self.opened = self.closed = 0

    def acquire(self, sensor: Sensor, camera: Any) -> None:
        if sensor.holder is not None:
            raise RuntimeError("Failed to acquire camera: Device or resource busy")
        sensor.holder = camera
        self.opened += 1

    def release(self, sensor: Sensor, camera: Any) -> None:
        if sensor.holder is camera:
            sensor.holder = None
            self.closed += 1

    def unplug(self) -> Sensor:
        """The first camera's cable comes loose: captures fail, and it is not listed."""
        sensor = self.sensors.pop(0)
        sensor.attached = False
        return sensor

    def plug(self, sensor: Sensor) -> None:
        """Plug a camera (back) in; it is listed again."""
        sensor.attached = True
        self.sensors.insert(0, sensor)

    @property
    def held(self) -> bool:
        return any(s.holder is not None for s in self.sensors)


BENCH = Bench()
BENCH.reset()
