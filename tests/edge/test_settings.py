"""The node's config file: strict keys, env secrets, the shipped example, the CLI around it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from edge import cli
from edge.contract.config_file import ConfigError
from edge.contract.schemas import stale_schemas
from edge.settings import FolderConfig, NodeSettings, SimulatorConfig, load_settings
from tests.support.paths import REPO

EXAMPLE = REPO / "firmware_config" / "node.example.yaml"

MINIMAL = """\
store: store-1
camera: cam-1
mqtt:
  url: mqtt://127.0.0.1:1883
  username: store-1/cam-1
  password: ${NODE_TEST_PASSWORD}
source:
  kind: folder
  path: frames
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "node.yaml"
    path.write_text(text)
    return path


def test_example_config_validates() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.store == "store-1" and settings.camera == "cam-1"
    # The shipped broker config: TLS with the camera's own certificate, no password.
    assert settings.mqtt.use_tls and settings.mqtt.port == 8883
    assert settings.mqtt.tls is not None and settings.mqtt.tls.cert_file is not None
    assert settings.mqtt.password is None
    assert settings.source.kind == "picamera2"
    assert settings.client_id == "shelfsense-store-1-cam-1"
    assert settings.outbox_path == Path("/var/lib/shelfsense/outbox-store-1-cam-1.db")


def test_a_config_needs_its_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NODE_TEST_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match=r"mqtt\.password: environment variable"):
        load_settings(write(tmp_path, MINIMAL))


def test_env_secret_substituted_and_relative_paths_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NODE_TEST_PASSWORD", "hunter2")
    extra = "detector: {model: m/det.onnx}\nlayout_file: /etc/layout.yaml\n"
    text = MINIMAL.replace("  password:", "  tls: {ca_file: certs/ca.crt}\n  password:") + extra
    settings = load_settings(write(tmp_path, text))
    assert settings.mqtt.password.get_secret_value() == "hunter2"
    assert isinstance(settings.source, FolderConfig)
    assert settings.source.path == tmp_path / "frames"
    assert settings.mqtt.tls.ca_file == tmp_path / "certs" / "ca.crt"
    assert settings.detector.model == tmp_path / "m" / "det.onnx"
    assert settings.layout_file == Path("/etc/layout.yaml")  # absolute paths stay
    # Defaults are filled in.
    assert settings.mqtt.topic_prefix == "shelfsense"
    assert load_settings(write(tmp_path, MINIMAL)).detector.model is None


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d.update(intervall_s=1), "intervall_s: unknown key"),
        (lambda d: d["mqtt"].update(passwd="x"), "mqtt.passwd: unknown key"),
        (lambda d: d["source"].update(loops=True), "source.folder.loops: unknown key"),
        (lambda d: d.update(detector={"confidence": "high"}), "detector.confidence:"),
        (lambda d: d.update(detector={"treads": 2}), "detector.treads: unknown key"),
        (lambda d: d["mqtt"].update(url="http://broker:1883"), "mqtt.url:"),
        (lambda d: d["mqtt"].update(url="mqtt://broker:notaport"), "mqtt.url:"),
        (lambda d: d.update(source={"kind": "webcam"}), "source:"),
        (lambda d: d.update(camera="cam 1"), "camera:"),
        (lambda d: d.update(analysis={"empty_fraction": 0.1, "low_fraction": 0.3}), "analysis:"),
    ],
)
def test_bad_keys_and_values_name_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit, key: str
) -> None:
    monkeypatch.setenv("NODE_TEST_PASSWORD", "x")
    data = yaml.safe_load(MINIMAL)
    edit(data)
    path = write(tmp_path, yaml.safe_dump(data))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(path) in str(caught.value)
    assert key in str(caught.value)


def test_simulator_source_and_mqtts_default_port() -> None:
    settings = NodeSettings.model_validate(
        {
            "store": "s",
            "camera": "c",
            "mqtt": {"url": "mqtts://gw.local"},
            "source": {"kind": "simulator", "seed": 4, "speedup": 600},
        }
    )
    assert isinstance(settings.source, SimulatorConfig)
    assert settings.source.rows == 3 and settings.source.speedup == 600
    assert settings.mqtt.port == 8883 and settings.mqtt.use_tls


def test_json_schema_files_are_up_to_date() -> None:
    assert stale_schemas() == []
    assert cli.main(["schema", "--check"]) == 0


def test_check_config_prints_effective_config_with_password_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.edge_nodes import constant_model, yolo_output

    model = constant_model(tmp_path / "m.onnx", yolo_output([(1, 1, 1, 1)], [[0.1, 0.1]]))
    monkeypatch.setenv("NODE_TEST_PASSWORD", "hunter2")
    path = write(tmp_path, MINIMAL + f"detector:\n  model: {model}\n")
    assert cli.main(["check-config", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out
    effective = yaml.safe_load(out)
    assert effective["mqtt"]["password"] == "**********"
    assert effective["mqtt"]["keepalive_s"] == 30
    assert effective["source"]["path"] == str(tmp_path / "frames")


def test_config_errors_exit_2_without_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "store: s\ncamera: c\nsource: {kind: folder, path: x}\nfoo: 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "edge.cli", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"{path}: foo: unknown key" in result.stderr
    assert "Traceback" not in result.stderr

    missing_model = write(
        tmp_path,
        "store: s\ncamera: c\nsource: {kind: folder, path: x}\ndetector: {model: m.onnx}\n",
    )
    assert cli.main(["check-config", "--config", str(missing_model)]) == 2
    assert cli.main(["run", "--config", str(tmp_path / "absent.yaml")]) == 2


def test_help_tells_an_installer_where_to_start() -> None:
    text = cli.build_parser().format_help()
    assert "firmware_config/node.example.yaml" in text
    assert "exit codes" in text and "check-config" in text


def test_check_config_names_an_outbox_folder_it_cannot_create(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from edge import cli

    monkeypatch.setenv("NODE_TEST_PASSWORD", "x")
    (tmp_path / "a-file").write_text("")
    path = write(tmp_path, MINIMAL + "data_dir: a-file/data\n")
    assert cli.main(["check-config", "--config", str(path)]) == 2
    assert "data_dir / outbox.path: cannot create the outbox" in capsys.readouterr().err
