"""The `homeassistant:` section of gateway.yaml (Home Assistant MQTT discovery)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class HomeAssistantSettings(BaseModel):
    """The optional `homeassistant:` section: MQTT discovery of each camera's sensors
    (`gateway.homeassistant`). Without the section nothing is announced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    discovery_prefix: str = Field(
        default="homeassistant",
        pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$",
        description="Home Assistant's discovery prefix (its MQTT integration's setting).",
    )
    node_id: str = Field(
        default="shelfsense",
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="First part of every announced node id and unique id; change it only "
        "to tell two gateways on one broker apart.",
    )
    gateway_name: str = Field(
        default="shelfsense gateway",
        min_length=1,
        max_length=64,
        description="The gateway's device name in Home Assistant (cameras are linked to it).",
    )
