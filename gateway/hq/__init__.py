"""The head office's side of the store uplink: what stores send and where it is kept.

- `contract`: the uplink subjects, the envelope with its content-keyed id, one body per
  kind; what a store gateway sends and the head office reads.
- `tables`: how each message kind becomes rows of the Parquet tables.
- `store`: the partitioned Parquet dataset, written exactly once per message.
- `analytics`: the cross-store figures computed by Dask over it.

May import edge's contract only, nothing else of the gateway: it runs at the head office,
and a store's packages import its `contract` to send (checked by `make lint`).
"""
