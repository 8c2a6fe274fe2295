"""Request parameter types every API router shares, so each rule is written once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BeforeValidator

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

StoreId = Annotated[str, Path(pattern=ID_PATTERN, description="Store id (a topic level).")]
CameraId = Annotated[str, Path(pattern=ID_PATTERN, description="Camera id (a topic level).")]
