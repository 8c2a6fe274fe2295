"""A stand-in for the `picamera2` library, so the picamera2 backend runs without a Pi.

Only tests put `tests/support/fake_picamera2` on `sys.path` (or PYTHONPATH, for a
`shelf-node` subprocess); nothing ships it. It follows the real library
(github.com/raspberrypi/picamera2, picamera2/picamera2.py and request.py) where the
backend touches it:

- `Picamera2(camera_num=0)` acquires the camera for this process: with no camera
  attached, `global_camera_info()[camera_num]` raises IndexError as the real one does;
  a camera another `Picamera2` still holds raises RuntimeError("Camera __init__ sequence
  did not complete.") (libcamera: "Device or resource busy"). Only `close()` frees it.
- `create_still_configuration` / `create_video_configuration(main={...})` merge `main`
  over the defaults (BGR888 stills, XBGR8888 video) and round odd sizes down to even
  (`align_stream(optimal=False)`); `configure` checks the stream as
  `check_stream_config` does and refuses while started; `start` configures "preview"
  when nothing was configured; `stop` on a stopped camera and `close` on a closed one
  do nothing; `close` stops first.
- `capture_array("main")` returns a fresh (H, W, C) uint8 copy in the stream's memory
  order: "RGB888" is [B, G, R] per pixel (request.py maps it to PIL mode "BGR"),
  "BGR888" is [R, G, B], "XBGR8888" is [R, G, B, 255] and "XRGB8888" [B, G, R, 255].

Where the real library would wait for ever (capturing from a stopped camera, a sensor
that stopped streaming) the fake raises RuntimeError instead, so a test cannot hang.
The bench (`picamera2._bench.BENCH`) is the test's hand on the hardware: which cameras
are attached, what they see (an RGB scene), and faults to inject.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from picamera2._bench import BENCH, Sensor

__all__ = ["Picamera2"]

RGB_FORMATS = ("RGB888", "BGR888", "XBGR8888", "XRGB8888")
YUV_FORMATS = ("YUV420", "YVU420", "YUYV", "UYVY")


def _stream(defaults: dict[str, Any], given: dict[str, Any] | None) -> dict[str, Any] | None:
    """`_make_initial_stream_config`: the caller's keys over the defaults (None: no stream)."""
    if given is None:
        return None
    stream = dict(defaults)
    stream.update(given)
    return stream


def _align(stream: dict[str, Any]) -> None:
    """`align_stream(optimal=False)`: width and height rounded down to even."""
    width, height = stream["size"]
    stream["size"] = (width - width % 2, height - height % 2)


def _check_stream(stream: Any, name: str) -> None:
    """`check_stream_config`, for the non-raw streams."""
    if type(stream) is not dict:
        raise RuntimeError(name + " stream should be a dictionary")
    if "format" not in stream:
        raise RuntimeError("format not found in " + name + " stream")
    if "size" not in stream:
        raise RuntimeError("size not found in " + name + " stream")
    fmt = stream["format"]
    if type(fmt) is not str:
        raise RuntimeError("format in " + name + " stream should be a string")
    if fmt not in RGB_FORMATS + YUV_FORMATS and fmt != "MJPEG":
        raise RuntimeError("Bad format " + fmt + " in stream " + name)
    size = stream["size"]
    if type(size) is not tuple or len(size) != 2:
        raise RuntimeError("size in " + name + " stream should be (width, height)")
    if size[0] % 2 or size[1] % 2:
        raise RuntimeError("width and height should be even")


def _memory_order(rgb: np.ndarray, fmt: str) -> np.ndarray:
    """The scene (true R, G, B) laid out as libcamera writes `fmt` into the buffer."""
    if fmt == "RGB888":
        return rgb[..., ::-1]
    if fmt == "BGR888":
        return rgb
    alpha = np.full((*rgb.shape[:2], 1), 255, np.uint8)
    if fmt == "XBGR8888":
        return np.concatenate([rgb, alpha], axis=2)
    if fmt == "XRGB8888":
        return np.concatenate([rgb[..., ::-1], alpha], axis=2)
    raise RuntimeError(f"the fake picamera2 does not render {fmt}")


