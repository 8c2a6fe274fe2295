"""MQTT topic names: `{prefix}/{store}/{camera}/{kind}`.

One configurable prefix, then store, then camera, as Frigate and zigbee2mqtt do. Store-wide
topics (advice, POS) have three levels, so they can never be mistaken for a camera's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DEFAULT_PREFIX = "shelfsense"


class TopicKind(StrEnum):
    """The last topic level of a camera topic, and who publishes it."""

    AVAILABILITY = "availability"  # node, retained, Last Will
    STATE = "state"  # node, retained
    EVENTS = "events"  # node, QoS 1, not retained
    HEALTH = "health"  # node
    CONFIG = "config"  # gateway, retained
    SNAPSHOT = "snapshot"  # node, only when asked (calibration)
    SNAPSHOT_REQUEST = "snapshot_request"  # gateway


@dataclass(frozen=True)
class CameraTopics:
    """All topics of one camera."""

    store: str
    camera: str
    prefix: str = DEFAULT_PREFIX

    def topic(self, kind: TopicKind) -> str:
        return f"{self.prefix}/{self.store}/{self.camera}/{kind.value}"

    @property
    def availability(self) -> str:
        return self.topic(TopicKind.AVAILABILITY)

    @property
    def state(self) -> str:
        return self.topic(TopicKind.STATE)

    @property
    def events(self) -> str:
        return self.topic(TopicKind.EVENTS)

    @property
    def health(self) -> str:
        return self.topic(TopicKind.HEALTH)

    @property
    def config(self) -> str:
        return self.topic(TopicKind.CONFIG)

    @property
    def snapshot(self) -> str:
        return self.topic(TopicKind.SNAPSHOT)

    @property
    def snapshot_request(self) -> str:
        return self.topic(TopicKind.SNAPSHOT_REQUEST)


def camera_subscription(prefix: str = DEFAULT_PREFIX) -> str:
    """The wildcard the gateway subscribes to for every camera's topics."""
    return f"{prefix}/+/+/+"


def parse_camera_topic(topic: str, prefix: str = DEFAULT_PREFIX) -> tuple[str, str, TopicKind]:
    """Split a camera topic into (store, camera, kind); ValueError names what is wrong."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != prefix:
        raise ValueError(f"topic {topic!r} is not {prefix}/<store>/<camera>/<kind>")
    store, camera, kind = parts[1], parts[2], parts[3]
    try:
        return store, camera, TopicKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in TopicKind)
        raise ValueError(f"topic {topic!r}: unknown kind {kind!r} (known: {known})") from None


POS_SALES = "pos_sales"
"""Last level of `{prefix}/{store}/pos_sales`, where a store's POS terminals publish sales."""


def pos_sales_topic(store: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The topic a store's POS terminals publish sale lines on (QoS 1, not retained)."""
    return f"{prefix}/{store}/{POS_SALES}"


def pos_sales_subscription(prefix: str = DEFAULT_PREFIX) -> str:
    """The wildcard the gateway subscribes to for every store's POS sales."""
    return f"{prefix}/+/{POS_SALES}"


def parse_pos_sales_topic(topic: str, prefix: str = DEFAULT_PREFIX) -> str | None:
    """The store of a POS sales topic, or None when `topic` is not one."""
    parts = topic.split("/")
    if len(parts) == 3 and parts[0] == prefix and parts[2] == POS_SALES and parts[1]:
        return parts[1]
    return None
