"""`shelf-gateway planogram FILE`: turn a planogram (CSV or JSON) into a layout file.

The conversion itself is the shelf's (`gateway.shelf.planogram`); this only reads the
files, prints or writes the layout YAML and turns every problem into exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli.command import Command


def _convert(args: argparse.Namespace) -> int:
    import yaml

    from edge.contract.config_file import ConfigError, load_config
    from edge.layout import Layout
    from gateway.shelf.planogram import PlanogramError, load

    try:
        current = load_config(args.current, Layout) if args.current else None
        layout = load(args.file, current)
    except (PlanogramError, ConfigError) as error:
        print(f"shelf-gateway planogram: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"shelf-gateway planogram: {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    text = (
        f"# Layout from planogram {args.file.name} (version {layout.version}).\n"
        + yaml.safe_dump(layout.model_dump(mode="json"), sort_keys=False)
    )
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        slots = len(layout.slot_boxes())
        print(f"{args.out}: {len(layout.rows)} rows, {slots} slots, version {layout.version}")
    else:
        print(text, end="")
    return 0


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="planogram, .csv or .json")
    parser.add_argument(
        "--current",
        type=Path,
        metavar="LAYOUT.yaml",
        help="take the geometry of slots without coordinates from this layout file",
    )
    parser.add_argument(
        "--out", type=Path, metavar="LAYOUT.yaml", help="write here (default: print)"
    )


def command() -> Command:
    return Command(
        name="planogram",
        help="convert a planogram (CSV or JSON) into a layout file",
        description=(
            "Read a planogram (see firmware_config/planograms/) and write the layout "
            "file gateway.yaml's `layouts` can name. Every problem is reported with its "
            "line and column; exit code 2 when there is one."
        ),
        add_arguments=_add_arguments,
        handler=_convert,
    )
