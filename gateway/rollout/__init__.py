"""Signed model roll-outs over the air: the gateway's side.

- `signing`: the gateway's Ed25519 model signing key (made by
  firmware_config/make-model-key.sh) and what it signs (`edge.contract.model_rollout`'s
  manifest).
- `model_store`: uploaded model pairs (an ONNX file and its int8 twin) on disk beside
  the database, each with its signed manifest.
- `rollouts`: staged roll-outs: a canary share of the cameras first, the rest once the
  canaries report success (or at an admin's word), one-click roll-back to each camera's
  previous announcement; the per-camera outcomes the nodes report on `…/rollout`.

Publishes through the callable it is handed (the MQTT link's `publish_model`), as the
advice engine does. May import `storage`, `config` and edge's contract; never `web`,
`mqtt` or anything above (checked by `make lint`).
"""
