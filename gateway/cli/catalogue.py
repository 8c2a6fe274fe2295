"""`shelf-gateway catalogue import FILE`: load the product catalogue (CSV or JSON).

Works on the gateway's database directly; changed fields are logged as made by
`cli:<login>`. Exit code 0 when every product was stored,
1 when some were rejected (the good ones are kept), 2 for a config error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli.command import Command, add_config_argument


def cli_user() -> str:
    """Who made a change from the command line, for the catalogue's edit log."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (a container without /etc/passwd entry)
        return "cli"


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="catalogue_action", metavar="ACTION", required=True)
    sub = actions.add_parser(
        "import",
        help="import products from CSV or JSON files",
        description="Create or update products by GTIN from CSV files with the header "
        "gtin,name[,brand,category,pack_size] (see firmware_config/catalogue.example.csv) "
        'or JSON files (.json) holding {"products": [...]} or a list. A bad row is '
        "reported by row number and field and the others are kept.",
    )
    sub.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add_config_argument(sub)


def _import(args: argparse.Namespace) -> int:
    from gateway.config.settings import load_settings
    from gateway.retail.batch_import import ImportFileError
    from gateway.retail.catalogue import read_products_file, store_products
    from gateway.storage.connection import Database

    settings = load_settings(args.config)
    db = Database.in_dir(settings.data_dir)
    db.open()
    failed = False
    try:
        for path in args.files:
            try:
                good, errors = read_products_file(path)
            except ImportFileError as error:
                print(error, file=sys.stderr)
                failed = True
                continue
            report = store_products(db, good, errors, by=cli_user(), source="cli")
            for error in report.rejected:
                print(error, file=sys.stderr)
            print(report.summary(str(path)))
            failed = failed or bool(report.rejected)
    finally:
        db.close()
    return 1 if failed else 0


def command() -> Command:
    return Command(
        name="catalogue",
        help="product catalogue: import products (GTIN, name, brand, category, pack size)",
        add_arguments=_add_arguments,
        handler=_import,
    )
