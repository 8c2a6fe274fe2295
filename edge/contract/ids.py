"""Store and camera ids: one rule for every place an id arrives.

An id is one MQTT topic level and part of a broker ACL user name, so it may hold no `/`,
`+`, `#` or space. Payloads, config files, POS lines, API paths and user roles all check
ids against this one pattern, so what one side accepts the other can route.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""1-64 letters, digits, '_', '.' or '-', starting with a letter or digit."""

Identifier = Annotated[str, Field(pattern=ID_PATTERN)]
"""A store or camera id field of a pydantic model."""

_ID = re.compile(ID_PATTERN)


def is_identifier(text: str) -> bool:
    """True when `text` is a valid id as a whole (a trailing line break is not one)."""
    return _ID.fullmatch(text) is not None
