"""Exports of what the gateway stores to other systems.

- `influx`: camera health, slot states, display scores, sales and advice counts to
  InfluxDB (or anything speaking its line protocol) for Grafana; bounded queue, never
  blocking ingest.
- `uplink_facts`: the head office's envelopes (slot events, hourly rollups and sales,
  product facts, device health, store profile) built from the gateway's database, with
  ids fixed by each fact's key.
- `uplink_feed`: `UplinkFeeder`, the thread that sends them to the uplink as events are
  stored, hourly, when layouts are saved and every few minutes; catches up after downtime.
- `uplink_open`: `open_uplink`, the gateway's one uplink for the stores it feeds.

May import `reports` (slot spans, compliance over time), `shelf`, `retail` (sale lines),
`storage`, `config`, `uplink` and edge's contract; never `advice`, `mqtt` or anything
above them, which hand it what to export (checked by `make lint`).
"""
