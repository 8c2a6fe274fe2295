"""Home Assistant's side of MQTT discovery, for tests: its documented schema facts and a
client that discovers entities and follows their topics to values as it does.

The schema facts are from Home Assistant's MQTT integration (docs "MQTT Discovery",
"MQTT Sensor", "MQTT Binary sensor"; homeassistant/components/mqtt/schemas.py, entity.py,
sensor.py, binary_sensor.py): the config topic's shape, the keys each component takes
(state_topic required), the device needing identifiers or connections, origin needing a
name, availability entries needing a topic. Values are rendered with Jinja2 with
`value_json` bound, as Home Assistant renders `value_template`.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any

import jinja2

from tests.support.gateway_store import MqttClient

TOPIC = re.compile(
    r"^(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?(?P<object_id>[a-zA-Z0-9_-]+)/config$"
)
"""Home Assistant's discovery topic, after `<discovery_prefix>/` (discovery.py)."""


def split_topic(topic: str, prefix: str = "homeassistant") -> re.Match[str] | None:
    if not topic.startswith(prefix + "/"):
        return None
    return TOPIC.match(topic.removeprefix(prefix + "/"))


COMMON = {
    "availability", "availability_mode", "availability_template", "availability_topic",
    "payload_available", "payload_not_available", "device", "origin", "enabled_by_default",
    "entity_category", "entity_picture", "icon", "json_attributes_topic",
    "json_attributes_template", "object_id", "default_entity_id", "unique_id", "name",
    "qos", "encoding", "platform",
}  # fmt: skip
KEYS = {
    "sensor": COMMON | {
        "state_topic", "value_template", "unit_of_measurement", "device_class",
        "state_class", "expire_after", "force_update", "last_reset_value_template",
        "suggested_display_precision", "options",
    },
    "binary_sensor": COMMON | {
        "state_topic", "value_template", "payload_on", "payload_off", "device_class",
        "expire_after", "force_update", "off_delay",
    },
}  # fmt: skip
REQUIRED = {"sensor": {"state_topic"}, "binary_sensor": {"state_topic"}}
DEVICE_KEYS = {
    "identifiers", "connections", "manufacturer", "model", "model_id", "name", "hw_version",
    "serial_number", "sw_version", "via_device", "suggested_area", "configuration_url",
}  # fmt: skip
STATE_CLASSES = {"measurement", "measurement_angle", "total", "total_increasing"}
BINARY_DEVICE_CLASSES = {"connectivity", "problem", "running", "occupancy", "presence"}


def check_config(topic: str, config: dict[str, Any], prefix: str = "homeassistant") -> list[str]:
    """What about one discovery message Home Assistant would reject (empty: nothing)."""
    problems: list[str] = []
    match = split_topic(topic, prefix)
    if match is None:
        return [f"{topic}: not <prefix>/<component>/[<node_id>/]<object_id>/config"]
    component = match["component"]
    if component not in KEYS:
        return [f"{topic}: component {component} is not checked here"]
    problems += [f"{topic}: unknown key {k}" for k in sorted(set(config) - KEYS[component])]
    problems += [f"{topic}: missing {k}" for k in sorted(REQUIRED[component] - set(config))]
    device = config.get("device")
    if device is not None:
        problems += [f"{topic}: device.{k} unknown" for k in sorted(set(device) - DEVICE_KEYS)]
        if not (device.get("identifiers") or device.get("connections")):
            problems.append(f"{topic}: device has neither identifiers nor connections")
        if "device" in config and "unique_id" not in config:
            problems.append(f"{topic}: device info works only with a unique_id")
    origin = config.get("origin")
    if origin is not None and not origin.get("name"):
        problems.append(f"{topic}: origin without name")
    if "availability" in config and "availability_topic" in config:
        problems.append(f"{topic}: availability and availability_topic together")
    for entry in config.get("availability", []):
        if "topic" not in entry:
            problems.append(f"{topic}: availability entry without topic")
    if config.get("availability_mode", "latest") not in ("all", "any", "latest"):
        problems.append(f"{topic}: availability_mode {config['availability_mode']}")
    if "state_class" in config and config["state_class"] not in STATE_CLASSES:
        problems.append(f"{topic}: state_class {config['state_class']}")
    if component == "binary_sensor" and config.get("device_class", "problem") not in (
        BINARY_DEVICE_CLASSES
    ):
        problems.append(f"{topic}: device_class {config['device_class']}")
    if config.get("entity_category") not in (None, "diagnostic", "config"):
        problems.append(f"{topic}: entity_category {config['entity_category']}")
    for key in ("object_id", "unique_id"):
        if key in config and not re.fullmatch(r"[a-zA-Z0-9_-]+", str(config[key])):
            problems.append(f"{topic}: {key} {config[key]!r}")
    return problems


def render(template: str | None, payload: bytes) -> str:
    """`value_template` rendered as Home Assistant does (no template: the payload)."""
    text = payload.decode()
    if template is None:
        return text
    try:
        value_json = json.loads(text)
    except ValueError:
        value_json = None
    return jinja2.Environment().from_string(template).render(value_json=value_json, value=text)


@dataclass
class Entity:
    topic: str
    component: str
    config: dict[str, Any]


class HomeAssistantClient:
    """Subscribes to `<prefix>/#` as Home Assistant does, keeps the live configs
    (an empty retained payload removes one) and follows each entity's topics."""

    def __init__(self, url: str, prefix: str = "homeassistant") -> None:
        self.mqtt = MqttClient(url, "home-assistant")
        self.prefix = prefix
        self._lock = threading.Lock()
        self.mqtt.subscribe(f"{prefix}/#")
        self._followed: set[str] = set()

    def _latest(self) -> dict[str, bytes]:
        latest: dict[str, bytes] = {}
        with self.mqtt._lock:
            for message in self.mqtt.messages:
                latest[message.topic] = message.payload
        return latest

    def entities(self) -> dict[str, Entity]:
        """unique_id -> entity, from the configs currently announced."""
        found = {}
        for topic, payload in self._latest().items():
            match = split_topic(topic, self.prefix)
            if match is None or not payload:
                continue
            config = json.loads(payload)
            found[config["unique_id"]] = Entity(topic, match["component"], config)
        return found

    def follow(self) -> None:
        """Subscribe to the state and availability topics of every entity."""
        for entity in self.entities().values():
            topics = [entity.config["state_topic"]]
            topics += [a["topic"] for a in entity.config.get("availability", [])]
            for topic in topics:
                if topic not in self._followed:
                    self.mqtt.subscribe(topic)
                    self._followed.add(topic)

    def available(self, entity: Entity) -> bool:
        latest = self._latest()
        entries = entity.config.get("availability", [])
        seen = []
        for entry in entries:
            payload = latest.get(entry["topic"])
            value = render(entry.get("value_template"), payload) if payload else None
            seen.append(value == entry.get("payload_available", "online"))
        mode = entity.config.get("availability_mode", "latest")
        if not entries:
            return True
        return all(seen) if mode == "all" else any(seen)

    def state(self, entity: Entity) -> str | None:
        """The entity's state as Home Assistant shows it: 'unavailable', None (nothing
        received yet), the rendered value, or 'on'/'off' for a binary sensor."""
        if not self.available(entity):
            return "unavailable"
        payload = self._latest().get(entity.config["state_topic"])
        if not payload:
            return None
        value = render(entity.config.get("value_template"), payload)
        if entity.component == "binary_sensor":
            return {entity.config["payload_on"]: "on", entity.config["payload_off"]: "off"}.get(
                value
            )
        return value

    def close(self) -> None:
        self.mqtt.close()
