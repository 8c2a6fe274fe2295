"""`shelf-gateway`: run the store gateway, check its config, and more subcommands.

Subcommands are `Command`s. Built-ins live here; another module adds one by defining
`def command() -> Command` and being named in `COMMAND_MODULES` (it is imported when the
parser is built, so it keeps heavy imports inside its handler, and takes `Command` from
`gateway.cli.command`, never from here). `shelf-gateway --config FILE` with no
subcommand means `shelf-gateway run --config FILE`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from edge.contract.config_file import ConfigError
from gateway.cli.command import Command, add_config_argument
from gateway.config.version import package_version
from gateway.storage.errors import DatabaseError

EXIT_CONFIG = 2

COMMAND_MODULES: tuple[str, ...] = (
    "gateway.devtools.demo",
    "gateway.devtools.simulate.run",
    "gateway.cli.planogram",
    "gateway.cli.pos",
    "gateway.cli.stock",
    "gateway.cli.catalogue",
    "gateway.devtools.loadtest",
    "gateway.cli.users",
    "gateway.cli.models",
)
"""Modules that each define `command() -> Command` (e.g. "gateway.devtools.demo")."""


def _run(args: argparse.Namespace) -> int:
    from gateway.app import Gateway
    from gateway.config.settings import load_settings

    settings = load_settings(args.config)
    Gateway(settings).serve()
    return 0


def _check_config(args: argparse.Namespace) -> int:
    from gateway.config.layouts import read_layouts
    from gateway.config.settings import load_settings

    settings = load_settings(args.config)
    found = read_layouts(settings)
    layouts = found.layouts
    mqtt = settings.mqtt
    print(f"{args.config}: {'OK' if not found.problems else 'layout errors (see below)'}")
    embedded = " (embedded, started by the gateway)" if settings.broker == "embedded" else ""
    print(
        f"  broker      {mqtt.url} as {mqtt.username or '(anonymous)'} ({mqtt.client_id}){embedded}"
    )
    print(f"  topics      {mqtt.topic_prefix}/<store>/<camera>/<kind>")
    print(f"  database    {settings.data_dir / 'shelfsense.db'}")
    print(f"  API         http://{settings.http.host}:{settings.http.port}/docs")
    print(f"  POS         {mqtt.topic_prefix}/<store>/pos_sales, time zone {settings.pos.timezone}")
    influx = settings.influx
    exported = f"{influx.url}, org {influx.org}, bucket {influx.bucket}" if influx else "off"
    print(f"  InfluxDB    {exported}")
    for (store, camera), layout in layouts.items():
        slots = sum(len(row.slots) for row in layout.rows)
        print(
            f"  layout      {store}/{camera}: {len(layout.rows)} rows, {slots} slots, "
            f"version {layout.version}"
        )
    if found.problems:
        # The gateway starts with the good layouts and logs these; here they fail the check.
        print("\n".join(found.problems), file=sys.stderr)
        return 2
    return 0


BUILTIN_COMMANDS: tuple[Command, ...] = (
    Command(
        name="run",
        help="run the gateway (the default command)",
        description="Connect to the store broker, store every camera message in SQLite, "
        "publish each camera's layout and serve the HTTP API until stopped "
        "(Ctrl-C or systemctl stop).",
        add_arguments=add_config_argument,
        handler=_run,
    ),
    Command(
        name="check-config",
        help="validate the config file and the layout files it names, then exit",
        description="Read the config file and every layout file it names and say what is "
        "wrong, naming the file and key. Connects to nothing. Exit code 0 when all is "
        "well, 2 otherwise.",
        add_arguments=add_config_argument,
        handler=_check_config,
    ),
)


def commands() -> list[Command]:
    """Built-in commands, then those of COMMAND_MODULES."""
    found = list(BUILTIN_COMMANDS)
    for module_name in COMMAND_MODULES:
        found.append(importlib.import_module(module_name).command())
    return found


def build_parser(available: Sequence[Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shelf-gateway",
        description="shelfsense store gateway: receives shelf states and events from the "
        "camera nodes over MQTT, stores them and serves them over HTTP.",
        epilog="Install: see firmware_config/INSTALL.md. Typical use:\n"
        "  shelf-gateway check-config --config /etc/shelfsense/gateway.yaml\n"
        "  shelf-gateway --config /etc/shelfsense/gateway.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log detail (default: INFO)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in available:
        sub = subparsers.add_parser(
            command.name, help=command.help, description=command.description or command.help
        )
        command.add_arguments(sub)
        sub.set_defaults(handler=command.handler)
    return parser


def _with_default_command(argv: list[str], names: set[str]) -> list[str]:
    """Insert `run` when no subcommand is given (`shelf-gateway --config FILE`)."""
    index = 0
    while index < len(argv):
        token = argv[index]
        if token in names or token in ("-h", "--help", "--version"):
            return argv
        if token == "--log-level":
            index += 2
            continue
        if token.startswith("--log-level="):
            index += 1
            continue
        break
    return [*argv[:index], "run", *argv[index:]]


def main(argv: Sequence[str] | None = None) -> int:
    available = commands()
    parser = build_parser(available)
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(_with_default_command(args_list, {c.name for c in available}))
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.handler(args)
    except ConfigError as error:
        print(f"shelf-gateway: config error:\n{error}", file=sys.stderr)
        return EXIT_CONFIG
    except DatabaseError as error:
        print(f"shelf-gateway: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
