"""`python -m gateway.cli`: the same as `shelf-gateway`."""

from gateway.cli.main import main

raise SystemExit(main())
