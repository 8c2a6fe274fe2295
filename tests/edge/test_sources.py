"""Camera sources replay real files; failures are counted by the node, never fatal."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.contract.messages import EventType, SlotStatus
from edge.node import CameraNode
from edge.settings import FolderConfig, NodeSettings, OpenCVConfig, VideoConfig
from edge.sources import CameraUnavailable, FrameError, FrameSource, open_source
from edge.sources.folder import FolderSource
from edge.sources.opencv import OpenCVSource, redact
from edge.sources.video import VideoSource
from tests.support.edge_nodes import constant_model, yolo_output
from tests.support.paths import REPO


def solid(value: int, size: tuple[int, int] = (64, 48)) -> np.ndarray:
    w, h = size
    return np.full((h, w, 3), value, np.uint8)


def write_images(folder: Path, values: list[int]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, value in enumerate(values):
        path = folder / f"frame-{i:03d}.png"
        assert cv2.imwrite(str(path), solid(value))
        paths.append(path)
    return paths


def write_video(path: Path, values: list[int], size: tuple[int, int] = (64, 48)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, size)
    assert writer.isOpened()
    for value in values:
        writer.write(solid(value, size))
    writer.release()
    return path


def mean(frame: np.ndarray | None) -> int:
    assert frame is not None and frame.dtype == np.uint8 and frame.shape[2] == 3
    return round(float(frame.mean()))


def test_folder_source_replays_in_name_order_and_loops(tmp_path: Path) -> None:
    write_images(tmp_path / "f", [10, 60, 110])
    (tmp_path / "f" / "notes.txt").write_text("not an image")
    source = open_source(FolderConfig(kind="folder", path=tmp_path / "f"), store="s", camera="c")
    assert isinstance(source, FrameSource)
    assert [mean(source.read()) for _ in range(7)] == [10, 60, 110, 10, 60, 110, 10]


def test_folder_source_without_loop_ends(tmp_path: Path) -> None:
    write_images(tmp_path / "f", [10, 60])
    source = FolderSource(tmp_path / "f", loop=False, pattern="frame-*.png")
    assert [mean(source.read()), mean(source.read())] == [10, 60]
    assert source.read() is None and source.read() is None
    assert source.finished


def test_folder_source_corrupt_file_raises_frame_error_then_goes_on(tmp_path: Path) -> None:
    write_images(tmp_path / "f", [10, 60])
    (tmp_path / "f" / "frame-000b.png").write_bytes(b"\x89PNG truncated garbage")
    source = FolderSource(tmp_path / "f")
    assert mean(source.read()) == 10
    with pytest.raises(FrameError, match=r"frame-000b\.png"):
        source.read()
    assert mean(source.read()) == 60


def test_missing_or_empty_folder_is_camera_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CameraUnavailable, match="does not exist"):
        FolderSource(tmp_path / "nope").read()
    (tmp_path / "empty").mkdir()
    source = FolderSource(tmp_path / "empty")
    with pytest.raises(CameraUnavailable, match="no image files"):
        source.read()
    write_images(tmp_path / "empty", [99])  # the camera "comes back"
    assert mean(source.read()) == 99


def test_video_source_replays_and_loops(tmp_path: Path) -> None:
    video = write_video(tmp_path / "shelf.avi", [20, 120, 220])
    source = open_source(VideoConfig(kind="video", path=video), store="s", camera="c")
    got = [mean(source.read()) for _ in range(6)]
    assert got == pytest.approx([20, 120, 220, 20, 120, 220], abs=3)
    source.close()


def test_video_source_without_loop_ends_and_missing_file_is_unavailable(tmp_path: Path) -> None:
    video = write_video(tmp_path / "shelf.avi", [20, 220])
    source = VideoSource(video, loop=False)
    assert source.read() is not None and source.read() is not None
    assert source.read() is None and source.finished
    with pytest.raises(CameraUnavailable):
        VideoSource(tmp_path / "missing.avi").read()
    (tmp_path / "bad.avi").write_bytes(b"garbage" * 100)
    with pytest.raises(CameraUnavailable):
        VideoSource(tmp_path / "bad.avi").read()


def test_opencv_source_reads_a_stream_and_reconnects_after_failure(tmp_path: Path) -> None:
    # OpenCV opens a file path like a stream URL; at its end a read fails like a dropped
    # RTSP feed, and the next read reconnects.
    video = write_video(tmp_path / "stream.avi", [30, 130])
    source = open_source(OpenCVConfig(kind="opencv", device=str(video)), store="s", camera="c")
    assert isinstance(source, OpenCVSource)
    assert [mean(source.read()), mean(source.read())] == pytest.approx([30, 130], abs=3)
    with pytest.raises(CameraUnavailable, match="will reconnect"):
        source.read()
    assert mean(source.read()) == pytest.approx(30, abs=3)
    assert source.reconnects == 2
    source.close()


def test_opencv_source_unreachable_stream_is_unavailable_with_password_hidden() -> None:
    source = OpenCVSource("rtsp://admin:secret@127.0.0.1:1/none")
    with pytest.raises(CameraUnavailable) as caught:
        source.read()
    assert "secret" not in str(caught.value)
    assert redact("rtsp://admin:secret@cam/x") == "rtsp://admin:***@cam/x"


def test_node_counts_a_corrupt_image_and_keeps_going(tmp_path: Path) -> None:
    write_images(tmp_path / "f", [10, 60, 110])
    (tmp_path / "f" / "frame-001b.jpg").write_bytes(b"\xff\xd8 broken jpeg")
    settings = NodeSettings.model_validate(
        {
            "store": "s1",
            "camera": "c1",
            "mqtt": {"url": "mqtt://127.0.0.1:1"},  # never started: publishing is skipped
            "data_dir": str(tmp_path / "data"),
            "source": {"kind": "folder", "path": str(tmp_path / "f"), "loop": False},
            "detector": {
                "model": str(
                    constant_model(tmp_path / "m.onnx", yolo_output([(5, 5, 2, 2)], [[0.0, 0.0]]))
                ),
                "threads": 1,
            },
        }
    )
    node = CameraNode(settings)
    results = [node.tick() for _ in range(6)]
    assert results == [True, True, False, True, True, True]  # the last two: source ended
    assert node.health.frames_processed == 3 and node.health.frames_failed == 1
    assert node.health.camera_ok  # a bad file is not a lost camera
    assert "frame-001b.jpg" in (node.health.last_error or "")
    health = node.health.snapshot()
    assert health.frames_failed == 1 and health.inference_ms is not None


def test_node_survives_a_vanished_camera_with_backoff(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    write_images(folder, [10])
    settings = NodeSettings.model_validate(
        {
            "store": "s1",
            "camera": "c1",
            "interval_s": 0.01,
            "mqtt": {"url": "mqtt://127.0.0.1:1"},
            "data_dir": str(tmp_path / "data"),
            "source": {"kind": "folder", "path": str(folder)},
            "detector": {
                "model": str(
                    constant_model(tmp_path / "m.onnx", yolo_output([(5, 5, 2, 2)], [[0.0, 0.0]]))
                ),
                "threads": 1,
            },
        }
    )
    node = CameraNode(settings)
    assert node.tick()
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    assert not node.tick() and not node.tick() and not node.tick()
    assert not node.health.camera_ok and node.health.frames_failed == 3
    assert node.backoff_s() == pytest.approx(0.04)  # 0.01 doubled per failure in a row
    write_images(folder, [200])
    assert node.tick() and node.health.camera_ok and node.health.consecutive_failures == 0

    # run() on a source that raises every time keeps going until stopped.
    stop = threading.Event()
    folder_gone = tmp_path / "gone"
    node.source = FolderSource(folder_gone)
    runner = threading.Thread(target=node.run, args=(stop,))
    runner.start()
    threading.Timer(0.5, stop.set).start()
    runner.join(10)
    assert not runner.is_alive()
    assert node.health.frames_failed > 3


def test_simulator_source_advances_the_shelf_by_elapsed_time_times_speedup() -> None:
    from edge.settings import SimulatorConfig
    from edge.sources.simulator import SimulatorSource
    from tests.support.edge_nodes import simulated_shelf

    config = SimulatorConfig(kind="simulator", seed=2, rows=2, slots_per_row=4, speedup=3600)
    source = open_source(config, store="s1", camera="c1")
    assert isinstance(source, SimulatorSource)
    assert len(source.layout.rows) == 2
    assert all(len(row.slots) == 4 for row in source.layout.rows)
    frame = source.read()
    assert frame is not None and frame.shape == (480, 640, 3) and frame.dtype == np.uint8

    # An existing shelf (as the demo builds them) with a controlled clock.
    now = [100.0]
    shelf = simulated_shelf(seed=2)
    steps: list[float] = []
    original_step = shelf.step

    def recording_step(seconds: float):
        steps.append(seconds)
        return original_step(seconds)

    shelf.step = recording_step
    source = SimulatorSource(shelf, speedup=60.0, clock=lambda: now[0])
    assert source.layout is shelf.layout
    source.read()
    now[0] += 2.5
    source.read()
    now[0] += 0.5
    source.read()
    assert steps == pytest.approx([150.0, 30.0])
    assert source.last_render.image.shape[:2] == (480, 640)


def test_picamera2_source_without_picamera2_is_unavailable_with_install_hint() -> None:
    import importlib.util

    from edge.settings import Picamera2Config

    if importlib.util.find_spec("picamera2") is not None:
        pytest.skip("picamera2 is installed here; this checks the missing-library path")
    source = open_source(Picamera2Config(kind="picamera2"), store="s", camera="c")
    with pytest.raises(CameraUnavailable, match="apt install python3-picamera2"):
        source.read()
    source.close()


def test_every_source_kind_of_the_config_has_a_backend_class() -> None:
    import importlib
    from typing import get_args

    from edge.settings import SourceConfig
    from edge.sources import BACKENDS

    union, _ = get_args(SourceConfig)
    kinds = {get_args(model.model_fields["kind"].annotation)[0] for model in get_args(union)}
    assert kinds == set(BACKENDS)
    for kind, target in BACKENDS.items():
        module_name, _, class_name = target.partition(":")
        backend = getattr(importlib.import_module(module_name), class_name)
        assert callable(backend.from_config), kind


def test_unknown_source_kind_is_a_config_error_naming_it_and_the_known_ones(
    tmp_path: Path,
) -> None:
    from edge.contract.config_file import ConfigError

    # A config section whose kind no backend has (validation would refuse it first).
    config = FolderConfig.model_construct(kind="thermal", path=tmp_path)
    with pytest.raises(ConfigError, match=r"'thermal'.*folder, opencv, picamera2, simulator"):
        open_source(config, store="s", camera="c")


def test_opening_a_folder_source_imports_no_camera_backend(tmp_path: Path) -> None:
    import subprocess
    import sys

    write_images(tmp_path / "f", [10])
    script = (
        "import sys\n"
        "from edge.settings import FolderConfig\n"
        "from edge.sources import open_source\n"
        f"source = open_source(FolderConfig(kind='folder', path={str(tmp_path / 'f')!r}),"
        " store='s', camera='c')\n"
        "assert source.read() is not None\n"
        "loaded = ('picamera2', 'edge.sources.picamera2', 'edge.sources.opencv')\n"
        "print(sorted(name for name in loaded if name in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_node_uses_its_local_layout_file_until_the_gateway_sends_one(tmp_path: Path) -> None:
    from edge.settings import load_layout

    layout_file = REPO / "firmware_config/layouts/store-1-cam-1.yaml"
    write_images(tmp_path / "f", [10])
    # A gap over the whole frame: every slot of the layout reads empty.
    gap_everywhere = yolo_output([(96, 64, 192, 128)], [[0.9, 0.0]])
    settings = NodeSettings.model_validate(
        {
            "store": "store-1",
            "camera": "cam-1",
            "mqtt": {"url": "mqtt://127.0.0.1:1"},
            "data_dir": str(tmp_path / "data"),
            "source": {"kind": "folder", "path": str(tmp_path / "f")},
            "detector": {"model": str(constant_model(tmp_path / "m.onnx", gap_everywhere))},
            "analysis": {"confirm_frames": 1},
            "layout_file": str(layout_file),
        }
    )
    node = CameraNode(settings)
    layout = load_layout(layout_file)
    assert node.layout is not None and node.layout_version == layout.version
    state, events = node.process(node.source.read())
    assert state.layout_version == layout.version and state.seq == 1
    assert [(s.row, s.slot) for s in state.slots] == [
        (r.index, s.index) for r, s, _ in layout.slot_boxes()
    ]
    assert {s.status for s in state.slots} == {SlotStatus.EMPTY}
    assert state.slots[0].sku == layout.rows[0].slots[0].sku
    assert [d.label for d in state.detections] == ["gap"]
    # First sight of an empty shelf is news, once per slot; the next frame is not.
    assert len(events) == len(state.slots)
    assert {e.type for e in events} == {EventType.GAP_OPENED}
    assert node.process(node.source.read())[1] == []
