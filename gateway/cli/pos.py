"""`shelf-gateway pos import FILE.csv ...`: load till exports into the gateway's database.

Works on the database directly (the gateway may be running: SQLite WAL lets both write),
so a day's export can be loaded by cron without the API. Exit code 0 when every line was
stored or already there, 1 when some lines were rejected (the good ones are kept), 2 for
a config error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli.command import Command, add_config_argument

EXPORT_FLUSH_S = 30.0


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="pos_action", metavar="ACTION", required=True)
    sub = actions.add_parser(
        "import",
        help="import CSV files of sale lines",
        description="Import sale lines from CSV files with the header "
        "id,time,store,sku,quantity,unit_price[,currency] (see "
        "firmware_config/pos-sales.example.csv). A line already stored is skipped; a bad "
        "row is reported by row number and field and the others are kept.",
    )
    sub.add_argument("files", nargs="+", type=Path, metavar="FILE.csv")
    sub.add_argument(
        "--no-influx",
        action="store_true",
        help="do not export the imported sales to InfluxDB even if the config sets it up",
    )
    add_config_argument(sub)


def _import(args: argparse.Namespace) -> int:
    from gateway.config.settings import load_settings
    from gateway.export.influx import InfluxExporter
    from gateway.retail.batch_import import ImportFileError
    from gateway.retail.pos import parse_sales_csv, store_lines
    from gateway.storage.connection import Database

    settings = load_settings(args.config)
    db = Database.in_dir(settings.data_dir)
    db.open()
    exporter = None
    if settings.influx is not None and not args.no_influx:
        exporter = InfluxExporter(settings.influx)
        exporter.start()
    failed = False
    try:
        for path in args.files:
            try:
                good, errors = parse_sales_csv(_read(path), str(path))
            except ImportFileError as error:
                print(error, file=sys.stderr)
                failed = True
                continue
            report = store_lines(
                db,
                good,
                errors,
                source="csv",
                csv_source=str(path),
                on_stored=exporter.export_sales if exporter else None,
            )
            for error in report.rejected:
                print(error, file=sys.stderr)
            print(report.summary(str(path)))
            failed = failed or bool(report.rejected)
            if exporter is not None and not exporter.flush(EXPORT_FLUSH_S):
                print(
                    f"{path}: InfluxDB export not finished ({exporter.last_error}); "
                    "the sales are stored in SQLite",
                    file=sys.stderr,
                )
    finally:
        if exporter is not None:
            exporter.stop(timeout=1.0)
        db.close()
    return 1 if failed else 0


def _read(path: Path) -> bytes:
    from gateway.retail.batch_import import ImportFileError

    try:
        return path.read_bytes()
    except OSError as error:
        raise ImportFileError(f"{path}: cannot read: {error.strerror}") from None


def command() -> Command:
    return Command(
        name="pos",
        help="point-of-sale data: import CSV exports of sale lines",
        add_arguments=_add_arguments,
        handler=_import,
    )
