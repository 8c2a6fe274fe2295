"""Home Assistant's MQTT discovery configs for one camera, and for the gateway itself.

Follows the documented discovery schema (home-assistant.io/integrations/mqtt, "MQTT
Discovery"; homeassistant/components/mqtt/schemas.py, sensor.py, binary_sensor.py):
the config topic is `<discovery_prefix>/<component>/<node_id>/<object_id>/config` with
node and object ids of `[a-zA-Z0-9_-]` only; `state_topic` is required for both
`sensor` and `binary_sensor`; a device needs `identifiers` (or `connections`); `origin`
needs a `name`; each `availability` entry needs a `topic`, and `availability_mode` is
`all`, `any` or `latest`. Full key names are used (HA also accepts the abbreviations).

Each camera is a device linked `via_device` to the gateway's device, with three sensors
read from the gateway's retained `CameraSummary` (compliance score, empty slots, open
advice) and a connectivity binary sensor read from the camera's own retained
availability topic. The sensors are available only while both the camera and the
gateway say `online` (`availability_mode: all`): a figure from a camera that went away
is stale. The online sensor's availability is the gateway's alone, so a camera that
went away reads "off" (disconnected), not "unavailable". `object_id` names the entity
id on Home Assistant releases before 2025.10, `default_entity_id` on later ones (each
ignores the key it does not know).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from edge.contract.camera_summary import camera_summary_topic
from edge.contract.topics import CameraTopics, gateway_availability_topic
from gateway.config.homeassistant import HomeAssistantSettings

_NOT_ID = re.compile(r"[^A-Za-z0-9_-]")

ONLINE_TEMPLATE = "{{ value_json.state }}"
"""Our availability payloads are JSON (`{"schema_version": 1, "state": "online"}`)."""


@dataclass(frozen=True)
class Entity:
    """One announced entity: its component and the key it is known by in ids."""

    component: str
    key: str
    name: str
    options: dict[str, Any]


def id_part(text: str) -> str:
    """`text` as a discovery node/object id part (store and camera ids may hold '.')."""
    return _NOT_ID.sub("_", text)


@dataclass(frozen=True)
class Discovery:
    """Builds the configs for one gateway's cameras (`prefix`: our MQTT topic prefix)."""

    settings: HomeAssistantSettings
    prefix: str
    sw_version: str

    # ---- ids and topics ------------------------------------------------------------

    def camera_node_id(self, store: str, camera: str) -> str:
        return id_part(f"{self.settings.node_id}_{store}_{camera}")

    def gateway_node_id(self) -> str:
        return id_part(f"{self.settings.node_id}_gateway")

    def config_topic(self, component: str, node_id: str, object_id: str) -> str:
        return f"{self.settings.discovery_prefix}/{component}/{node_id}/{object_id}/config"

    def gateway_identifier(self) -> str:
        return self.gateway_node_id()

    def camera_identifier(self, store: str, camera: str) -> str:
        return self.camera_node_id(store, camera)

    # ---- payloads --------------------------------------------------------------------

    def _origin(self) -> dict[str, str]:
        return {"name": "shelfsense", "sw_version": self.sw_version}

    def _gateway_availability(self) -> dict[str, str]:
        return {
            "topic": gateway_availability_topic(self.prefix),
            "value_template": ONLINE_TEMPLATE,
            "payload_available": "online",
            "payload_not_available": "offline",
        }

    def gateway_device(self) -> dict[str, Any]:
        return {
            "identifiers": [self.gateway_identifier()],
            "name": self.settings.gateway_name,
            "model": "shelfsense store gateway",
            "manufacturer": "shelfsense",
            "sw_version": self.sw_version,
        }

    def camera_device(self, store: str, camera: str, node_software: str | None) -> dict[str, Any]:
        return {
            "identifiers": [self.camera_identifier(store, camera)],
            "name": f"Shelf camera {store} {camera}",
            "model": "shelfsense camera node",
            "manufacturer": "shelfsense",
            "sw_version": node_software or "unknown",
            "via_device": self.gateway_identifier(),
        }

    def camera_entities(self, store: str, camera: str) -> list[Entity]:
        summary = camera_summary_topic(store, camera, self.prefix)
        availability = CameraTopics(store, camera, self.prefix).availability
        both = [
            {
                "topic": availability,
                "value_template": ONLINE_TEMPLATE,
                "payload_available": "online",
                "payload_not_available": "offline",
            },
            self._gateway_availability(),
        ]
        measured = {"state_topic": summary, "availability": both, "availability_mode": "all"}
        return [
            Entity(
                "sensor",
                "compliance_score",
                "Compliance score",
                measured
                | {
                    "value_template": "{{ value_json.compliance_score }}",
                    "unit_of_measurement": "%",
                    "state_class": "measurement",
                    "suggested_display_precision": 0,
                    "icon": "mdi:bookshelf",
                    "json_attributes_topic": summary,
                },
            ),
            Entity(
                "sensor",
                "empty_slots",
                "Empty slots",
                measured
                | {
                    "value_template": "{{ value_json.empty_slots }}",
                    "state_class": "measurement",
                    "icon": "mdi:tray-remove",
                },
            ),
            Entity(
                "sensor",
                "open_advice",
                "Open advice",
                measured
                | {
                    "value_template": "{{ value_json.open_advice }}",
                    "state_class": "measurement",
                    "icon": "mdi:clipboard-alert-outline",
                },
            ),
            Entity(
                "binary_sensor",
                "online",
                "Online",
                {
                    "state_topic": availability,
                    "value_template": ONLINE_TEMPLATE,
                    "payload_on": "online",
                    "payload_off": "offline",
                    "device_class": "connectivity",
                    "entity_category": "diagnostic",
                    "availability": [self._gateway_availability()],
                },
            ),
        ]

    def _config(self, entity: Entity, node_id: str, device: dict[str, Any]) -> dict[str, Any]:
        object_id = f"{node_id}_{entity.key}"
        return {
            "name": entity.name,
            "unique_id": object_id,
            "object_id": object_id,
            "default_entity_id": f"{entity.component}.{object_id}",
            "device": device,
            "origin": self._origin(),
            "qos": 1,
            **entity.options,
        }

    def camera_configs(
        self, store: str, camera: str, node_software: str | None = None
    ) -> dict[str, bytes]:
        """Config topic -> retained payload, for each entity of one camera."""
        node_id = self.camera_node_id(store, camera)
        device = self.camera_device(store, camera, node_software)
        return {
            self.config_topic(e.component, node_id, e.key): _json(self._config(e, node_id, device))
            for e in self.camera_entities(store, camera)
        }

    def camera_config_topics(self, store: str, camera: str) -> list[str]:
        """The topics a deleted camera's configs are cleared on (empty retained)."""
        node_id = self.camera_node_id(store, camera)
        return [
            self.config_topic(e.component, node_id, e.key)
            for e in self.camera_entities(store, camera)
        ]

    def gateway_configs(self) -> dict[str, bytes]:
        """The gateway's own device: a connectivity sensor on its availability topic, so
        each camera's `via_device` names a device Home Assistant knows."""
        node_id = self.gateway_node_id()
        entity = Entity(
            "binary_sensor",
            "online",
            "Online",
            {
                "state_topic": gateway_availability_topic(self.prefix),
                "value_template": ONLINE_TEMPLATE,
                "payload_on": "online",
                "payload_off": "offline",
                "device_class": "connectivity",
                "entity_category": "diagnostic",
            },
        )
        config = self._config(entity, node_id, self.gateway_device())
        return {self.config_topic(entity.component, node_id, entity.key): _json(config)}


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
