"""One file at a time for the import commands (`pos import`, `stock ...`): a file that
cannot be read, or is not a file of its kind, is said on stderr and skipped, so the
other files of the same command are still imported."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

Report = TypeVar("Report")


def each_file(
    paths: Iterable[Path], load: Callable[[Path], Report]
) -> Iterator[tuple[Path, Report | None]]:
    """`load(path)` for each path, with None (the reason on stderr) for a file that cannot
    be read or whose header or encoding is refused."""
    from gateway.retail.batch_import import ImportFileError  # lazily: `--help` stays fast

    for path in paths:
        try:
            report = load(path)
        except OSError as error:
            print(f"{path}: cannot read: {error.strerror or error}", file=sys.stderr)
            report = None
        except ImportFileError as error:
            print(error, file=sys.stderr)
            report = None
        yield path, report
