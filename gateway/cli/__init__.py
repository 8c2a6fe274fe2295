"""`shelf-gateway`, the gateway's command line: one module per command group.

`command` holds `Command` and the shared `--config` argument and imports nothing from the
project, so any module may provide a subcommand without an import cycle; `main` builds the
parser from the built-in `run` and `check-config` and from every module it names, each of
which defines one command group (`planogram`, `pos`, `stock`, `catalogue`, `users`; the demo,
simulation and load test live with the devtools).
"""
