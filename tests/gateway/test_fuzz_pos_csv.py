"""Property-based fuzzing of POS CSV rows: whatever a till exports, the import never
crashes, every bad row is named by its spreadsheet row, and every good row is kept."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.layout import with_check_digit
from gateway.retail.batch_import import ImportFileError
from gateway.retail.pos import parse_sales_csv, sales, store_lines
from gateway.storage.connection import Database

HEADER = ["id", "time", "store", "sku", "quantity", "unit_price"]
NOW = datetime.now(UTC).replace(microsecond=0)


@st.composite
def good_row(draw: st.DrawFn, number: int) -> list[str]:
    """A valid sale line; `number` keeps ids unique within a file."""
    when = NOW - timedelta(minutes=draw(st.integers(0, 60 * 24 * 30)))
    gtin = with_check_digit(draw(st.from_regex(r"\d{12}", fullmatch=True)))
    quantity = draw(st.integers(-5, 50).filter(lambda q: q != 0))
    price = f"{draw(st.integers(0, 99_999)) / 100:.2f}"
    return [f"line-{number}", when.isoformat(), "store-1", gtin, str(quantity), price]


garbage = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "NaN", "inf", "-0", "1e309", "2026-13-40T25:61:00Z", "0", "🛒", '"']),
)


@st.composite
def bad_row(draw: st.DrawFn, number: int) -> list[str]:
    """A valid line with one field replaced by garbage (it may still happen to be valid)."""
    row = draw(good_row(number))
    column = draw(st.integers(1, len(HEADER) - 1))  # keep the id: it tells rows apart
    row[column] = draw(garbage)
    return row


@st.composite
def sales_file(draw: st.DrawFn) -> tuple[str, list[bool]]:
    """CSV text and, per data row, whether it was written to be valid."""
    kinds = draw(st.lists(st.booleans(), min_size=1, max_size=12))
    rows = [draw(good_row(i) if ok else bad_row(i)) for i, ok in enumerate(kinds)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue(), kinds


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sales_file())
def test_bad_rows_are_named_and_good_rows_kept(generated: tuple[str, list[bool]]) -> None:
    text, kinds = generated
    good, errors = parse_sales_csv(text, "till.csv")
    # Each data row is either parsed or refused, never both, never dropped silently.
    parsed_rows = {row for row, _ in good}
    refused_rows = {e.row for e in errors}
    assert parsed_rows.isdisjoint(refused_rows)
    assert parsed_rows | refused_rows == set(range(2, len(kinds) + 2))  # header is row 1
    for row, ok in enumerate(kinds, start=2):
        if ok:
            assert row in parsed_rows, (row, [str(e) for e in errors if e.row == row])
    for error in errors:
        assert str(error).startswith(f"till.csv row {error.row}: "), str(error)
        assert error.field in (*HEADER, None), error


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_any_bytes_are_a_clear_file_error_or_rows(data: bytes | str) -> None:
    try:
        good, errors = parse_sales_csv(data, "till.csv")
    except ImportFileError as error:
        assert "till.csv" in str(error)
    else:
        assert all(e.row is None or e.row >= 2 for e in errors)
        assert all(row >= 2 for row, _ in good)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sales_file())
def test_a_fuzzed_file_stores_exactly_its_good_rows(generated: tuple[str, list[bool]]) -> None:
    good, errors = parse_sales_csv(generated[0], "till.csv")
    with tempfile.TemporaryDirectory() as folder:
        db = Database(Path(folder) / "pos.db")
        db.open()
        try:
            report = store_lines(db, good, errors, source="csv", csv_source="till.csv")
            assert report.accepted == len(good)
            stored = {line["id"] for line in sales(db, limit=1000)}  # any store
            assert stored == {line.id for _, line in good}
        finally:
            db.close()
