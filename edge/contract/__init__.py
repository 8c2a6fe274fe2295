"""The MQTT message contract shared by camera nodes and the gateway.

The gateway may import this package (and `edge.layout`), never the node's runtime.
"""

from edge.contract.messages import (
    SCHEMA_VERSION,
    Availability,
    Detection,
    EventType,
    Health,
    Message,
    NodeConfig,
    ShelfEvent,
    ShelfState,
    SlotReading,
    SlotStatus,
)
from edge.contract.topics import DEFAULT_PREFIX, CameraTopics, TopicKind, parse_camera_topic

__all__ = [
    "DEFAULT_PREFIX",
    "SCHEMA_VERSION",
    "Availability",
    "CameraTopics",
    "Detection",
    "EventType",
    "Health",
    "Message",
    "NodeConfig",
    "ShelfEvent",
    "ShelfState",
    "SlotReading",
    "SlotStatus",
    "TopicKind",
    "parse_camera_topic",
]
