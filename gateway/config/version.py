"""The running shelfsense version, for `--version`, /api/health and the OpenAPI document."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """The installed shelfsense version, or "0+unknown" when run from a bare checkout."""
    try:
        return version("shelfsense")
    except PackageNotFoundError:
        return "0+unknown"
