"""`shelf-gateway demo`: a whole simulated store in one foreground process.

It starts the embedded MQTT broker (unless `--broker` names one), the gateway with its
API, and N camera nodes that run the real node pipeline (ONNX detector, shelf analysis,
MQTT publisher) on frames rendered from simulated shelves that sell and get restocked.
A demo till (`demo_till`) turns what the shelves sell into POS sale lines, so
restock and other advice appears, and the simulated staff's restocks resolve it. Before
the cameras start, the till seeds a week of past sales and `demo_history` a week of past
shelf states, so velocity and the compliance chart have a history from the first minute.
Suppliers, price lists, a stock count and a delivery (`demo_purchasing`) give the store
page's purchase list draft orders at once.
It makes one user per role (`demo_users`) and prints their logins.
Nothing to install: this is what `make demo` runs.
"""

from __future__ import annotations

import argparse
import logging
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.cli.command import Command
from gateway.config.settings import GatewaySettings
from gateway.devtools.demo_history import seed_shelf_history
from gateway.devtools.demo_purchasing import seed_purchasing
from gateway.devtools.demo_till import DemoTill, TillShelf, demo_advice_settings
from gateway.devtools.demo_users import DemoLogin, banner_lines

if TYPE_CHECKING:
    from gateway.app import Gateway

log = logging.getLogger(__name__)

DEFAULT_BROKER_PORT = 1883


@dataclass
class DemoCamera:
    """One simulated camera: where it is and the shelf it watches."""

    store: str
    camera: str
    seed: int
    thread: threading.Thread | None = field(default=None, repr=False)


def demo_cameras(count: int, stores: int, seed: int) -> list[DemoCamera]:
    """Cameras dealt round-robin over `stores` stores: cam-1 in store-1, cam-2 in store-2, …"""
    stores = max(1, min(stores, count))
    return [
        DemoCamera(store=f"store-{i % stores + 1}", camera=f"cam-{i + 1}", seed=seed + i)
        for i in range(count)
    ]


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def _broker(url: str | None) -> Iterator[str]:
    """The broker URL to use: the given one, or an embedded amqtt broker started here."""
    if url:
        yield url
        return
    from gateway.mqtt.embedded_broker import EmbeddedBroker

    host = "127.0.0.1"
    port = DEFAULT_BROKER_PORT if _port_free(host, DEFAULT_BROKER_PORT) else _free_port(host)
    with EmbeddedBroker(host, port) as broker:
        yield broker.url


def _camera_thread(
    cam: DemoCamera,
    broker_url: str,
    args: argparse.Namespace,
    stop: threading.Event,
    data_dir: Path,
) -> tuple[threading.Thread, object]:
    """Build one camera node on its own simulated shelf; returns (thread, shelf)."""
    from edge.node import CameraNode
    from edge.settings import NodeSettings
    from edge.sources.simulator import SimulatorSource
    from models.synth import SimulatedShelf

    shelf = SimulatedShelf(seed=cam.seed, store=cam.store, camera=cam.camera)
    settings = NodeSettings.model_validate(
        {
            "store": cam.store,
            "camera": cam.camera,
            "interval_s": args.interval,
            "health_interval_s": max(5.0, args.interval * 5),
            "mqtt": {"url": broker_url, "keepalive_s": 10},
            "source": {"kind": "simulator", "seed": cam.seed, "speedup": args.speedup},
            "detector": {"threads": 1, "warmup_runs": 1},
            "data_dir": str(data_dir / "nodes"),
            # A demo shows calibration: its simulated cameras may send snapshots.
            "snapshots": {"allowed": True},
        }
    )
    node = CameraNode(settings, source=SimulatorSource(shelf, speedup=args.speedup))
    thread = threading.Thread(target=node.run, args=(stop,), name=f"node-{cam.camera}")
    return thread, shelf


def _fill_catalogue(gateway: Gateway) -> None:
    """The simulated stores' whole catalogue, for the calibration page's SKU picker."""
    from gateway.retail.catalogue import Product, store_products
    from models.synth.catalogue import catalogue

    products = [Product(gtin=p.gtin, name=p.name, brand=p.brand) for p in catalogue()]
    store_products(gateway.db, list(enumerate(products)), [])


def _banner(
    port: int,
    broker_url: str,
    data_dir: Path,
    cameras: list[DemoCamera],
    logins: list[DemoLogin],
    users_file: Path | None = None,
) -> str:
    where = ", ".join(f"{c.store}/{c.camera}" for c in cameras)
    tokens = (
        f"API tokens in {users_file}" if users_file else "API tokens: run with --users-file FILE"
    )
    return "\n".join(
        [
            "",
            "  shelfsense demo is running",
            f"    sign in        http://127.0.0.1:{port}/login   as one of (name, password, role):",
            *banner_lines(logins),
            f"    dashboards     http://127.0.0.1:{port}/   (store, compliance, brand, devices:"
            " each role sees its own)",
            f"    API and docs   http://127.0.0.1:{port}/docs   (signed in, it tries the API"
            " as you)",
            f"    scripts        Authorization: Bearer <token>   ({tokens})",
            f"    cameras        http://127.0.0.1:{port}/api/cameras   ({where})",
            f"    events         http://127.0.0.1:{port}/api/events",
            f"    advice         http://127.0.0.1:{port}/api/advice   (MQTT shelfsense/<store>/advice)",
            f"    calibration    http://127.0.0.1:{port}/calibrate",
            f"    MQTT broker    {broker_url}   (topics shelfsense/<store>/<camera>/…)",
            f"    data           {data_dir}",
            "  Press Ctrl-C to stop.",
            "",
        ]
    )


