"""`shelf-hq`: the head office: ingest from the stores' stream, the analytics job, the web
app, its users, the demo and the load test.

Like `shelf-gateway`, each subcommand is a `Command`; the head office's own are here, the
developer tools' come from the modules in `COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from gateway.cli import users
from gateway.cli.command import Command

COMMAND_MODULES: tuple[str, ...] = (
    "gateway.devtools.hq_demo",
    "gateway.devtools.hq_loadtest",
    "gateway.devtools.hq_analytics_bench",
    "gateway.devtools.hq_capacity",
    "gateway.devtools.buying_sim.run",
)
"""Modules that each define `command() -> Command`."""


def _ingest(args: argparse.Namespace) -> int:
    from gateway.hq.ingest import HqIngest
    from gateway.hq.store import HqStore
    from gateway.uplink.jetstream import JetStreamAdmin, JetStreamConsumer

    password = os.environ.get(args.password_env) if args.password_env else None
    servers = args.nats.split(",")
    if args.replicas:
        admin = JetStreamAdmin(servers, args.user, password)
        admin.ensure_stream(replicas=args.replicas)
        admin.close()
    consumer = JetStreamConsumer(
        servers, args.user, password, durable=args.durable, ack_wait_s=args.ack_wait
    )
    store = HqStore(args.data_dir)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        HqIngest(consumer, store, batch=args.batch).run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
        store.close()
    return 0


def _ingest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, required=True, help="the head office's dataset")
    parser.add_argument("--nats", required=True, help="NATS URLs, comma-separated")
    parser.add_argument("--user", help="NATS user of the ingest processes")
    parser.add_argument(
        "--password-env", metavar="VAR", help="environment variable holding the NATS password"
    )
    parser.add_argument("--durable", default="ingest", help="the shared durable consumer's name")
    parser.add_argument(
        "--batch", type=int, default=2000, help="messages per stored batch, at most (default 2000)"
    )
    parser.add_argument(
        "--ack-wait",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="when the durable consumer is created: how long a killed process's batch waits "
        "before another process gets it (a slow live one marks its batch in progress) "
        "(default 2)",
    )
    parser.add_argument(
        "--replicas", type=int, default=0, help="create/update the stream with N replicas first"
    )


def _refresh(args: argparse.Namespace) -> int:
    from gateway.hq.analytics import EngineSettings, refresh

    counts = refresh(args.data_dir, EngineSettings(scheduler=args.scheduler, workers=args.workers))
    for name, rows in counts.items():
        print(f"{name}: {rows} rows")
    return 0


def _refresh_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, required=True, help="the head office's dataset")
    parser.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster)")
    parser.add_argument("--workers", type=int, default=2, help="local cluster workers")


def _serve(args: argparse.Namespace) -> int:
    from gateway.auth.users import Users
    from gateway.hq.analytics import EngineSettings
    from gateway.hq.refresher import AnalyticsRefresher
    from gateway.hq.server import serve_hq
    from gateway.hq.web import create_hq_app
    from gateway.storage.connection import Database

    if not args.root.is_dir():
        print(f"shelf-hq serve: --root {args.root}: no such folder", file=sys.stderr)
        return 2
    users_db = Database(args.users)
    users_db.open()
    try:
        if not Users(users_db).all():
            logging.getLogger(__name__).warning(
                "%s has no users: nobody can sign in (shelf-hq users add admin --role admin "
                "--users %s)",
                args.users,
                args.users,
            )
        refresher = AnalyticsRefresher(
            args.root, args.refresh_every, EngineSettings(args.scheduler, args.workers)
        )
        url = f"http://{args.host}:{args.port}"
        serve_hq(
            create_hq_app(args.root, users_db),
            args.host,
            args.port,
            refresher,
            on_started=lambda: print(f"shelfsense head office on {url}/login", flush=True),
        )
    finally:
        users_db.close()
    return 0


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root", type=Path, required=True, help="the head office's dataset (ingest's --data-dir)"
    )
    parser.add_argument(
        "--users", type=Path, required=True, metavar="USERS_DB", help="users' SQLite file"
    )
    parser.add_argument("--host", default="127.0.0.1", help="HTTP address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8090, help="HTTP port (default 8090)")
    parser.add_argument(
        "--refresh-every",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="run the analytics job this often when new messages were stored (default 300)",
    )
    parser.add_argument("--scheduler", help="Dask scheduler address (default: a local cluster)")
    parser.add_argument("--workers", type=int, default=2, help="local cluster workers")


BUILTIN_COMMANDS = (
    Command(
        name="ingest",
        help="store what the stores send: one of any number of processes sharing the consumer",
        add_arguments=_ingest_arguments,
        handler=_ingest,
    ),
    Command(
        name="serve",
        help="serve the brand and chain pages and API, refreshing the analytics on a schedule",
        description="Serve the head office's web app and API with uvicorn over the results "
        "of the analytics job, which runs in the background every --refresh-every seconds "
        "(when the store holds new messages). Ctrl-C or SIGTERM stops it.",
        add_arguments=_serve_arguments,
        handler=_serve,
    ),
    Command(
        name="refresh",
        help="run the cross-store analytics on the Dask cluster and save the results",
        add_arguments=_refresh_arguments,
        handler=_refresh,
    ),
)


def build_parser(available: Sequence[Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shelf-hq",
        description="shelfsense head office: many stores' shelves, sales and devices, stored "
        "once and analysed across stores for brands and chains.",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in available:
        p = sub.add_parser(command.name, help=command.help, description=command.description)
        command.add_arguments(p)
        p.set_defaults(handler=command.handler)
    return parser


def _quiet_dask() -> None:
    """Dask logs every local cluster's start and stop at INFO: the analytics job would
    fill the log every refresh. Its logging is set up when `distributed` is imported."""
    import dask.config

    levels = {"distributed": "warning", "distributed.shuffle": "error"}  # shuffles: chatty
    dask.config.set({"logging": levels})
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level.upper())


def main(argv: Sequence[str] | None = None) -> int:
    available = [
        *BUILTIN_COMMANDS,
        users.hq_command(),
        *(importlib.import_module(m).command() for m in COMMAND_MODULES),
    ]
    args = build_parser(available).parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.log_level != "DEBUG":
        _quiet_dask()
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
