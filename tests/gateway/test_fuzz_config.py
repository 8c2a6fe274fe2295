"""Malformed node and gateway config files: never a crash, always an error that names the
file (and the line or key), from the loader and from `check-config`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.contract.config_file import ConfigError
from edge.settings import load_settings as load_node
from gateway.config.settings import load_settings as load_gateway
from tests.support.paths import REPO

EXAMPLES = {
    "node": (REPO / "firmware_config" / "node.example.yaml", load_node),
    "gateway": (REPO / "firmware_config" / "gateway.example.yaml", load_gateway),
}
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["~nobody-here/x", "${NOT_SET_ANYWHERE}", "mqtt://", "\x00", "-1", ".inf"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths_in(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a nested mapping/list (where a mutation can land)."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths_in(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths_in(value, (*prefix, index))
    return found


def set_path(data: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def check(path: Path, load: Callable[[Path], Any]) -> None:
    """Loading either works or raises ConfigError, each line naming the file."""
    try:
        load(path)
    except ConfigError as error:
        lines = str(error).splitlines()
        assert lines, "an empty error message"
        for line in lines:
            assert line.startswith(f"{path}: "), line


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELFSENSE_MQTT_PASSWORD", "secret")


@pytest.mark.parametrize("which", EXAMPLES)
@FUZZ
@given(data=st.data())
def test_mutated_example_configs(tmp_path: Path, which: str, data) -> None:
    example, load = EXAMPLES[which]
    config = yaml.safe_load(example.read_text())
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(paths_in(config)))
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            set_path(config, where, data.draw(values))
        elif action == "delete" and len(where) > 0:
            parent = config
            for part in where[:-1]:
                parent = parent[part]
            parent.pop(where[-1]) if isinstance(parent, dict) else None
        elif isinstance(config, dict):
            config[data.draw(st.text(max_size=8))] = data.draw(values)
    path = tmp_path / f"{which}.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    check(path, load)


@pytest.mark.parametrize("which", EXAMPLES)
@FUZZ
@given(data=st.data())
def test_mangled_example_text(tmp_path: Path, which: str, data) -> None:
    """Text-level damage: lines dropped, swapped or cut, tabs, stray characters."""
    example, load = EXAMPLES[which]
    lines = example.read_text().splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        damage = data.draw(st.sampled_from(["drop", "tab", "cut", "insert", "indent"]))
        if damage == "drop":
            lines.pop(i)
        elif damage == "tab":
            lines[i] = "\t" + lines[i]
        elif damage == "cut":
            lines[i] = lines[i][: data.draw(st.integers(0, len(lines[i])))]
        elif damage == "insert":
            lines.insert(i, data.draw(st.text(max_size=30)))
        else:
            lines[i] = " " * data.draw(st.integers(1, 5)) + lines[i]
    path = tmp_path / f"{which}.yaml"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    check(path, load)


@pytest.mark.parametrize("which", EXAMPLES)
@FUZZ
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_files(tmp_path: Path, which: str, content: bytes) -> None:
    path = tmp_path / f"{which}.yaml"
    path.write_bytes(content)
    check(path, EXAMPLES[which][1])


@pytest.mark.parametrize("which", EXAMPLES)
@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe not utf-8",
        b"[" * 5000,
        b"mqtt: " + b"[" * 3000 + b"]" * 3000,
        b"a: &x [*x]",
        b"? [1, 2]\n: complex key",
        b"mqtt: !!python/object:os.system {}",
        b"store: store-1\nstore: store-2\n",
        b"data_dir: ~nobody-here/data\n",
    ],
    ids=[
        "not-utf8",
        "unclosed",
        "deep",
        "alias-loop",
        "complex-key",
        "python-tag",
        "duplicate",
        "tilde",
    ],
)
def test_known_nasty_files(tmp_path: Path, which: str, content: bytes) -> None:
    path = tmp_path / f"{which}.yaml"
    path.write_bytes(content)
    check(path, EXAMPLES[which][1])


@pytest.mark.parametrize("which", ["node", "gateway"])
def test_check_config_exits_2_naming_the_file(
    tmp_path: Path, which: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from edge import cli as node_cli
    from gateway.cli import main as gateway_cli

    path = tmp_path / "broken.yaml"
    path.write_bytes(b"mqtt:\n  url: mqtt://x:1883\n\tbroken: [\n")
    main = node_cli.main if which == "node" else gateway_cli.main
    assert main(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: line 3" in err and "Traceback" not in err
