"""`Command`: one `shelf-gateway` subcommand, and the `--config` argument most of them take.

Every module that provides a subcommand imports this, and the parser in `main` imports
every such module; so this imports nothing from the project, and no provider (however
deep in the gateway) can close an import cycle through the command line.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CONFIG = Path("/etc/shelfsense/gateway.yaml")
"""Where the gateway config lives on an installed store server."""

CONFIG_ENV = "SHELFSENSE_GATEWAY_CONFIG"
"""Environment variable that names the config file instead of DEFAULT_CONFIG."""


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, help, arguments and handler (returns the exit code)."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace], int]
    description: str | None = None


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """`--config`, shared by every command that reads the gateway config file."""
    default = os.environ.get(CONFIG_ENV, str(DEFAULT_CONFIG))
    parser.add_argument(
        "--config",
        "-c",
        type=Path,
        default=Path(default),
        metavar="FILE",
        help=f"gateway config file (default: ${CONFIG_ENV} or {DEFAULT_CONFIG}; "
        "start from firmware_config/gateway.example.yaml)",
    )
