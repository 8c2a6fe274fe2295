"""Home Assistant MQTT discovery: each camera appears as a device with its sensors.

- `discovery`: the retained discovery configs (Home Assistant's documented schema: topic
  `<discovery_prefix>/<component>/<node_id>/<object_id>/config`, unique ids, device info,
  availability), and the topics a deleted camera's configs are cleared on.
- `summary`: the per-camera figures the sensors read (compliance score, empty slots,
  open advice), published as the contract's `CameraSummary`.
- `bridge`: the thread that publishes both when cameras, states or advice change, again
  after every broker reconnect, and clears a deleted camera.

Optional (`homeassistant:` in gateway.yaml). On the layer of `web`: it reads `advice`,
`shelf` and `storage` and publishes through the MQTT link it is handed; nothing imports it
but `app`.
"""
