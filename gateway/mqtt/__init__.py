"""The gateway's side of the store broker: everything that arrives or leaves over MQTT.

`link` is the one client (subscriptions, retained node configs, the gateway's own
availability) and reads each received topic once; `ingest` validates, de-duplicates and
stores camera messages and POS sales in batches; `snapshots` keeps calibration pictures
in memory only; `embedded_broker` is the zero-install broker for the demo. Topic names
and payloads are not defined here but in `edge.contract`, which both sides share.

May import the layers under it (`auth`, `export`, `live`, `reports`, `shelf`, `retail`,
`storage`, `config`, `hq`) and edge's contract and layout; never its sibling `advice`
(which publishes through the link it is handed), `web` or anything above (checked by
`make lint`).
"""
