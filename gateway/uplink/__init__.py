"""The wire from a store gateway to the head office, and the store's end of it.

- `contract`: the subjects, the envelope with its content-keyed id, one body per kind.
- `transport`: the tiny publisher/consumer interfaces and the in-process transport for a
  single machine; `jetstream`: the same on a NATS JetStream cluster.
- `outbox`: the store gateway's durable outbox and the forwarder that drains it;
  `settings`: the `hq:` section of a store gateway's config.

The bottom layer: may import edge's contract and nothing else of the gateway, so both
ends, and any store package that feeds the uplink, may import it (checked by `make lint`).
"""
