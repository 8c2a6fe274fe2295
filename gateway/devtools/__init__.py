"""Developer tools: what shows, measures or loads the gateway; a store never needs them.

- `demo`: `shelf-gateway demo`, a whole simulated store in one process, with its till
  (`demo_till`), a week of past shelf states (`demo_history`) and one user per role
  (`demo_users`).
- `loadtest`: `shelf-gateway loadtest`, N cameras through a real Mosquitto.
- `simulate`: `shelf-gateway simulate`, the pipeline and advice measured against the
  simulator's truth.
- `hq_fleet`: simulated stores for the head office; `hq_demo` (`hq_demo_fleet`):
  `shelf-hq demo`; `hq_loadtest`, `hq_analytics_bench`, `hq_capacity`: `shelf-hq
  loadtest`, `bench-analytics` and `capacity`; `nats_cluster`: a NATS JetStream cluster
  on loopback.
- `buying_sim`: `shelf-hq simulate`, purchase suggestions, nearby prices and assortment
  guidance measured against a simulated fleet's planted truth.

The top layer: may import anything in the gateway, the camera node itself (`edge.node`,
`edge.detector`, `edge.sources`: no other gateway package may) and the synthetic
renderer `models.synth`. Nothing imports it: the CLI finds its commands by module name
(checked by `make lint`).
"""
