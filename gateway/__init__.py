"""The in-store gateway: one package per concept, each importing only the layers below it.

From the top: `devtools` (demo, simulation, load test: the only package that runs the
camera node), `cli` (`shelf-gateway`, `shelf-hq`), `app` (`Gateway`, which wires the
store's gateway together) beside `hq` (the head office), `web` (the HTTP API and pages)
beside `homeassistant` (MQTT discovery for Home Assistant),
then the domain: `advice` and `mqtt` over `export` (what goes to other systems: InfluxDB,
the head office), over `auth`, `live`, `reports`, `shelf` and `guidance` (what the
head office advises the store), over `retail` and `rollout` (signed model roll-outs);
then `storage` (SQLite) and `config`; at the bottom
`uplink`, the wire between a store and the head office that both ends share. Packages
on one layer do not import each other.

Of the node's package, the gateway imports `edge.contract` and `edge.layout` only (and
`devtools` the node itself); never torch or ultralytics. Each package's docstring says
what it holds; the `[tool.importlinter]` contracts in pyproject.toml hold the order, and
`make lint` checks it.
"""
