"""`shelf-gateway stock receipts|counts|prices|show`: load a back office's goods received,
stock counts and supplier price lists from CSV files, and show the stock on hand.

A shop's back office exports files; cron loads them with these commands, without the
API, straight into the gateway's database (the gateway may be running: SQLite WAL lets
both write). Each file goes through the same parser and store as the API's CSV upload
(`POST /api/stock/receipts/csv`, `/api/stock/counts/csv`, `/api/suppliers/prices/csv`),
so a file imports the same either way: a bad row is printed to stderr with its file,
row and field, and the good rows are stored. A file is read whole (the parsers take a
file's bytes), one file at a time. Exit code 0 when every row of every file was stored
(or already there), 1 when some rows were rejected or a file could not be read, 2 for
a config error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gateway.cli.catalogue import cli_user
from gateway.cli.command import Command, add_config_argument
from gateway.cli.import_files import each_file

if TYPE_CHECKING:  # the handlers import lazily, so `--help` stays fast
    from gateway.config.settings import GatewaySettings
    from gateway.retail.batch_import import LineError
    from gateway.storage.connection import Database


class _Report(Protocol):
    """What the stock and price list imports report alike."""

    rejected: list[LineError]

    @property
    def rejected_lines(self) -> int: ...

    def summary(self, source: str) -> str: ...


Importer = Callable[["GatewaySettings", "Database", bytes, str], _Report]
"""Parses one file's bytes (named by the source) and stores its good rows."""


@dataclass(frozen=True)
class _ImportAction:
    """One import action's help: what it loads, its CSV header, its example and API twin."""

    help: str
    header: str
    example: str
    api: str
    note: str = ""


_TIME_NOTE = (
    " `time` is ISO 8601 with a UTC offset, or a bare date (the start of that day in the "
    "config's pos.timezone)."
)
IMPORTS: dict[str, _ImportAction] = {
    "receipts": _ImportAction(
        "import CSV files of goods received",
        "store,gtin,quantity,time[,supplier,id]",
        "stock-receipts.example.csv",
        "POST /api/stock/receipts/csv",
        _TIME_NOTE + " A line id sent again is a duplicate, not a second delivery; a "
        "receipt naming its supplier fulfils that supplier's open order of the GTIN.",
    ),
    "counts": _ImportAction(
        "import CSV files of stock counts",
        "store,gtin,quantity,time[,backroom_capacity]",
        "stock-counts.example.csv",
        "POST /api/stock/counts/csv",
        _TIME_NOTE + " A count of the same store, GTIN and time is stored once.",
    ),
    "prices": _ImportAction(
        "import supplier price list CSV files (and each supplier's terms)",
        "supplier,gtin,pack_size,pack_price,lead_time_days[,min_order_value,"
        "free_delivery_threshold,delivery_fee,order_days]",
        "supplier-prices.example.csv",
        "POST /api/suppliers/prices/csv",
        " A supplier's terms repeat on each of its lines; a line that disagrees with the "
        "supplier's first line is rejected naming the field. A line replaces the stored "
        "price of its supplier and GTIN.",
    ),
}


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="stock_action", metavar="ACTION", required=True)
    for name, spec in IMPORTS.items():
        sub = actions.add_parser(
            name,
            help=spec.help,
            description=f"{spec.help[0].upper()}{spec.help[1:]} with the header "
            f"{spec.header} (see firmware_config/{spec.example}), as {spec.api} does. A "
            "bad row is reported by file, row number and field and the other rows are "
            f"stored.{spec.note}",
        )
        sub.add_argument("files", nargs="+", type=Path, metavar="FILE.csv")
    show = actions.add_parser(
        "show",
        help="stock on hand per GTIN of a store",
        description="Stock on hand of every GTIN the store counted or received: last count "
        "+ units received since - units sold since (POS), as GET /api/stock computes it.",
    )
    show.add_argument("--store", required=True, help="store id, as in the topics (store-1)")
    show.add_argument("--json", action="store_true", help="print JSON")
    for action in actions.choices.values():
        add_config_argument(action)


