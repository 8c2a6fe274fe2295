"""DEVELOPERS.md's package table and the package docstrings follow the code.

The table names every package under edge/, gateway/ and models/ (a folder holding Python
files, with or without `__init__.py`) and nothing that does not exist; every package has
an `__init__.py` whose docstring says what it holds and what it may import.
"""

from __future__ import annotations

import ast
import re

from tests.support.paths import REPO

ROOTS = ("edge", "gateway", "models")
ROW = re.compile(r"^\| `([a-z_.]+)` \|", re.MULTILINE)


def _packages() -> set[str]:
    found = set()
    for root in ROOTS:
        for folder in [REPO / root, *(REPO / root).rglob("*")]:
            if folder.is_dir() and "__pycache__" not in folder.parts and any(folder.glob("*.py")):
                found.add(".".join(folder.relative_to(REPO).parts))
    return found


def _table() -> list[str]:
    text = (REPO / "DEVELOPERS.md").read_text(encoding="utf-8")
    section = text.split("\n## Packages\n", 1)[1].split("\n## ", 1)[0]
    return ROW.findall(section)


def _exists(name: str) -> bool:
    path = REPO.joinpath(*name.split("."))
    return (path / "__init__.py").is_file() or path.with_suffix(".py").is_file()


def test_the_table_names_every_package() -> None:
    assert _packages() - set(_table()) == set()


def test_every_name_in_the_table_exists_once() -> None:
    names = _table()
    assert [name for name in names if not _exists(name)] == []
    assert len(names) == len(set(names))


def test_every_package_docstring_says_what_it_may_import() -> None:
    lacking = []
    for package in sorted(_packages()):
        init = REPO.joinpath(*package.split(".")) / "__init__.py"
        doc = (
            ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
            if init.is_file()
            else None
        )
        if not doc or "import" not in doc.lower():
            lacking.append(package)
    assert lacking == []