class Picamera2:
    """One opened camera (see the module docstring for what is faithful)."""

    def __init__(self, camera_num: int = 0, tuning: Any = None) -> None:
        self.is_open = False
        self.started = False
        self.camera_config: dict[str, Any] | None = None
        sensor_num = self.global_camera_info()[camera_num]["Num"]
        self._sensor: Sensor = BENCH.sensors[sensor_num]
        try:
            BENCH.acquire(self._sensor, self)
        except Exception as error:
            raise RuntimeError("Camera __init__ sequence did not complete.") from error
        self.is_open = True
        self.camera_num = sensor_num

    @staticmethod
    def global_camera_info() -> list[dict[str, Any]]:
        return [
            {"Model": s.model, "Location": 2, "Rotation": 0, "Id": s.id, "Num": n}
            for n, s in enumerate(BENCH.sensors)
        ]

    @property
    def camera_properties(self) -> dict[str, Any]:
        return {"Model": self._sensor.model, "PixelArraySize": self._sensor.resolution}

    def _opened(self) -> None:
        if not self.is_open:
            raise RuntimeError("Camera not opened")

    def create_preview_configuration(
        self, main: dict[str, Any] | None = None, buffer_count: int = 4, **kwargs: Any
    ) -> dict[str, Any]:
        return self._configuration(main, "preview", (640, 480), "XBGR8888", buffer_count, kwargs)

    def create_still_configuration(
        self, main: dict[str, Any] | None = None, buffer_count: int = 1, **kwargs: Any
    ) -> dict[str, Any]:
        full = self._sensor.resolution
        return self._configuration(main, "still", full, "BGR888", buffer_count, kwargs)

    def create_video_configuration(
        self, main: dict[str, Any] | None = None, buffer_count: int = 6, **kwargs: Any
    ) -> dict[str, Any]:
        return self._configuration(main, "video", (1280, 720), "XBGR8888", buffer_count, kwargs)

    def _configuration(
        self,
        main: dict[str, Any] | None,
        use_case: str,
        size: tuple[int, int],
        fmt: str,
        buffer_count: int,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        self._opened()
        stream = _stream({"format": fmt, "size": size}, {} if main is None else main)
        assert stream is not None
        _align(stream)
        return {
            "use_case": use_case,
            "buffer_count": buffer_count,
            "main": stream,
            "lores": extra.get("lores"),
            "controls": extra.get("controls", {}),
        }

    def configure(self, camera_config: dict[str, Any] | str | None = None) -> None:
        self._opened()
        if self.started:
            raise RuntimeError("Camera must be stopped before configuring")
        if camera_config is None or isinstance(camera_config, str):
            camera_config = self.create_preview_configuration()
        _check_stream(camera_config.get("main"), "main")
        if BENCH.refuse_configure:
            raise RuntimeError(f"Configuration failed: {camera_config}")
        self.camera_config = camera_config
        BENCH.configurations.append(camera_config)

    def start(self, config: dict[str, Any] | None = None, show_preview: bool = False) -> None:
        self._opened()
        if not self.camera_config and config is None:
            config = self.create_preview_configuration()
        if config is not None:
            self.configure(config)
        if self.started:
            return
        if BENCH.refuse_start:
            raise RuntimeError("Failed to start camera: Input/output error")
        self.started = True

    def capture_array(self, name: str = "main", wait: Any = None) -> np.ndarray:
        self._opened()
        stream = (self.camera_config or {}).get(name)
        if stream is None:
            raise RuntimeError(f"Stream {name!r} is not defined")
        if not self.started:
            raise RuntimeError("fake picamera2: capture from a stopped camera (the real one waits)")
        if not self._sensor.attached:
            raise RuntimeError(
                "fake picamera2: no frames (sensor unplugged; the real one times out)"
            )
        width, height = stream["size"]
        scene = self._sensor.scene
        rows = np.arange(height) * scene.shape[0] // height
        cols = np.arange(width) * scene.shape[1] // width
        frame = np.ascontiguousarray(_memory_order(scene[rows][:, cols], stream["format"]))
        BENCH.captures += 1
        return frame

    def stop(self) -> None:
        if not self.started:
            return
        if BENCH.stop_failures > 0:
            BENCH.stop_failures -= 1
            raise RuntimeError("Camera stop failed: Device or resource busy")
        self.started = False

    def close(self) -> None:
        if not self.is_open:
            return
        self.stop()
        BENCH.release(self._sensor, self)
        self.is_open = False
        self.camera_config = {}
