"""The in-store gateway: MQTT ingest, SQLite storage and the HTTP API.

It imports only `edge.contract` and `edge.layout` from the node's package, never the
node's runtime.
"""