def _demo_logins(
    gateway: Gateway, cameras: list[DemoCamera], shelves: list[Any], args: argparse.Namespace
) -> list[DemoLogin]:
    """One user per role, two of the shelves' brands; written to --users-file if given."""
    from gateway.auth.users import Users
    from gateway.devtools.demo_users import create_demo_users, shelf_brands, write_users_file

    stores = sorted({c.store for c in cameras})
    brands = shelf_brands(shelf.layout for shelf in shelves)
    logins = create_demo_users(Users(gateway.db), stores, brands)
    if args.users_file:
        write_users_file(args.users_file, logins)
    return logins


def run_demo(args: argparse.Namespace) -> int:
    """Run broker, gateway and simulated cameras until Ctrl-C or `--duration`."""
    import uvicorn

    from gateway.app import STREAM_GRACE_S, Gateway
    from gateway.web.server import GatewayServer

    cameras = demo_cameras(args.cameras, args.stores, args.seed)
    stop = threading.Event()
    with ExitStack() as stack:
        data_dir = args.data_dir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="shelfsense-demo-"))
        )
        broker_url = stack.enter_context(_broker(args.broker))
        settings = GatewaySettings.model_validate(
            {
                "mqtt": {"url": broker_url, "client_id": "shelfsense-demo-gateway"},
                "data_dir": str(data_dir),
                "http": {"host": args.host, "port": args.port},
                "advice": demo_advice_settings(args.speedup),
            }
        )
        threads = []
        till_shelves = []
        for cam in cameras:
            thread, shelf = _camera_thread(cam, broker_url, args, stop, data_dir)
            threads.append(thread)
            till_shelves.append(TillShelf(cam.store, cam.camera, shelf))
        gateway = Gateway(settings)
        started = datetime.now(UTC)
        # Users before start-up, or the gateway would warn that nobody can sign in.
        gateway.db.open()
        stack.callback(gateway.db.close)
        logins = _demo_logins(gateway, cameras, [t.shelf for t in till_shelves], args)
        stack.enter_context(gateway)
        _fill_catalogue(gateway)
        for till_shelf in till_shelves:
            store, camera = till_shelf.store, till_shelf.camera
            gateway.set_layout(store, camera, till_shelf.shelf.layout)
            gateway.set_snapshots_enabled(store, camera, True)
            # A week of past shelf states, so the compliance chart has a trend at once.
            seed_shelf_history(
                gateway.db, store, camera, till_shelf.shelf.layout, started, seed=args.seed
            )
        # The till sells what the shelves sell: POS lines drive velocity and advice.
        till = DemoTill(
            gateway.db, till_shelves, speedup=args.speedup, on_stored=gateway.sales_stored
        )
        till.register_products()
        till.seed_history(started)
        # Suppliers, a stock count and a delivery: the purchase list has draft orders.
        seed_purchasing(gateway.db, till_shelves, started, tz=settings.pos.zone)
        threads.append(threading.Thread(target=till.run, args=(stop,), name="demo-till"))
        for thread in threads:
            thread.start()

        server = GatewayServer(
            uvicorn.Config(
                gateway.app,
                host=args.host,
                port=args.port,
                log_config=None,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=STREAM_GRACE_S,
            ),
            gateway.live,
        )
        if args.duration:
            timer = threading.Timer(args.duration, lambda: setattr(server, "should_exit", True))
            timer.daemon = True
            timer.start()
        print(
            _banner(args.port, broker_url, data_dir, cameras, logins, args.users_file), flush=True
        )
        try:
            server.run()
        except KeyboardInterrupt:
            pass  # uvicorn re-raises the Ctrl-C it handled; for the demo that is a clean stop
        finally:
            log.info("stopping the demo")
            stop.set()
            for thread in threads:
                thread.join(timeout=15)
            time.sleep(0.2)  # let the gateway store the cameras' last `offline`
    return 0


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cameras", type=int, default=3, help="simulated cameras (default 3)")
    parser.add_argument(
        "--stores", type=int, default=2, help="stores the cameras are spread over (default 2)"
    )
    parser.add_argument("--port", type=int, default=8080, help="HTTP port (default 8080)")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP address (default 127.0.0.1)")
    parser.add_argument(
        "--duration", type=float, default=0, help="stop after this many seconds (default: run)"
    )
    parser.add_argument(
        "--broker",
        metavar="mqtt://HOST:PORT",
        help="use this MQTT broker instead of starting the embedded one",
    )
    parser.add_argument(
        "--interval", type=float, default=2.0, help="seconds between frames per camera (default 2)"
    )
    parser.add_argument(
        "--speedup",
        type=float,
        default=60.0,
        help="simulated store seconds per real second (default 60: an hour a minute)",
    )
    parser.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
    parser.add_argument(
        "--data-dir", type=Path, help="keep the gateway's database here (default: a temp folder)"
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
        help="run a simulated store: embedded broker, gateway and camera nodes",
        description=(
            "Start an embedded MQTT broker (or use --broker), the gateway and its API, and "
            "simulated camera nodes that run the real detector on rendered shelf frames. "
            "Open the printed address in a browser; Ctrl-C stops everything."
        ),
        add_arguments=_add_arguments,
        handler=run_demo,
    )
