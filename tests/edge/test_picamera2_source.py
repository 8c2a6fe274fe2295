"""The picamera2 backend against a fake `picamera2` that behaves as the library does.

The fake (tests/support/fake_picamera2) is put on sys.path for these tests only; its
bench says which cameras are attached, what they see and which calls fail.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import ModuleType

import cv2
import numpy as np
import pytest

from edge.settings import Picamera2Config
from edge.sources import CameraUnavailable, FrameSource, open_source
from tests.support.paths import REPO

FAKE = REPO / "tests" / "support" / "fake_picamera2"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The fake library importable as `picamera2`, with one camera attached."""
    monkeypatch.syspath_prepend(str(FAKE))
    _forget_picamera2()
    import picamera2
    from picamera2._bench import BENCH

    assert isinstance(picamera2, ModuleType) and str(FAKE) in str(picamera2.__file__)
    BENCH.reset()
    yield BENCH
    BENCH.reset()
    _forget_picamera2()  # later tests see no picamera2, as on a machine without it


def _forget_picamera2() -> None:
    for name in [m for m in sys.modules if m == "picamera2" or m.startswith("picamera2.")]:
        del sys.modules[name]


def source(**config: object) -> FrameSource:
    return open_source(Picamera2Config(kind="picamera2", **config), store="s", camera="c")


def test_configures_the_main_stream_as_rgb888_at_the_configured_size(bench) -> None:
    cam = source(size=(320, 240))
    frame = cam.read()
    (config,) = bench.configurations
    assert config["use_case"] == "video"
    assert config["main"] == {"format": "RGB888", "size": (320, 240)}
    assert frame is not None and frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    assert frame.flags.c_contiguous
    cam.close()


def test_rgb888_reaches_the_detector_as_bgr_without_conversion(bench) -> None:
    """The fake lays RGB888 out as [B, G, R] as libcamera does: the backend's frame is
    the scene in OpenCV's BGR order (red third on the left, blue on the right)."""
    cam = source(size=(96, 48))
    frame = cam.read()
    assert frame is not None
    assert frame[24, 5].tolist() == [0, 0, 255]  # red, as BGR
    assert frame[24, 48].tolist() == [0, 255, 0]
    assert frame[24, 90].tolist() == [255, 0, 0]  # blue, as BGR
    scene = cv2.resize(bench.sensors[0].scene, (96, 48), interpolation=cv2.INTER_NEAREST)
    assert np.array_equal(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), scene)
    cam.close()


def test_swap_rb_is_for_stacks_that_deliver_rgb(bench) -> None:
    cam = source(size=(96, 48), swap_rb=True)
    frame = cam.read()
    assert frame is not None
    assert frame[24, 5].tolist() == [255, 0, 0]  # the red third, swapped to B
    assert frame.flags.c_contiguous
    cam.close()


def test_close_releases_the_camera_for_the_next_open_and_twice_is_harmless(bench) -> None:
    first = source()
    assert first.read() is not None
    assert bench.held
    first.close()
    first.close()
    assert not bench.held and bench.closed == 1
    second = source()
    assert second.read() is not None  # not "busy"
    second.close()
    assert bench.opened == 2 and bench.closed == 2


def test_close_still_closes_the_camera_when_stop_fails_once(bench) -> None:
    cam = source()
    assert cam.read() is not None
    bench.stop_failures = 1
    cam.close()
    assert not bench.held  # close() stopped it a second time and released it
    other = source()
    assert other.read() is not None
    other.close()


def test_read_after_close_reopens(bench) -> None:
    cam = source()
    cam.read()
    cam.close()
    assert cam.read() is not None
    assert bench.opened == 2
    cam.close()


def test_no_camera_is_unavailable_with_a_hint_then_reconnects(bench) -> None:
    sensor = bench.unplug()
    cam = source()
    with pytest.raises(CameraUnavailable, match="no camera found"):
        cam.read()
    bench.plug(sensor)
    assert cam.read() is not None
    cam.close()


def test_a_camera_held_elsewhere_is_unavailable_naming_the_cause(bench) -> None:
    from picamera2 import Picamera2

    other = Picamera2()
    cam = source()
    with pytest.raises(CameraUnavailable, match="busy"):
        cam.read()
    other.close()
    assert cam.read() is not None
    cam.close()


@pytest.mark.parametrize("fault", ["refuse_configure", "refuse_start"])
def test_a_failed_start_frees_the_camera_so_the_next_read_reconnects(bench, fault) -> None:
    setattr(bench, fault, True)
    cam = source()
    with pytest.raises(CameraUnavailable, match="cannot start the camera at 640x480"):
        cam.read()
    assert not bench.held  # a leaked camera would be "busy" for ever
    setattr(bench, fault, False)
    assert cam.read() is not None
    cam.close()


def test_a_camera_lost_while_streaming_is_closed_and_reopened_when_back(bench) -> None:
    cam = source()
    assert cam.read() is not None
    sensor = bench.unplug()
    with pytest.raises(CameraUnavailable, match="capture failed"):
        cam.read()
    assert not bench.held
    with pytest.raises(CameraUnavailable, match="no camera found"):
        cam.read()
    bench.plug(sensor)
    frame = cam.read()
    assert frame is not None and frame[0, 0].tolist() == [0, 0, 255]
    assert bench.opened == 2
    cam.close()


def test_the_fake_refuses_what_the_library_refuses(bench) -> None:
    """The fake is only useful if it is as strict as picamera2 where the backend calls it."""
    from picamera2 import Picamera2

    camera = Picamera2()
    with pytest.raises(RuntimeError, match="should be \\(width, height\\)"):
        camera.configure({"main": {"format": "RGB888", "size": [640, 480]}})
    with pytest.raises(RuntimeError, match="Bad format"):
        camera.configure({"main": {"format": "RGB24", "size": (640, 480)}})
    odd = camera.create_video_configuration(main={"format": "RGB888", "size": (641, 481)})
    assert odd["main"]["size"] == (640, 480)
    camera.start(odd)
    with pytest.raises(RuntimeError, match="must be stopped"):
        camera.configure(odd)
    with pytest.raises(RuntimeError, match="'lores' is not defined"):
        camera.capture_array("lores")
    still = camera.create_still_configuration()
    assert still["main"]["format"] == "BGR888" and still["main"]["size"] == (4608, 2592)
    camera.close()
    with pytest.raises(RuntimeError, match="not opened"):
        camera.create_still_configuration()
    bench.sensors.clear()
    with pytest.raises(IndexError):
        Picamera2()
