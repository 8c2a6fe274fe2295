"""The import rules in pyproject.toml catch a deliberate violation, on a copy of the source.

Each case copies edge/, gateway/ and models/ (Python files only) and pyproject.toml into a
temporary folder, adds one forbidden import to a copy, and runs `lint-imports` on the copy:
the contract that forbids it must be named as broken, and the same contract on the unchanged
copy must be kept, so the rule, not something else, is what failed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support.paths import REPO

PACKAGES = ("edge", "gateway", "models")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _contracts() -> dict[str, dict]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def _copy_source(dest: Path) -> None:
    for package in PACKAGES:
        for source in (REPO / package).rglob("*.py"):
            target = dest / source.relative_to(REPO)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    shutil.copyfile(REPO / "pyproject.toml", dest / "pyproject.toml")


def _lint_imports(root: Path, contract_id: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [
            str(LINT_IMPORTS),
            str(root / "pyproject.toml"),
            "--contract",
            contract_id,
            "--no-cache",
            "--no-logo",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _status(output: str, name: str) -> str:
    """KEPT or BROKEN, as the report says for one contract (it wraps long names)."""
    found = re.search(re.escape(name) + r" (KEPT|BROKEN)", " ".join(output.split()))
    assert found, output
    return found.group(1)


@pytest.mark.parametrize(
    ("module", "line", "contract_id"),
    [
        ("edge/layout.py", "import gateway", "node-alone"),
        ("edge/layout.py", "import torch", "no-training-stack-at-run-time"),
        ("gateway/web/__init__.py", "import edge.node", "only-devtools-runs-the-node"),
        ("gateway/config/__init__.py", "import gateway.storage", "gateway-layers"),
        ("edge/layout.py", "import edge.contract", "acyclic-siblings"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract_id: str
) -> None:
    name = _contracts()[contract_id]["name"]
    _copy_source(tmp_path)

    clean = _lint_imports(tmp_path, contract_id)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert _status(clean.stdout, name) == "KEPT"

    copied = tmp_path / module
    copied.write_text(copied.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    broken = _lint_imports(tmp_path, contract_id)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert _status(broken.stdout, name) == "BROKEN"


def test_only_devtools_is_left_out_of_the_node_rule() -> None:
    """Every gateway package but devtools is a source of the rule; a new package joins it."""
    sources = set(_contracts()["only-devtools-runs-the-node"]["source_modules"])
    packages = {
        f"gateway.{path.parent.name}" for path in (REPO / "gateway").glob("*/__init__.py")
    } | {f"gateway.{path.stem}" for path in (REPO / "gateway").glob("*.py")}
    packages -= {"gateway.__init__", "gateway.devtools"}
    assert sources == packages
