"""The gateway's side of the store broker: everything that arrives or leaves over MQTT.

`link` is the one client (subscriptions, retained node configs, the gateway's own
availability) and reads each received topic once; `ingest` validates, de-duplicates and
stores camera messages and POS sales in batches; `snapshots` keeps calibration pictures
in memory only; `embedded_broker` is the zero-install broker for the demo. Topic names
and payloads are not defined here but in `edge.contract`, which both sides share.
"""
