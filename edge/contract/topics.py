"""MQTT topic names: `{prefix}/{store}/{camera}/{kind}`.

One configurable prefix, then store, then camera, as Frigate and zigbee2mqtt do. Store-wide
topics (advice, POS) and the gateway's own availability have three levels, so they can
never be mistaken for a camera's. The gateway reads each topic it receives once
(`parse_topic`) and hands the result on with the message.
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
    MODEL = "model"  # gateway, retained: a signed model to run (edge.contract.model_rollout)
    ROLLOUT = "rollout"  # node, retained: what became of that announcement


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

    @property
    def model(self) -> str:
        return self.topic(TopicKind.MODEL)

    @property
    def rollout(self) -> str:
        return self.topic(TopicKind.ROLLOUT)


def camera_subscription(prefix: str = DEFAULT_PREFIX) -> str:
    """The wildcard the gateway subscribes to for every camera's topics."""
    return f"{prefix}/+/+/+"


POS_SALES = "pos_sales"
"""Last level of `{prefix}/{store}/pos_sales`, where a store's POS terminals publish sales."""


def pos_sales_topic(store: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The topic a store's POS terminals publish sale lines on (QoS 1, not retained)."""
    return f"{prefix}/{store}/{POS_SALES}"


def pos_sales_subscription(prefix: str = DEFAULT_PREFIX) -> str:
    """The wildcard the gateway subscribes to for every store's POS sales."""
    return f"{prefix}/+/{POS_SALES}"


GATEWAY = "_gateway"
"""Second level of the gateway's own topics: no store id can be it (ids start with a
letter or digit), and with three levels they never match the camera wildcard."""


def gateway_availability_topic(prefix: str = DEFAULT_PREFIX) -> str:
    """Where the gateway says `online`/`offline` (retained, and its Last Will)."""
    return f"{prefix}/{GATEWAY}/{TopicKind.AVAILABILITY.value}"


@dataclass(frozen=True)
class CameraTopic:
    """A received camera topic, split: whose it is and what it carries."""

    text: str
    store: str
    camera: str
    kind: TopicKind


@dataclass(frozen=True)
class PosSalesTopic:
    """A received `{prefix}/{store}/pos_sales` topic."""

    text: str
    store: str


@dataclass(frozen=True)
class UnknownTopic:
    """A received topic that is neither; `problem` says why (a dead letter's reason)."""

    text: str
    problem: str


IncomingTopic = CameraTopic | PosSalesTopic | UnknownTopic
"""What the gateway makes of a topic it receives, read once per message."""


def parse_topic(topic: str, prefix: str = DEFAULT_PREFIX) -> IncomingTopic:
    """Split a topic the gateway subscribes to: a camera's, a store's POS sales, or
    neither (never raises: an unknown topic is a message to dead-letter, not a crash)."""
    parts = topic.split("/")
    if len(parts) == 3 and parts[0] == prefix and parts[2] == POS_SALES and parts[1]:
        return PosSalesTopic(topic, parts[1])
    if len(parts) != 4 or parts[0] != prefix:
        return UnknownTopic(topic, f"topic {topic!r} is not {prefix}/<store>/<camera>/<kind>")
    store, camera, kind = parts[1], parts[2], parts[3]
    try:
        return CameraTopic(topic, store, camera, TopicKind(kind))
    except ValueError:
        known = ", ".join(k.value for k in TopicKind)
        return UnknownTopic(topic, f"unknown kind {kind!r} (known: {known})")
