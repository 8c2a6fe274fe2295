"""Reading the layout files named in the gateway config.

A layout file is YAML (or JSON, which YAML reads too) of `edge.layout.Layout`, strict like
every config file, so a typo or a bad GTIN names the file and the key.

A `layouts:` entry names one camera's file, or a folder (`dir`) or glob whose files are
named `<store>-<camera>.yaml` (`.yml`, `.json`); other files in a folder are ignored. One
bad file never hides the others: `read_layouts` returns the good ones with a problem per
bad file (naming it), and `load_layouts` is the strict reader that refuses them all.
The first entry naming a camera wins; a later one is a problem naming both files.
"""

from __future__ import annotations

import glob as globbing
from dataclasses import dataclass, field
from pathlib import Path

from edge.contract.config_file import ConfigError, load_config
from edge.contract.ids import is_identifier
from edge.layout import Layout
from gateway.config.settings import GatewaySettings, LayoutSource

CameraKey = tuple[str, str]
LAYOUT_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class LayoutFiles:
    """What the configured layout sources hold: the good layouts, where each came from,
    and one line per bad file or entry."""

    layouts: dict[CameraKey, Layout] = field(default_factory=dict)
    files: dict[CameraKey, Path] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def camera_of(path: Path, store: str | None = None) -> CameraKey:
    """(store, camera) from a `<store>-<camera>.yaml` name. With `store` the name must
    start with it; without, it splits at the last hyphen followed by a letter (else the
    last hyphen), so `store-1-cam-1` is store-1 / cam-1."""
    stem = path.stem
    if store is not None:
        camera = stem.removeprefix(f"{store}-")
        if camera == stem or not is_identifier(camera):
            raise ConfigError(f"{path}: the file name must be {store}-<camera>{path.suffix}")
        return (store, camera)
    cuts = [i for i, c in enumerate(stem) if c == "-" and 0 < i < len(stem) - 1]
    cuts = [i for i in cuts if is_identifier(stem[:i]) and is_identifier(stem[i + 1 :])]
    if not cuts:
        raise ConfigError(
            f"{path}: the file name must be <store>-<camera>{path.suffix} (e.g. store-1-cam-1.yaml)"
        )
    lettered = [i for i in cuts if stem[i + 1].isalpha()]
    cut = (lettered or cuts)[-1]
    return (stem[:cut], stem[cut + 1 :])


def _folder_files(source: LayoutSource) -> list[Path]:
    """The layout files of a `dir` or `glob` entry, sorted; ConfigError when there are none
    to read (a missing folder, a glob matching nothing)."""
    if source.dir is not None:
        if not source.dir.is_dir():
            raise ConfigError(f"layouts: {source.dir}: no such folder")
        return sorted(
            p for p in source.dir.iterdir() if p.is_file() and p.suffix in LAYOUT_SUFFIXES
        )
    assert source.glob is not None
    found = sorted(Path(p) for p in globbing.glob(source.glob) if Path(p).is_file())
    if not found:
        raise ConfigError(f"layouts: {source.glob}: matches no file")
    return found


def _entries(source: LayoutSource) -> list[tuple[CameraKey | None, Path, str | None]]:
    """(camera, file, problem) per file of one entry."""
    if source.key is not None and source.file is not None:
        if source.file.is_dir():
            problem = f"{source.file} is a folder: use `layouts: {{dir: {source.file.name}}}`"
            return [(source.key, source.file, problem)]
        return [(source.key, source.file, None)]
    out: list[tuple[CameraKey | None, Path, str | None]] = []
    for path in _folder_files(source):
        try:
            out.append((camera_of(path, source.store), path, None))
        except ConfigError as error:
            out.append((None, path, str(error)))
    return out


def read_layouts(settings: GatewaySettings) -> LayoutFiles:
    """Every configured layout by (store, camera), and a line per bad file or entry."""
    found = LayoutFiles()
    for source in settings.layouts:
        try:
            entries = _entries(source)
        except ConfigError as error:
            found.problems.append(str(error))
            continue
        for key, path, problem in entries:
            if problem is None and key is not None and key in found.layouts:
                first = found.files[key]
                problem = f"{path}: {key[0]}/{key[1]} is already configured by {first}"
            if problem is not None or key is None:
                found.problems.append(problem or f"{path}: no camera")
                continue
            try:
                found.layouts[key] = load_config(path, Layout)
            except ConfigError as error:
                found.problems.append(f"layout of {key[0]}/{key[1]}: {error}")
                continue
            found.files[key] = path
    return found


def load_layouts(settings: GatewaySettings) -> dict[CameraKey, Layout]:
    """Every configured layout by (store, camera); ConfigError lists every bad file."""
    found = read_layouts(settings)
    if found.problems:
        raise ConfigError("\n".join(found.problems))
    return found.layouts
