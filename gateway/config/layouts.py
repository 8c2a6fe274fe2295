"""Reading the layout files named in the gateway config.

A layout file is YAML (or JSON, which YAML reads too) of `edge.layout.Layout`, strict like
every config file, so a typo or a bad GTIN names the file and the key.
"""

from __future__ import annotations

from edge.contract.config_file import ConfigError, load_config
from edge.layout import Layout
from gateway.config.settings import GatewaySettings

CameraKey = tuple[str, str]


def load_layouts(settings: GatewaySettings) -> dict[CameraKey, Layout]:
    """Every configured layout by (store, camera); ConfigError lists every bad file."""
    layouts: dict[CameraKey, Layout] = {}
    problems: list[str] = []
    for source in settings.layouts:
        try:
            layouts[(source.store, source.camera)] = load_config(source.file, Layout)
        except ConfigError as error:
            problems.append(f"layout of {source.store}/{source.camera}: {error}")
    if problems:
        raise ConfigError("\n".join(problems))
    return layouts