@contextmanager
def _gateway(args: argparse.Namespace) -> Iterator[tuple[GatewaySettings, Database]]:
    """The config and its database, open for the command's duration."""
    from gateway.config.settings import load_settings
    from gateway.storage.connection import Database

    settings = load_settings(args.config)
    db = Database.in_dir(settings.data_dir)
    db.open()
    try:
        yield settings, db
    finally:
        db.close()


def _import_receipts(settings: GatewaySettings, db: Database, data: bytes, source: str) -> _Report:
    from gateway.retail.stock import parse_receipts_csv, store_receipts

    good, errors = parse_receipts_csv(data, source)
    return store_receipts(db, good, errors, tz=settings.pos.zone, by=cli_user(), source="cli")


def _import_counts(settings: GatewaySettings, db: Database, data: bytes, source: str) -> _Report:
    from gateway.retail.stock import parse_counts_csv, store_counts

    good, errors = parse_counts_csv(data, source)
    return store_counts(db, good, errors, tz=settings.pos.zone, by=cli_user(), source="cli")


def _import_prices(settings: GatewaySettings, db: Database, data: bytes, source: str) -> _Report:
    from gateway.retail.suppliers import parse_prices_csv, store_prices

    good, errors = parse_prices_csv(data, source)
    return store_prices(db, good, errors)


def _import_files(args: argparse.Namespace, importer: Importer) -> int:
    """Each file on its own: its bad rows to stderr, its summary to stdout."""
    failed = False
    with _gateway(args) as (settings, db):

        def load(path: Path) -> _Report:
            return importer(settings, db, path.read_bytes(), str(path))

        for path, report in each_file(args.files, load):
            if report is None:
                failed = True
                continue
            for problem in sorted(report.rejected, key=lambda e: e.row or 0):
                print(problem, file=sys.stderr)
            print(report.summary(str(path)))
            failed = failed or bool(report.rejected_lines)
    return 1 if failed else 0


def _stock_rows(db: Database, store: str) -> list[dict[str, Any]]:
    """Stock on hand of each GTIN the store counted or received, with its catalogue name."""
    from gateway.retail.catalogue import names
    from gateway.retail.stock import stock_on_hand, stocked_gtins

    gtins = stocked_gtins(db, store)
    named = names(db, gtins)
    return [
        {
            "gtin": held.gtin,
            "name": named.get(held.gtin, (None, None))[0],
            "on_hand": held.on_hand,
            "basis": held.basis,
            "counted": held.counted,
            "counted_at": held.counted_at.isoformat() if held.counted_at else None,
            "received_since": held.received_since,
            "sold_since": held.sold_since,
            "backroom_capacity": held.backroom_capacity,
        }
        for held in stock_on_hand(db, store, gtins).values()
    ]


def _show(args: argparse.Namespace) -> int:
    with _gateway(args) as (_, db):
        rows = _stock_rows(db, args.store)
    if args.json:
        print(json.dumps({"store": args.store, "stock": rows}, indent=2))
        return 0
    if not rows:
        print(f"no counts or receipts recorded for store {args.store}")
    for r in rows:
        since = f"counted {r['counted']} at {r['counted_at']}" if r["basis"] == "count" else ""
        since = since or "no count: receipts only"
        print(
            f"{r['gtin']:<14}  {r['on_hand']:>7}  {r['name'] or '-'}  ({since}, "
            f"+{r['received_since']} received, -{r['sold_since']} sold)"
        )
    return 0


ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "receipts": lambda args: _import_files(args, _import_receipts),
    "counts": lambda args: _import_files(args, _import_counts),
    "prices": lambda args: _import_files(args, _import_prices),
    "show": _show,
}


def _handle(args: argparse.Namespace) -> int:
    return ACTIONS[args.stock_action](args)


def command() -> Command:
    return Command(
        name="stock",
        help="stock and suppliers: import CSV files of goods received, stock counts and "
        "supplier price lists; show the stock on hand",
        add_arguments=_add_arguments,
        handler=_handle,
    )
