"""Batch import plumbing shared by POS sales and the product catalogue.

A batch (a JSON list or a CSV file) is validated line by line: one bad line is reported
with its position and field and never costs the good lines. CSV row numbers are the ones
a spreadsheet shows (the header is row 1, a blank line is a row), so an error like
`sales.csv row 7: quantity: not an integer ('x')` leads straight to the cell.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from typing import IO, Any, Self, TypeVar

from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_CSV_BYTES = 128 * 1024 * 1024
"""Largest CSV the API accepts in one request; it is streamed (spooled to disk and read
a line at a time), so this bounds the request's duration and disk, not memory."""

READ_CHUNK = 64 * 1024
"""Bytes read at a time from a file or an upload."""

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


class LineReport:
    """What the reports of the catalogue, price list and stock imports have in common:
    the lines received and every rejected line with its position and field. Each report
    is a dataclass declaring these two fields beside the counts of its own."""

    received: int
    rejected: list[LineError]

    @property
    def rejected_lines(self) -> int:
        """Lines refused (a line with two bad fields has two errors but counts once)."""
        return len({(e.row, e.index) for e in self.rejected})

    @classmethod
    def of(cls, good: Sized, errors: Sequence[LineError]) -> Self:
        """The report before anything is stored: the good lines and the refused ones
        received, the refused ones rejected."""
        report = cls(received=len(good), rejected=list(errors))  # type: ignore[call-arg]
        report.received += report.rejected_lines
        return report


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


class Utf8Check:
    """Checks a byte stream is UTF-8 as it passes, chunk by chunk (so a file is refused
    before any of its lines is stored), naming the line of the first bad byte."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._offset = 0
        self._newlines = 0

    def feed(self, chunk: bytes, final: bool = False) -> None:
        pending = self._decoder.getstate()[0]  # bytes of a character begun in the last chunk
        try:
            self._decoder.decode(chunk, final)
        except UnicodeDecodeError as error:
            start = self._offset - len(pending)  # where the decoder's input began
            bad = start + error.start
            before = (pending + chunk)[: error.start]
            line = self._newlines - pending.count(b"\n") + before.count(b"\n") + 1
            raise ImportFileError(
                f"{self.source} line {line}: not UTF-8 text (byte {bad}); save the file as "
                "CSV UTF-8"
            ) from None
        self._offset += len(chunk)
        self._newlines += chunk.count(b"\n")

    def finish(self) -> None:
        self.feed(b"", final=True)


def check_utf8_file(binary: IO[bytes], source: str) -> None:
    """Read a whole file once to check it is UTF-8 (ImportFileError otherwise), then
    rewind it."""
    check = Utf8Check(source)
    while chunk := binary.read(READ_CHUNK):
        check.feed(chunk)
    check.finish()
    binary.seek(0)


def text_of(binary: IO[bytes]) -> IO[str]:
    """A checked UTF-8 file as text for the CSV reader (a byte order mark dropped)."""
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")


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
    text: str | IO[str], source: str, required: Sequence[str], optional: Sequence[str] = ()
) -> Iterator[tuple[int, dict[str, str]] | LineError]:
    """Each data row as (spreadsheet row, {column: cell}), or a LineError for a row whose
    cell count is wrong. Empty cells are left out, so the model reports them as required
    (or uses the default of an optional column). Unknown columns are ignored, so a till's
    export with extra columns imports as is.

    `text` is the whole file, or a text stream read a line at a time (memory stays flat
    however long the file). Raises ImportFileError when the header is missing, repeats a
    column or lacks a required one.
    """
    stream = io.StringIO(text, newline="") if isinstance(text, str) else text
    first_line = stream.readline()
    lines = itertools.chain([first_line], stream)
    reader = csv.reader(lines, delimiter=_delimiter(first_line.split("\n", 1)[0]))
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


Checked = tuple[int, ModelT] | list[LineError]
"""One line of a batch, checked: (position, model), or the errors of a bad line."""


def iter_csv_lines(
    model: type[ModelT],
    text: str | IO[str],
    source: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
) -> Iterator[Checked[ModelT]]:
    """Validate CSV rows one at a time, as they are read (see `csv_rows`)."""
    for item in csv_rows(text, source, required, optional):
        if isinstance(item, LineError):
            yield [item]
            continue
        row, cells = item
        line, problems = validate_line(model, cells, row=row, source=source)
        yield problems if line is None else (row, line)


def split_checked(
    items: Iterable[Checked[ModelT]],
) -> tuple[list[tuple[int, ModelT]], list[LineError]]:
    """Good lines and the errors of the bad ones, each in a list."""
    good: list[tuple[int, ModelT]] = []
    errors: list[LineError] = []
    for item in items:
        if isinstance(item, list):
            errors.extend(item)
        else:
            good.append(item)
    return good, errors


def csv_lines(
    model: type[ModelT],
    text: str | IO[str],
    source: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
) -> tuple[list[tuple[int, ModelT]], list[LineError]]:
    """Validate every CSV row: (row, model) for the good ones and the errors of the bad."""
    return split_checked(iter_csv_lines(model, text, source, required, optional))


def iter_batch_lines(model: type[ModelT], items: Iterable[Any]) -> Iterator[Checked[ModelT]]:
    """Validate the items of a JSON batch one at a time, errors naming index and field."""
    for index, item in enumerate(items):
        line, problems = validate_line(model, item, index=index)
        yield problems if line is None else (index, line)


def batch_lines(
    model: type[ModelT], items: Sequence[Any]
) -> tuple[list[tuple[int, ModelT]], list[LineError]]:
    """Validate every item of a JSON batch: (index, model) for the good ones and the
    errors of the bad, each naming its index and field."""
    return split_checked(iter_batch_lines(model, items))


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
