"""`shelf-gateway models add|list`: upload a model pair from the command line.

Works on the gateway's database and data folder directly, as `users` does (the gateway
may be running: SQLite's WAL lets both write), and signs with the key the config names
(`rollouts.signing_key`). Roll-outs are started on the Models page or through
`POST /api/rollouts`: they need the running gateway's broker connection. Exit code 0 on
success, 1 when the upload is refused (the message says why), 2 for a config error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gateway.cli.command import Command, add_config_argument


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        help="store and sign a model pair (an ONNX model and its int8 twin)",
        description="Copy a model pair into the gateway's data folder, hash both files and "
        "sign the manifest with rollouts.signing_key. Versions are never overwritten.",
    )
    add.add_argument("version", help="version label (letters, digits, '_', '.', '-')")
    add.add_argument("--fp32", type=Path, required=True, help="the ONNX model file")
    add.add_argument("--int8", type=Path, required=True, help="its int8 twin")
    add_config_argument(add)
    listing = actions.add_parser("list", help="list stored models as JSON")
    add_config_argument(listing)


def _handler(args: argparse.Namespace) -> int:
    from gateway.config.settings import load_settings
    from gateway.rollout.model_store import ModelStore, ModelUploadError, Upload
    from gateway.rollout.signing import SigningKeyError, load_signing_key
    from gateway.storage.connection import Database

    settings = load_settings(args.config)
    db = Database.in_dir(settings.data_dir)
    db.open()
    try:
        store = ModelStore(db, settings.data_dir / "models")
        if args.models_action == "list":
            print(json.dumps(store.all(), indent=2, default=str))
            return 0
        try:
            key = load_signing_key(settings.rollouts.signing_key)
            with args.fp32.open("rb") as fp32, args.int8.open("rb") as int8:
                record = store.add(
                    args.version,
                    [Upload("fp32", args.fp32.name, fp32), Upload("int8", args.int8.name, int8)],
                    key,
                    by="shelf-gateway models add",
                )
        except (ModelUploadError, SigningKeyError, OSError) as error:
            print(f"shelf-gateway models add: {error}", file=sys.stderr)
            return 1
        for file in record["files"]:
            print(
                f"{file['variant']:5} {file['name']}  {file['size']} bytes  sha256 {file['sha256']}"
            )
        print(f"stored and signed {record['version']} with key {record['key_id']}")
        return 0
    finally:
        db.close()


def command() -> Command:
    return Command(
        name="models",
        help="upload signed model pairs for roll-outs (admin)",
        add_arguments=_add_arguments,
        handler=_handler,
    )
