"""Request parameter types every API router shares, so each rule is written once."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BeforeValidator, Field

from edge.contract.ids import ID_PATTERN

MAX_LIMIT = 1000
"""Most rows one list request returns."""

MAX_ROW_ID = 2**63 - 1
"""SQLite's largest integer: a bigger id or offset would overflow, not just miss."""

BAD_BODY: dict[int | str, dict[str, Any]] = {400: {"description": "The body cannot be parsed"}}
"""FastAPI answers 400 for a body it cannot parse as JSON: routes with a body say so."""


def _iso_8601(value: object) -> object:
    """Only ISO 8601 text is a time here: pydantic would read `0.5` as Unix seconds."""
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("expected an ISO 8601 time, e.g. 2026-03-01T08:00:00Z") from None
    return value


IsoTime = Annotated[datetime, BeforeValidator(_iso_8601)]


def _clock_text(value: object) -> object:
    """Only text is a clock time here: pydantic would read the number `0` as midnight (seconds
    since it), which the schema's `string` promises to refuse."""
    if value is not None and not isinstance(value, str | time):
        raise ValueError("expected a local time as text, e.g. 22:00")
    return value


ClockTime = Annotated[time, BeforeValidator(_clock_text)]

StoreId = Annotated[str, Path(pattern=ID_PATTERN, description="Store id (a topic level).")]
CameraId = Annotated[str, Path(pattern=ID_PATTERN, description="Camera id (a topic level).")]


def reason_text(description: str, blank: str) -> Any:
    """The type of the reason a person gives for a decision (dismissing advice, an item of
    guidance): up to 500 characters, stripped. A blank one tells whoever reviews the
    decisions nothing, so it is refused (a 422 saying `blank`); the `\\S` pattern states
    that in the schema for clients and fuzzers."""

    def given(value: str) -> str:
        if not value.strip():
            raise ValueError(blank)
        return value.strip()

    return Annotated[
        str,
        Field(
            min_length=1,
            max_length=500,
            description=description,
            json_schema_extra={"pattern": r"\S"},
        ),
        AfterValidator(given),
    ]
