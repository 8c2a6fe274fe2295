"""`shelf-gateway pos import|batches|delete`: load till exports into the gateway's
database, list the imports, undo one.

Works on the database directly (the gateway may be running: SQLite WAL lets both write),
so a day's export can be loaded by cron without the API. Each file is one import batch
(its id is printed; `pos delete BATCH` removes exactly the lines it stored, and a
running gateway's advice follows at its next evaluation). A file is streamed, so its
size does not matter to memory. Lines are screened as every import is (INSTALL.md,
"Sales import"): refused lines are printed as errors, kept-but-noted ones as notes.
Exit code 0 when every line was stored or already there, 1 when some lines were
rejected (the good ones are kept) or the batch is unknown, 2 for a config error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.catalogue import cli_user
from gateway.cli.command import Command, add_config_argument
from gateway.cli.import_files import each_file

if TYPE_CHECKING:  # the handlers import lazily, so `--help` stays fast
    from gateway.config.settings import GatewaySettings
    from gateway.storage.connection import Database

EXPORT_FLUSH_S = 30.0


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="pos_action", metavar="ACTION", required=True)
    sub = actions.add_parser(
        "import",
        help="import CSV files of sale lines (one batch per file)",
        description="Import sale lines from CSV files with the header "
        "id,time,store,sku,quantity,unit_price[,currency] (see "
        "firmware_config/pos-sales.example.csv). A line already stored is skipped; a bad "
        "row is reported by row number and field and the others are kept. Each file is "
        "one batch; its id is printed.",
    )
    sub.add_argument("files", nargs="+", type=Path, metavar="FILE.csv")
    sub.add_argument(
        "--no-influx",
        action="store_true",
        help="do not export the imported sales to InfluxDB even if the config sets it up",
    )
    batches = actions.add_parser("batches", help="list sales import batches, newest first")
    batches.add_argument("--store", help="only batches that stored lines of this store")
    batches.add_argument("--limit", type=int, default=50)
    batches.add_argument("--json", action="store_true", help="print JSON")
    delete = actions.add_parser(
        "delete", help="delete an import batch: exactly the sale lines it stored"
    )
    delete.add_argument("batch", help="the batch id an import printed (imp-...)")
    for action in actions.choices.values():
        add_config_argument(action)


def _import(args: argparse.Namespace) -> int:
    from gateway.export.influx import InfluxExporter
    from gateway.retail.batch_import import check_utf8_file, text_of
    from gateway.retail.pos import ImportReport, iter_sales_csv, store_stream
    from gateway.retail.sales_batches import BatchSpec

    settings, db = _open(args)
    exporter = None
    if settings.influx is not None and not args.no_influx:
        exporter = InfluxExporter(settings.influx)
        exporter.start()

    def load(path: Path) -> ImportReport:
        with path.open("rb") as binary:  # streamed: the file's size does not matter
            check_utf8_file(binary, str(path))
            return store_stream(
                db,
                iter_sales_csv(text_of(binary), str(path)),
                source="csv",
                batch=BatchSpec("cli", str(path), cli_user()),
                csv_source=str(path),
                on_stored=exporter.export_sales if exporter else None,
            )

    failed = False
    try:
        for path, report in each_file(args.files, load):
            if report is None:
                failed = True
                continue
            for error in report.rejected:
                print(error, file=sys.stderr)
            for note in report.notes:
                print(f"note: {note}", file=sys.stderr)
            print(report.summary(str(path)))
            failed = failed or bool(report.rejected_lines)
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


def _open(args: argparse.Namespace) -> tuple[GatewaySettings, Database]:
    """The config and its database, open."""
    from gateway.config.settings import load_settings
    from gateway.storage.connection import Database

    settings = load_settings(args.config)
    db = Database.in_dir(settings.data_dir)
    db.open()
    return settings, db


def _batches(args: argparse.Namespace) -> int:
    from gateway.retail.sales_batches import list_batches

    _, db = _open(args)
    try:
        rows, total = list_batches(db, store=args.store, limit=args.limit)
    finally:
        db.close()
    if args.json:
        print(json.dumps({"total": total, "batches": rows}, indent=2))
        return 0
    if not rows:
        print("no sales import batches")
    for r in rows:
        state = f"deleted {r['deleted_at']} by {r['deleted_by']}" if r["deleted_at"] else ""
        stores = ", ".join(f"{s}: {n}" for s, n in r["stores"].items()) or "no lines"
        print(
            f"{r['id']}  {r['created_at']}  {r['source']:<4} {r['name'] or '-'}  "
            f"by {r['created_by'] or '-'}  {r['accepted']} accepted, {r['rejected']} "
            f"rejected, {r['flagged']} noted  ({stores}) {state}".rstrip()
        )
    return 0


def _delete(args: argparse.Namespace) -> int:
    from gateway.retail.sales_batches import BatchNotFound, delete_batch

    _, db = _open(args)
    try:
        deleted = delete_batch(db, args.batch, by=cli_user())
    except BatchNotFound as error:
        print(f"shelf-gateway pos delete: {error}", file=sys.stderr)
        return 1
    finally:
        db.close()
    stores = ", ".join(deleted.stores) or "no store"
    print(f"deleted batch {deleted.batch}: {deleted.lines} sale line(s) of {stores}")
    return 0


ACTIONS = {"import": _import, "batches": _batches, "delete": _delete}


def _handle(args: argparse.Namespace) -> int:
    return ACTIONS[args.pos_action](args)


def command() -> Command:
    return Command(
        name="pos",
        help="point-of-sale data: import CSV exports of sale lines, list or delete imports",
        add_arguments=_add_arguments,
        handler=_handle,
    )
