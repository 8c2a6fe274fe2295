"""What crosses the wire between camera nodes, the gateway and anyone else on the broker.

Topic names (`topics`), the store/camera id rule (`ids`), every payload model
(`messages`, `advice`) and the JSON Schemas published for them (`schemas`), and what both
sides must compute or read alike: the compliance score (`compliance`), the broker
connection settings (`broker`) and the strict config file reader (`config_file`). Of
`edge`, the gateway may import only this package and `edge.layout`, never the node's
runtime; so a change here is a change to what both sides agree on.
"""

from edge.contract.ids import ID_PATTERN, Identifier
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
from edge.contract.topics import (
    DEFAULT_PREFIX,
    CameraTopic,
    CameraTopics,
    IncomingTopic,
    PosSalesTopic,
    TopicKind,
    UnknownTopic,
    gateway_availability_topic,
    parse_topic,
)

__all__ = [
    "DEFAULT_PREFIX",
    "ID_PATTERN",
    "SCHEMA_VERSION",
    "Availability",
    "CameraTopic",
    "CameraTopics",
    "Detection",
    "EventType",
    "Health",
    "Identifier",
    "IncomingTopic",
    "Message",
    "NodeConfig",
    "PosSalesTopic",
    "ShelfEvent",
    "ShelfState",
    "SlotReading",
    "SlotStatus",
    "TopicKind",
    "UnknownTopic",
    "gateway_availability_topic",
    "parse_topic",
]
