"""`shelf-gateway stock receipts|counts|prices|show`: the real command on a temp config and
SQLite database. Good rows are stored and show in `stock show --json`, a bad row is
reported with its file, row and field while the others are kept, and the exit code says
which happened (0 all stored, 1 rows rejected or a file unreadable, 2 config error)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.layout import with_check_digit
from gateway.cli import main as cli
from gateway.retail.suppliers import offers, supplier_terms
from gateway.storage.connection import Database
from tests.support.paths import REPO

GTIN_A = with_check_digit("400638133393")
GTIN_B = with_check_digit("500011200001")
NOW = datetime.now(UTC).replace(microsecond=0)
COUNTED = (NOW - timedelta(days=2)).isoformat()
RECEIVED = (NOW - timedelta(days=1)).isoformat()
EXAMPLES = REPO / "firmware_config"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text("data_dir: data\npos:\n  timezone: Europe/Berlin\n")
    return path


@pytest.fixture
def db(tmp_path: Path, config: Path) -> Iterator[Database]:
    """The gateway's database, as the commands write it (SQLite WAL: both may be open)."""
    database = Database.in_dir(tmp_path / "data")
    database.open()
    yield database
    database.close()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def stock(config: Path, *args: str) -> int:
    return cli.main(["stock", *args, "--config", str(config)])


def shown(config: Path, capsys: pytest.CaptureFixture[str], store: str = "store-1") -> dict:
    """`stock show --json` of the store, by GTIN."""
    capsys.readouterr()
    assert stock(config, "show", "--store", store, "--json") == 0
    body = json.loads(capsys.readouterr().out)
    assert body["store"] == store
    return {row["gtin"]: row for row in body["stock"]}


def test_the_example_files_import_cleanly_and_add_up(
    config: Path, capsys: pytest.CaptureFixture[str], db: Database
) -> None:
    counts = EXAMPLES / "stock-counts.example.csv"
    receipts = EXAMPLES / "stock-receipts.example.csv"
    prices = EXAMPLES / "supplier-prices.example.csv"
    assert stock(config, "counts", str(counts)) == 0
    assert stock(config, "receipts", str(receipts)) == 0
    assert stock(config, "prices", str(prices)) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert f"{counts}: 3 line(s): 3 stored, 0 duplicate(s), 0 rejected" in out
    assert f"{receipts}: 3 line(s): 3 stored, 0 duplicate(s), 0 rejected" in out
    assert f"{prices}: 4 line(s): 4 stored for 2 supplier(s), 0 rejected" in out

    held = shown(config, capsys)
    # The counts of 2 May evening, plus what was received on 3 May.
    assert {g: row["on_hand"] for g, row in held.items()} == {
        "4006381333931": 18 + 24,
        "5000112000016": 7 + 12,
        "76104008": 0 + 30,
    }
    assert held["4006381333931"]["backroom_capacity"] == 48
    assert held["76104008"]["basis"] == "count"
    assert len(offers(db)) == 4
    metro = next(t for t in supplier_terms(db) if t.supplier == "Metro")
    assert (metro.free_delivery_threshold, metro.order_weekdays) == (150.0, frozenset({0, 3}))


