"""Where the repository and its neighbours are, for tests that read shipped files."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The repository root (tests/support/paths.py is two folders down)."""

SHARED = REPO.parent / "shared"
"""`../shared` beside the checkout: the real datasets CI has (tests skip without it)."""
