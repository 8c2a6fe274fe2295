"""Batch import plumbing shared by POS sales and the product catalogue.

A batch (a JSON list or a CSV file) is validated line by line: one bad line is reported
with its position and field and never costs the good lines. CSV row numbers are the ones
a spreadsheet shows (the header is row 1, a blank line is a row), so an error like
`sales.csv row 7: quantity: not an integer ('x')` leads straight to the cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_CSV_BYTES = 32 * 1024 * 1024
"""Largest CSV the API accepts in one request; split bigger exports or use the CLI."""

MAX_BATCH_LINES = 10_000
"""Most lines in one JSON batch (POST /api/pos/sales, /api/catalogue)."""


@dataclass(frozen=True)
class LineError:
    """Why one line of a batch was not stored.

    `row` is the spreadsheet row of a CSV line, `index` the 0-based position of a JSON
    line; `field` is None when the line as a whole is at fault.
    """

    message: str
    field: str | None = None
    row: int | None = None
    index: int | None = None
    source: str | None = None

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        if self.row is not None:
            where.append(f"row {self.row}")
        elif self.index is not None:
            where.append(f"line {self.index}")
        prefix = " ".join(where)
        field = f"{self.field}: " if self.field else ""
        return f"{prefix}: {field}{self.message}" if prefix else f"{field}{self.message}"


class ImportFileError(ValueError):
    """A file that cannot be read as a batch at all (encoding, CSV header, JSON shape);
    the message names the file."""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def field_errors(error: ValidationError) -> list[tuple[str | None, str]]:
    """(field, message) for each problem, messages short enough for a CSV report."""
    found: list[tuple[str | None, str]] = []
    for item in error.errors():
        loc = item["loc"]
        field = ".".join(str(p) for p in loc) if loc else None
        kind = item["type"]
        if kind == "missing":
            message = "required"
        elif kind == "value_error":
            message = item["msg"].removeprefix("Value error, ")
        else:
            message = f"{item['msg'][0].lower()}{item['msg'][1:]} ({_short(item.get('input'))})"
        found.append((field, message))
    return found


def validate_line(
    model: type[ModelT],
    data: Any,
    *,
    row: int | None = None,
    index: int | None = None,
    source: str | None = None,
) -> tuple[ModelT | None, list[LineError]]:
    """One line through `model`: the model, or the errors naming each bad field."""
    if not isinstance(data, dict):
        return None, [
            LineError(
                f"expected an object, got {type(data).__name__}",
                row=row,
                index=index,
                source=source,
            )
        ]
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, [
            LineError(message, field, row=row, index=index, source=source)
            for field, message in field_errors(error)
        ]


def decode_csv(data: bytes, source: str) -> str:
    """UTF-8 text (a spreadsheet's byte order mark is dropped); ImportFileError otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportFileError(
            f"{source} line {line}: not UTF-8 text (byte {error.start}); save the file as CSV UTF-8"
        ) from None


def _delimiter(header_line: str) -> str:
    """',' unless the header uses ';' only (spreadsheets in comma-decimal locales)."""
    return ";" if ";" in header_line and "," not in header_line else ","


def csv_rows(
    text: str, source: str, required: Sequence[str], optional: Sequence[str] = ()
) -> Iterator[tuple[int, dict[str, str]] | LineError]:
    """Each data row as (spreadsheet row, {column: cell}), or a LineError for a row whose
    cell count is wrong. Empty cells are left out, so the model reports them as required
    (or uses the default of an optional column). Unknown columns are ignored, so a till's
    export with extra columns imports as is.

    Raises ImportFileError when the header is missing, repeats a column or lacks a required
    one.
    """
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    header: list[str] | None = None
    for row_number, cells in enumerate(reader, start=1):
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in cells]
            _check_header(header, source, required, optional)
            continue
        if len(cells) != len(header):
            yield LineError(
                f"expected {len(header)} cells (as in the header), got {len(cells)}",
                row=row_number,
                source=source,
            )
            continue
        yield (
            row_number,
            {
                name: cell.strip()
                for name, cell in zip(header, cells, strict=True)
                if name and cell.strip()
            },
        )
    if header is None:
        raise ImportFileError(
            f"{source}: empty file; expected a header row with {', '.join(required)}"
        )


def _check_header(
    header: list[str], source: str, required: Sequence[str], optional: Sequence[str]
) -> None:
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise ImportFileError(f"{source} row 1: column {name!r} appears twice")
        seen.add(name)
    missing = [name for name in required if name not in seen]
    if missing:
        known = ", ".join([*required, *optional])
        raise ImportFileError(
            f"{source} row 1: missing column(s) {', '.join(missing)} "
            f"(the header must name: {known}; found: {', '.join(header)})"
        )


def csv_lines(
    model: type[ModelT],
    text: str,
    source: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
) -> tuple[list[tuple[int, ModelT]], list[LineError]]:
    """Validate every CSV row: (row, model) for the good ones and the errors of the bad."""
    good: list[tuple[int, ModelT]] = []
    errors: list[LineError] = []
    for item in csv_rows(text, source, required, optional):
        if isinstance(item, LineError):
            errors.append(item)
            continue
        row, cells = item
        line, problems = validate_line(model, cells, row=row, source=source)
        if line is None:
            errors.extend(problems)
        else:
            good.append((row, line))
    return good, errors


def batch_lines(
    model: type[ModelT], items: Sequence[Any]
) -> tuple[list[tuple[int, ModelT]], list[LineError]]:
    """Validate every item of a JSON batch: (index, model) for the good ones and the
    errors of the bad, each naming its index and field."""
    good: list[tuple[int, ModelT]] = []
    errors: list[LineError] = []
    for index, item in enumerate(items):
        line, problems = validate_line(model, item, index=index)
        if line is None:
            errors.extend(problems)
        else:
            good.append((index, line))
    return good, errors


def file_lines(
    model: type[ModelT],
    data: bytes | str,
    source: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
) -> tuple[list[tuple[int, ModelT]], list[LineError]]:
    """`csv_lines` of a file's bytes (decoded as UTF-8) or text; ImportFileError if the
    file cannot be read at all."""
    text = decode_csv(data, source) if isinstance(data, bytes) else data
    return csv_lines(model, text, source, required, optional)
