"""The gateway's configuration: what it reads before anything runs.

- `settings`: the YAML config (`GatewaySettings`), strict, secrets from `${ENV}`.
- `layouts`: the camera layout files the config names.
- `version`: the running shelfsense version.

The bottom layer: may import edge's contract and `edge.layout`, nothing else of the
gateway, so every package can read its settings (checked by `make lint`).
"""
