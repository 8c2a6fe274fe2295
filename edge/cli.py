"""`shelf-node`: run a camera node, check its config, or publish the message schemas."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import yaml

from edge.contract.config_file import ConfigError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2

COMMANDS = ("run", "check-config", "smoke-test", "schema")

DESCRIPTION = """\
Run a shelfsense camera node: read the camera, find empty and messy shelf spots with the
on-device detector, and publish slot states, events and health to the store's MQTT broker.

The config file (YAML) names the store and camera, the broker (mqtt://host:port), the
camera source (picamera2, a USB/RTSP camera through OpenCV, a folder of images, a video
file, or the simulator) and the detector. A fully commented example is
firmware_config/node.example.yaml; copy it to /etc/shelfsense/node.yaml and edit it.
Unknown or mistyped keys are errors that name the key; write secrets as ${VAR} and set
VAR in the environment (systemd: /etc/shelfsense/node.env).

  shelf-node --config node.yaml                 run the node (same as: run --config ...)
  shelf-node check-config --config node.yaml    validate and print the effective config
  shelf-node smoke-test --config node.yaml      camera, model, inference ms, broker: ok?
  shelf-node schema --check                     are edge/schemas/*.json up to date?
"""

EPILOG = """\
exit codes:
  0  stopped cleanly (SIGINT/SIGTERM), config valid, smoke test passed, or schemas up to date
  1  runtime failure, a smoke-test check failed, or stale schema files (schema --check)
  2  the config file (or the command line) is wrong; the message names the file and key
"""


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        "-c",
        type=Path,
        required=True,
        metavar="FILE",
        help="node config file (YAML), e.g. /etc/shelfsense/node.yaml",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shelf-node",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="logging detail (default INFO)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run", help="run the camera node until SIGINT/SIGTERM (the default command)"
    )
    _add_config(run)
    check = commands.add_parser(
        "check-config",
        help="validate a config file and print the effective config (password masked)",
    )
    _add_config(check)
    smoke = commands.add_parser(
        "smoke-test",
        help="installer's check on the device: camera frame, model, inference ms, broker",
    )
    _add_config(smoke)
    smoke.add_argument(
        "--runs", type=int, default=10, metavar="N", help="timed inference runs (default 10)"
    )
    smoke.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds to wait for a camera frame and for the broker (default 10)",
    )
    schema = commands.add_parser(
        "schema", help="write or check the JSON Schema files in edge/schemas/"
    )
    mode = schema.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="(re)write every schema file")
    mode.add_argument(
        "--check", action="store_true", help="exit 1 naming each stale or missing file"
    )
    return parser


def _normalise_argv(argv: Sequence[str]) -> list[str]:
    """`shelf-node --config x` means `shelf-node run --config x`."""
    argv = list(argv)
    words = [a for a in argv if not a.startswith("-")]
    flags_only = not any(w in COMMANDS for w in words)
    if flags_only and any(a in ("--config", "-c") or a.startswith("--config=") for a in argv):
        # Keep global options (--log-level X) before the inserted command.
        index = next(
            i for i, a in enumerate(argv) if a in ("--config", "-c") or a.startswith("--config=")
        )
        argv.insert(index, "run")
    return argv


def _load(path: Path):
    from edge.settings import load_settings

    return load_settings(path)


def _check_config(path: Path) -> int:
    from edge.detector import default_model_path
    from edge.settings import load_layout

    settings = _load(path)
    problems = []
    model = settings.detector.model or default_model_path(settings.detector.bundled)
    if not Path(model).is_file():
        problems.append(f"{path}: detector.model: model file {model} not found")
    if settings.layout_file is not None:
        try:
            load_layout(settings.layout_file)
        except ConfigError as error:
            problems.append(f"{path}: layout_file: {error}")
    folder = settings.outbox_path.parent
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        problems.append(
            f"{path}: data_dir / outbox.path: cannot create the outbox in {folder} "
            f"({existing} is not a writable folder for this user)"
        )
    if problems:
        raise ConfigError("\n".join(problems))
    effective = settings.model_dump(mode="json")
    print(f"# {path}: valid. Effective config (defaults filled in, password masked):")
    print(yaml.safe_dump(effective, sort_keys=False), end="")
    return EXIT_OK


def _schema(write: bool, check: bool) -> int:
    from edge.contract.schemas import SCHEMA_DIR, stale_schemas, write_schemas

    if write:
        for written in write_schemas():
            print(f"wrote {written}")
        return EXIT_OK
    stale = stale_schemas()
    if stale:
        for name in stale:
            print(f"stale: {SCHEMA_DIR / name}", file=sys.stderr)
        print("run: shelf-node schema --write", file=sys.stderr)
        return EXIT_FAILURE
    print(f"schemas in {SCHEMA_DIR} are up to date")
    return EXIT_OK


def _smoke_test(path: Path, runs: int, timeout: float) -> int:
    from edge.smoke_test import run_smoke_test

    settings = _load(path)
    report = run_smoke_test(
        settings, sys.stdout, runs=max(1, runs), camera_timeout_s=timeout, broker_timeout_s=timeout
    )
    return EXIT_OK if report.ok else EXIT_FAILURE


def _run(path: Path) -> int:
    from edge.node import CameraNode

    settings = _load(path)
    node = CameraNode(settings)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    node.run(stop)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_normalise_argv(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from edge.detector import ModelError
    from edge.outbox import OutboxError

    try:
        if args.command == "run":
            return _run(args.config)
        if args.command == "check-config":
            return _check_config(args.config)
        if args.command == "smoke-test":
            return _smoke_test(args.config, args.runs, args.timeout)
        if args.command == "schema":
            return _schema(args.write, args.check)
    except ConfigError as error:
        print(f"shelf-node: config error:\n{error}", file=sys.stderr)
        return EXIT_CONFIG
    except ModelError as error:
        print(f"shelf-node: config error: detector.model: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except OutboxError as error:
        print(
            f"shelf-node: config error: data_dir / outbox.path: {error}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    parser.print_help()
    return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
