"""The store-to-head-office uplink, both ends, and the head office's store of what arrives.

- `contract`: the uplink subjects, the envelope with its content-keyed id, one body per
  kind: what a store gateway sends and the head office reads.
- `transport`: the tiny publisher/consumer interfaces, and the local one; `jetstream`:
  the same on a NATS JetStream cluster.
- `uplink`: the store gateway's durable outbox and its forwarder; `settings`: the `hq:`
  section of a store gateway's config.
- `tables`, `store`: each message kind as rows of a partitioned Parquet dataset, written
  exactly once per message.
- `analytics`: the cross-store figures computed by Dask over it.

May import edge's contract only, nothing else of the gateway: it is the bottom layer, so
any store package may import it to feed the uplink (checked by `make lint`).
"""
