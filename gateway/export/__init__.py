"""Exports of what the gateway stores to other systems.

- `influx`: camera health, slot states, display scores, sales and advice counts to
  InfluxDB (or anything speaking its line protocol) for Grafana; bounded queue, never
  blocking ingest.

May import `retail` (sale lines), `storage`, `config` and edge's contract; never
`advice`, `mqtt` or anything above them, which hand it what to export (checked by
`make lint`).
"""
