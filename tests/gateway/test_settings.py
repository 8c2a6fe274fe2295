"""Gateway config: strict keys, secrets, paths, the shipped example, and the CLI's handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.contract.config_file import ConfigError
from edge.layout import Layout, gtin_check_digit_ok
from gateway.cli import main as cli
from gateway.config.layouts import load_layouts, read_layouts
from gateway.config.settings import GatewaySettings, load_settings
from tests.support.paths import REPO

EXAMPLE = REPO / "firmware_config" / "gateway.example.yaml"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_match_the_documented_ones() -> None:
    settings = GatewaySettings()
    assert settings.mqtt.client_id == "shelfsense-gateway"
    assert settings.mqtt.topic_prefix == "shelfsense"
    assert (settings.mqtt.host, settings.mqtt.port) == ("127.0.0.1", 1883)
    assert settings.http.port == 8080
    assert settings.max_payload_bytes == 64 * 1024


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("mqtt:\n  clientid: x\n", "mqtt.clientid: unknown key"),
        ("http:\n  hots: 0.0.0.0\n", "http.hots: unknown key"),
        ("mqtt:\n  tls:\n    ca: /x\n", "mqtt.tls.ca: unknown key"),
        ("layouts:\n  - {store: s, camera: c, path: x.yaml}\n", "layouts.0.path: unknown key"),
        ("datadir: /tmp\n", "datadir: unknown key"),
        ("mqtt:\n  url: http://broker:1883\n", "mqtt.url"),
        ("mqtt:\n  url: mqtt://broker:99999\n", "mqtt.url"),
        ("http:\n  port: 0\n", "http.port"),
        ("max_payload_bytes: 10\n", "max_payload_bytes"),
        ("layouts:\n  - {store: 's/1', camera: c, file: x.yaml}\n", "layouts.0.store"),
        ("advice:\n  restok_grace_min: 1\n", "advice.restok_grace_min: unknown key"),
        ("advice:\n  interval_s: 0\n", "advice.interval_s"),
        ("advice:\n  high_units: 0.5\n", "high_units must not be less than medium_units"),
    ],
)
def test_errors_name_the_file_and_key(tmp_path: Path, yaml_text: str, expected: str) -> None:
    path = write(tmp_path / "gateway.yaml", yaml_text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_a_camera_listed_twice_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path / "gateway.yaml",
        "layouts:\n  - {store: s, camera: c, file: a.yaml}\n  - {store: s, camera: c, file: b.yaml}\n",
    )
    with pytest.raises(ConfigError, match="s/c is listed twice"):
        load_settings(path)


def test_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "gateway.yaml", "mqtt:\n  username: gateway\n  password: ${GW_PW}\n")
    monkeypatch.delenv("GW_PW", raising=False)
    with pytest.raises(ConfigError, match=r"mqtt\.password: environment variable GW_PW is not set"):
        load_settings(path)
    monkeypatch.setenv("GW_PW", "s3cret")
    settings = load_settings(path)
    assert settings.mqtt.password is not None
    assert settings.mqtt.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "etc" / "gateway.yaml",
        "data_dir: data\nmqtt:\n  url: mqtts://gw.local\n  tls: {ca_file: certs/ca.crt}\n"
        "layouts:\n  - {store: s, camera: c, file: layouts/c.yaml}\n",
    )
    settings = load_settings(path)
    base = path.parent.resolve()
    assert settings.data_dir == base / "data"
    assert settings.layouts[0].file == base / "layouts" / "c.yaml"
    assert settings.mqtt.tls is not None and settings.mqtt.tls.ca_file == base / "certs" / "ca.crt"
    assert (settings.mqtt.port, settings.mqtt.use_tls) == (8883, True)


def test_a_bad_layout_file_names_file_and_key(tmp_path: Path) -> None:
    write(
        tmp_path / "bad.yaml",
        "rows:\n  - index: 0\n    y0: 0\n    y1: 1\n    slots:\n"
        "      - {index: 0, x0: 0, x1: 1, sku: '4006381333932'}\n",
    )
    path = write(tmp_path / "gateway.yaml", "layouts:\n  - {store: s, camera: c, file: bad.yaml}\n")
    with pytest.raises(ConfigError) as caught:
        load_layouts(load_settings(path))
    message = str(caught.value)
    assert "layout of s/c" in message
    assert "bad.yaml" in message
    assert "rows.0.slots.0.sku" in message


def test_the_example_config_and_its_layout_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELFSENSE_MQTT_PASSWORD", "example")
    settings = load_settings(EXAMPLE)
    assert settings.mqtt.url.startswith("mqtt://")
    assert settings.layouts, "the example should show a layout entry"
    found = read_layouts(settings)
    assert found.layouts and not found.problems
    for key, file in found.files.items():
        assert file.is_file()
        assert file.is_relative_to(REPO / "firmware_config")
        layout = found.layouts[key]
        assert isinstance(layout, Layout)
        skus = [slot.sku for _, slot, _ in layout.slot_boxes()]
        assert skus and all(sku is not None and gtin_check_digit_ok(sku) for sku in skus)


def test_check_config_reports_ok(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHELFSENSE_MQTT_PASSWORD", "example")
    assert cli.main(["check-config", "--config", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out
    assert "store-1/cam-1" in out


@pytest.mark.parametrize("command", [["check-config"], ["run"], []])
def test_config_errors_exit_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    path = write(tmp_path / "gateway.yaml", "mqtt:\n  clientid: x\n")
    # [] checks that `shelf-gateway --config FILE` means `run`.
    assert cli.main([*command, "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "mqtt.clientid: unknown key" in err
    assert "Traceback" not in err


def test_a_missing_config_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--config", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml: cannot read" in capsys.readouterr().err


def test_commands_are_registered_as_subparsers() -> None:
    names = [c.name for c in cli.commands()]
    assert names[:2] == ["run", "check-config"]
    parser = cli.build_parser(cli.commands())
    args = parser.parse_args(["check-config", "--config", "x.yaml"])
    assert args.handler is cli.BUILTIN_COMMANDS[1].handler
    assert args.config == Path("x.yaml")


# ---- a layouts folder (issue 21, item 9) ---------------------------------------------

LAYOUT_EXAMPLE = REPO / "firmware_config" / "layouts" / "store-1-cam-1.yaml"
BAD_GTIN_LAYOUT = (
    "rows:\n  - index: 0\n    y0: 0\n    y1: 1\n    slots:\n"
    "      - {index: 0, x0: 0, x1: 1, sku: '4006381333932'}\n"
)


def layouts_folder(base: Path) -> Path:
    """A folder as an installer fills it: two cameras of store-1, one of a store whose id
    has a hyphen, a README that is no layout."""
    folder = base / "layouts"
    good = LAYOUT_EXAMPLE.read_text(encoding="utf-8")
    for name in ("store-1-cam-1.yaml", "store-1-cam-2.yml", "main-street-entrance.yaml"):
        write(folder / name, good)
    write(folder / "README.md", "one file per camera\n")
    return folder


@pytest.mark.parametrize(
    "section",
    [
        "layouts: {dir: layouts/}\n",
        "layouts: {glob: 'layouts/*.y*ml'}\n",
        "layouts:\n  - dir: layouts\n",
    ],
)
def test_a_layouts_folder_loads_every_store_camera_file(tmp_path: Path, section: str) -> None:
    layouts_folder(tmp_path)
    settings = load_settings(write(tmp_path / "gateway.yaml", section))
    layouts = load_layouts(settings)
    assert sorted(layouts) == [
        ("main-street", "entrance"),
        ("store-1", "cam-1"),
        ("store-1", "cam-2"),
    ]
    assert all(isinstance(layout, Layout) for layout in layouts.values())


def test_a_folder_may_name_its_store_for_camera_ids_with_hyphens(tmp_path: Path) -> None:
    write(tmp_path / "layouts" / "store-1-cam-left.yaml", LAYOUT_EXAMPLE.read_text())
    path = write(tmp_path / "gateway.yaml", "layouts: {dir: layouts, store: store-1}\n")
    assert list(load_layouts(load_settings(path))) == [("store-1", "cam-left")]


def test_folder_and_file_entries_mix_and_a_camera_twice_is_named(tmp_path: Path) -> None:
    folder = layouts_folder(tmp_path)
    path = write(
        tmp_path / "gateway.yaml",
        "layouts:\n  - {store: store-9, camera: c, file: layouts/store-1-cam-1.yaml}\n"
        "  - {store: store-1, camera: cam-1, file: layouts/store-1-cam-2.yml}\n"
        "  - {dir: layouts}\n",
    )
    found = read_layouts(load_settings(path))
    assert ("store-9", "c") in found.layouts and ("store-1", "cam-2") in found.layouts
    assert found.files[("store-1", "cam-1")] == folder / "store-1-cam-2.yml"
    assert len(found.problems) == 1
    assert str(folder / "store-1-cam-1.yaml") in found.problems[0]
    assert "store-1/cam-1 is already configured" in found.problems[0]


def test_a_bad_file_in_the_folder_is_named_and_the_others_still_load(tmp_path: Path) -> None:
    folder = layouts_folder(tmp_path)
    write(folder / "store-1-cam-3.yaml", BAD_GTIN_LAYOUT)
    write(folder / "cam9.yaml", LAYOUT_EXAMPLE.read_text())
    write(folder / "store-1-cam-4.yaml", "rows: [\n")
    settings = load_settings(write(tmp_path / "gateway.yaml", "layouts: {dir: layouts}\n"))
    found = read_layouts(settings)
    assert len(found.layouts) == 3  # the three good ones
    problems = "\n".join(found.problems)
    assert len(found.problems) == 3
    assert f"{folder / 'store-1-cam-3.yaml'}: rows.0.slots.0.sku" in problems
    assert f"{folder / 'cam9.yaml'}: the file name must be <store>-<camera>.yaml" in problems
    assert f"{folder / 'store-1-cam-4.yaml'}: line" in problems
    with pytest.raises(ConfigError) as caught:  # the strict reader names them all
        load_layouts(settings)
    assert str(caught.value).count("\n") == 2


def test_check_config_lists_the_good_layouts_and_exits_2_naming_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = layouts_folder(tmp_path)
    write(folder / "store-1-cam-3.yaml", BAD_GTIN_LAYOUT)
    path = write(tmp_path / "gateway.yaml", "layouts: {dir: layouts}\n")
    assert cli.main(["check-config", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    assert "store-1/cam-2" in captured.out and "main-street/entrance" in captured.out
    assert str(folder / "store-1-cam-3.yaml") in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("layouts: {file: layouts}\n", "layouts.0: Value error, give store and camera with file"),
        (
            "layouts:\n  - {store: s, camera: c, file: layouts}\n",
            "is a folder: use `layouts: {dir: layouts}`",
        ),
        ("layouts: {dir: nowhere}\n", "nowhere: no such folder"),
        (
            "layouts: {dir: layouts, glob: '*.yaml'}\n",
            "layouts.0: Value error, give one of file, dir or glob",
        ),
        (
            "layouts: {dir: layouts, camera: c}\n",
            "layouts.0: Value error, camera: comes from the file names",
        ),
        ("layouts: {glob: 'layouts/*.json'}\n", "layouts/*.json: matches no file"),
    ],
)
def test_folder_mistakes_name_what_is_wrong(tmp_path: Path, section: str, expected: str) -> None:
    layouts_folder(tmp_path)
    path = write(tmp_path / "gateway.yaml", section)
    with pytest.raises(ConfigError) as caught:
        load_layouts(load_settings(path))
    assert expected in str(caught.value)
    assert "Is a directory" not in str(caught.value)
