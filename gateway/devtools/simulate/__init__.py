"""`shelf-gateway simulate`: the shelf pipeline and the advice measured where the truth is known.

- `run`: the command: real camera nodes over simulated shelves, the report.
- `store`: the simulated store stepped in simulated time (cameras, till, advice cadence).
- `staff`: simulated staff who acknowledge and carry out the advice.
- `cases`: hidden stock-outs planted from the seed.
- `scoring`: the advice scored against the truth (precision, recall, delay).

Part of `devtools`: may import what it may (the gateway, the node, `models.synth`).
"""
