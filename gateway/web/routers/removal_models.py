"""The answer every DELETE of a camera, layout or store gives: what went, per table."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RemovedOut(BaseModel):
    store: str
    camera: str | None = Field(default=None, description="None for a whole store.")
    removed: dict[str, int] = Field(
        description="Rows removed per table (storage/removal.py says what each delete "
        "takes and what it keeps)."
    )