def test_a_bad_receipt_row_is_named_and_the_good_ones_are_kept(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    receipts = write(
        tmp_path,
        "delivery.csv",
        "store,gtin,quantity,time,supplier,id\n"
        f"store-1,{GTIN_A},24,{RECEIVED},Metro,DN-1\n"
        f"store-1,{GTIN_B},none,{RECEIVED},Metro,DN-2\n"
        f"store-1,{GTIN_B},6,{RECEIVED},Metro,DN-3\n"
        f"store-1,4006381333932,5,{RECEIVED},Metro,DN-4\n",
    )
    assert stock(config, "receipts", str(receipts)) == 1
    out, err = capsys.readouterr()
    errors = err.splitlines()
    assert len(errors) == 2, err
    assert errors[0].startswith(f"{receipts} row 3: quantity: not a whole number")
    assert errors[1].startswith(f"{receipts} row 5: gtin: ")
    assert f"{receipts}: 4 line(s): 2 stored, 0 duplicate(s), 2 rejected" in out

    held = shown(config, capsys)
    assert {g: (r["on_hand"], r["basis"]) for g, r in held.items()} == {
        GTIN_A: (24, "receipts"),
        GTIN_B: (6, "receipts"),
    }

    # Sent again, the stored lines are duplicates (not a second delivery): exit 0.
    good = write(tmp_path, "again.csv", "\n".join(receipts.read_text().splitlines()[:2]) + "\n")
    assert stock(config, "receipts", str(good)) == 0
    assert "1 line(s): 0 stored, 1 duplicate(s), 0 rejected" in capsys.readouterr().out
    assert shown(config, capsys)[GTIN_A]["on_hand"] == 24


def test_a_count_resets_stock_and_sales_after_it_are_taken_off(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    counts = write(
        tmp_path,
        "counts.csv",
        "store,gtin,quantity,time,backroom_capacity\n"
        f"store-1,{GTIN_A},10,{COUNTED},30\n"
        f"store-1,{GTIN_B},-3,{COUNTED},\n"
        f"store-1,{GTIN_B},4,{(NOW + timedelta(days=2)).isoformat()},\n",
    )
    receipts = write(
        tmp_path,
        "receipts.csv",
        f"store,gtin,quantity,time\nstore-1,{GTIN_A},12,{RECEIVED}\n",
    )
    sales = write(
        tmp_path,
        "sales.csv",
        "id,time,store,sku,quantity,unit_price\n"
        f"S1,{(NOW - timedelta(hours=2)).isoformat()},store-1,{GTIN_A},3,1.49\n",
    )
    assert stock(config, "counts", str(counts)) == 1
    err = capsys.readouterr().err
    assert f"{counts} row 3: quantity: must be 0 or more (-3)" in err
    assert f"{counts} row 4: time: in the future" in err
    assert stock(config, "receipts", str(receipts)) == 0
    assert cli.main(["pos", "import", str(sales), "--config", str(config)]) == 0

    row = shown(config, capsys)[GTIN_A]
    assert (row["counted"], row["received_since"], row["sold_since"]) == (10, 12, 3)
    assert (row["on_hand"], row["backroom_capacity"]) == (10 + 12 - 3, 30)
    assert GTIN_B not in shown(config, capsys)


def test_a_price_line_with_other_terms_is_rejected_naming_the_field(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str], db: Database
) -> None:
    prices = write(
        tmp_path,
        "prices.csv",
        "supplier,gtin,pack_size,pack_price,lead_time_days,min_order_value\n"
        f"Metro,{GTIN_A},10,11.90,2,50\n"
        f"Metro,{GTIN_B},6,13.50,2,60\n"
        f"Lekkerland,{GTIN_B},0,7.80,1,0\n"
        f"Lekkerland,{GTIN_A},5,6.25,1,0\n",
    )
    assert stock(config, "prices", str(prices)) == 1
    out, err = capsys.readouterr()
    assert f"{prices} row 3: min_order_value: " in err
    assert f"{prices} row 4: pack_size: " in err
    assert f"{prices}: 4 line(s): 2 stored for 2 supplier(s), 2 rejected" in out
    assert sorted((o.supplier, o.gtin, o.pack_size) for o in offers(db)) == [
        ("Lekkerland", GTIN_A, 5),
        ("Metro", GTIN_A, 10),
    ]


def test_an_unreadable_file_fails_the_run_but_not_the_other_files(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.csv"
    no_header = write(tmp_path, "counts.csv", f"store,gtin,time\nstore-1,{GTIN_A},{COUNTED}\n")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(b"store,gtin,quantity,time\nstore-1,caf\xe9,1,2024-05-03\n")
    good = write(tmp_path, "good.csv", f"store,gtin,quantity,time\nstore-1,{GTIN_A},7,{COUNTED}\n")
    assert stock(config, "counts", str(missing), str(no_header), str(latin1), str(good)) == 1
    out, err = capsys.readouterr()
    assert f"{missing}: cannot read: No such file or directory" in err
    assert f"{no_header} row 1: missing column(s) quantity" in err
    assert f"{latin1} line 2: not UTF-8 text" in err
    assert f"{good}: 1 line(s): 1 stored" in out
    assert shown(config, capsys)[GTIN_A]["on_hand"] == 7


def test_show_of_a_store_without_stock_and_a_config_error(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shown(config, capsys, store="store-9") == {}
    assert stock(config, "show", "--store", "store-9") == 0
    assert "no counts or receipts recorded for store store-9" in capsys.readouterr().out

    bad = write(tmp_path, "bad.yaml", "data_dir: data\ndata_dri: typo\n")
    receipts = EXAMPLES / "stock-receipts.example.csv"
    assert stock(bad, "receipts", str(receipts)) == 2
    assert "data_dri" in capsys.readouterr().err
