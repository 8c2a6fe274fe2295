"""`shelf-hq demo`: a head office fed by N simulated stores, in one process, nothing to
install.

The stores (`hq_demo_fleet`) send through real uplink outboxes to an in-process ingest
and Parquet store; the analytics job (Dask, a local cluster) runs before the banner and
then on a schedule; the HQ web app serves the brand and chain pages. It makes one user
per head-office role (an admin, a brand, a chain merchandiser, a region merchandiser),
prints their logins and, with `--users-file PATH`, writes them as JSON (as the store's
`shelf-gateway demo` does). Single machine only: `shelf-hq serve` over a NATS JetStream
cluster and `shelf-hq ingest` processes is the deployment.
"""

from __future__ import annotations

import argparse
import logging
import re
import tempfile
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from gateway.auth.users import Users, generate_password
from gateway.cli.command import Command
from gateway.devtools.demo_users import DemoLogin, banner_lines, write_users_file
from gateway.devtools.hq_demo_fleet import DemoFleet
from gateway.devtools.hq_fleet import SimStore
from gateway.hq.analytics import EngineSettings
from gateway.hq.refresher import AnalyticsRefresher
from gateway.hq.server import serve_hq
from gateway.hq.web import create_hq_app
from gateway.storage.connection import Database

log = logging.getLogger(__name__)


def _most_common(values: list[str]) -> str:
    """The most frequent value (ties by name), so the demo's users see the most data."""
    return sorted(Counter(values).items(), key=lambda item: (-item[1], item[0]))[0][0]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def hq_demo_roles(stores: list[SimStore]) -> list[tuple[str, str]]:
    """(user name, role) per head-office role: the brand on most stores' shelves, the
    chain and the region with the most stores."""
    brand = _most_common([b for s in stores for b in {slot.product.brand for slot in s.slots}])
    chain = _most_common([s.profile.chain or "" for s in stores])
    region = _most_common([s.profile.region or "" for s in stores])
    return [
        ("admin", "admin"),
        (f"brand-{_slug(brand)}", f"brand:{brand}"),
        (f"merch-{_slug(chain)}", f"merchandiser:chain:{chain}"),
        (f"merch-{_slug(region)}", f"merchandiser:region:{region}"),
    ]


def create_hq_demo_users(users: Users, stores: list[SimStore]) -> list[DemoLogin]:
    """The demo's users with fresh random passwords and an API token each (a kept
    `--data-dir` already has them: they get a new password)."""
    logins = []
    for name, role in hq_demo_roles(stores):
        password = generate_password()
        if users.get(name) is None:
            users.add(name, role, password)
        else:
            users.set_password(name, password)
        logins.append(DemoLogin(name, role, password, users.new_token(name)))
    return logins


def _banner(
    args: argparse.Namespace, fleet: DemoFleet, logins: list[DemoLogin], data_dir: Path
) -> str:
    url = f"http://{args.host}:{args.port}"
    ids = [s.id for s in fleet.stores]
    outage = (
        f"{fleet.cut_store}'s link is cut: {fleet.cut_backlog} messages wait in its outbox "
        "(the chain page lists it as quiet)"
        if fleet.cut_store
        else "every link is up"
    )
    return "\n".join(
        [
            "",
            f"  shelfsense head office demo is running ({len(ids)} simulated stores, "
            "single machine)",
            f"    sign in        {url}/login   as one of (name, password, role):",
            *banner_lines(logins),
            f"    brand page     {url}/brand   (a brand sees only its own products)",
            f"    chain page     {url}/chain   (admin and merchandisers: compliance, devices)",
            f"    API and docs   {url}/docs   (Authorization: Bearer <token>)",
            f"    stores         {ids[0]} .. {ids[-1]}: {fleet.hours} hours of history, then "
            f"an hour every {fleet.hour_every_s:g} s",
            f"    uplinks        one outbox per store: {data_dir / 'stores'}/<store>/hq-outbox.db",
            f"                   {outage}",
            f"    analytics      every {args.refresh_every:g} s on a local Dask cluster",
            f"    data           {data_dir}",
            "  Press Ctrl-C to stop.",
            "",
        ]
    )


def run_hq_demo(args: argparse.Namespace) -> int:
    """Run the fleet, ingest, analytics and web app until Ctrl-C or `--duration`."""
    with ExitStack() as stack:
        data_dir = args.data_dir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="shelfsense-hq-demo-"))
        )
        users_db = Database.in_dir(data_dir / "users")
        users_db.open()
        stack.callback(users_db.close)
        fleet = DemoFleet(data_dir, args.stores, args.hours, seed=args.seed, speedup=args.speedup)
        stack.callback(fleet.stop)
        logins = create_hq_demo_users(Users(users_db), fleet.stores)
        log.info("hq demo: sending %d stores' last %d hours", args.stores, args.hours)
        fleet.start()
        refresher = AnalyticsRefresher(
            fleet.hq_root, args.refresh_every, EngineSettings(workers=args.workers)
        )
        refresher.refresh_now(force=True)  # figures before anyone signs in
        fleet.start_live()
        if args.users_file:
            write_users_file(args.users_file, logins)
        serve_hq(
            create_hq_app(fleet.hq_root, users_db),
            args.host,
            args.port,
            refresher,
            on_started=lambda: print(_banner(args, fleet, logins, data_dir), flush=True),
            duration_s=args.duration,
        )
    return 0


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stores", type=int, default=50, help="simulated stores (default 50)")
    parser.add_argument(
        "--hours", type=int, default=72, help="hours of history sent at start (default 72)"
    )
    parser.add_argument("--port", type=int, default=8090, help="HTTP port (default 8090)")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP address (default 127.0.0.1)")
    parser.add_argument(
        "--speedup",
        type=float,
        default=60.0,
        help="simulated seconds per real second after the history (default 60: an hour a minute)",
    )
    parser.add_argument(
        "--refresh-every",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="run the analytics job this often (default 30)",
    )
    parser.add_argument("--workers", type=int, default=2, help="local Dask workers (default 2)")
    parser.add_argument("--seed", type=int, default=1, help="the fleet's seed (default 1)")
    parser.add_argument(
        "--duration", type=float, default=0, help="stop after this many seconds (default: run)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep the outboxes, dataset and users here (default: a temp folder)",
    )
    parser.add_argument(
        "--users-file",
        type=Path,
        metavar="PATH",
        help="also write the demo users' logins (name, role, password, API token) to this "
        "JSON file",
    )


def command() -> Command:
    return Command(
        name="demo",
        help="a head office fed by N simulated stores, in one process (nothing to install)",
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        add_arguments=_add_arguments,
        handler=run_hq_demo,
    )
