"""The issue's check, as users run it: `shelf-gateway demo --users-file F`, then every GET
route of /openapi.json called with one brand's token answers 401/403/404 or a body that
names no product and no brand of the other brand (and the other way round).

Path parameters take real values from the running demo (its stores and cameras, every
product of the catalogue, every advice), so scoped routes are tried on rows of both
brands.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.synth.catalogue import catalogue
from tests.support.gateway_store import wait_until
from tests.support.services import free_port, wait_for_port

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
OK_REFUSALS = {401, 403, 404}


class Demo:
    def __init__(self, port: int, users: list[dict[str, str]]) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.users = users

    def token(self, role: str) -> str:
        return next(u["token"] for u in self.users if u["role"] == role)

    def get(self, path: str, role: str, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(role)}"}
        return httpx.get(self.base + path, params=params, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("demo")
    users_file = folder / "users.json"
    port = free_port()
    process = subprocess.Popen(
        [
            *(str(BIN / "shelf-gateway"), "demo", "--cameras", "2", "--stores", "2"),
            *("--port", str(port), "--users-file", str(users_file), "--interval", "1"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        text = wait_until(lambda: users_file.exists() and users_file.read_text(), 120, "users")
        wait_for_port(port, 60, process)  # the users file is written before the server listens
        running = Demo(port, json.loads(text))

        def events_and_advice() -> bool:
            events = running.get("/api/events", "admin").json()
            advice = running.get("/api/advice", "admin", status=["open", "resolved"]).json()
            return bool(events) and bool(advice)

        wait_until(events_and_advice, 120, "events and advice in the demo")
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def brand_words(brand: str) -> list[str]:
    """The brand's name and every GTIN and product name of it."""
    return [brand] + [w for p in catalogue() if p.brand == brand for w in (p.gtin, p.name)]


def named(text: str, words: list[str]) -> list[str]:
    return [w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text, re.I)]


def path_values(demo: Demo) -> dict[str, list[str]]:
    """Real values for each path parameter of the API."""
    cameras = demo.get("/api/cameras", "admin").json()
    statuses = ["open", "acknowledged", "resolved", "dismissed"]
    advice = demo.get("/api/advice", "admin", status=statuses, limit=1000).json()
    stores = sorted({c["store"] for c in cameras})
    orders = [o for s in stores for o in demo.get("/api/purchases", "admin", store=s).json()]
    listed = demo.get("/api/models", "admin")  # 503 where the gateway has no signing key
    models = listed.json() if listed.status_code == 200 else []
    return {
        "store+camera": [f"{c['store']}/{c['camera']}" for c in cameras],
        "gtin": [p.gtin for p in catalogue()],
        "advice_id": [str(a["id"]) for a in advice],
        "batch": [b["id"] for b in demo.get("/api/pos/batches", "admin").json()],
        "order_id": [str(o["id"]) for o in orders],
        "version+name": [f"{m['version']}/files/{f['name']}" for m in models for f in m["files"]],
    }


def urls_for(path: str, values: dict[str, list[str]]) -> list[str]:
    names = re.findall(r"\{(\w+)\}", path)
    if not names:
        return [path]
    if names == ["store", "camera"]:
        return [path.replace("{store}/{camera}", pair) for pair in values["store+camera"]]
    if names == ["version", "name"]:
        return [path.replace("{version}/files/{name}", v) for v in values["version+name"]]
    assert len(names) == 1, f"give {path} real values in urls_for"
    return [path.replace(f"{{{names[0]}}}", value) for value in values[names[0]]]


def test_the_demo_has_one_user_per_role_with_random_passwords(demo: Demo) -> None:
    roles = [u["role"] for u in demo.users]
    assert roles[:3] == ["admin", "installer", "merchandiser"]
    assert {"staff:store-1", "staff:store-2"} <= set(roles)
    brands = [r.split(":", 1)[1] for r in roles if r.startswith("brand:")]
    assert len(brands) == 2 and set(brands) <= {p.brand for p in catalogue()}
    assert all(len(u["password"]) >= 12 and u["token"].startswith("sst_") for u in demo.users)
    assert len({u["password"] for u in demo.users}) == len(demo.users)
    for user in demo.users:
        me = demo.get("/api/auth/me", user["role"]).json()
        assert (me["name"], me["role"]) == (user["name"], user["role"])
        login = httpx.post(
            f"{demo.base}/api/auth/login",
            json={"name": user["name"], "password": user["password"]},
            timeout=30,
        )
        assert login.status_code == 200, login.text


def test_every_get_route_shows_a_brand_nothing_of_the_other_brand(demo: Demo) -> None:
    spec = httpx.get(f"{demo.base}/openapi.json", timeout=30).json()
    brands = [u["role"].split(":", 1)[1] for u in demo.users if u["role"].startswith("brand:")]
    values = path_values(demo)
    assert values["advice_id"] and values["store+camera"]
    own_sku = {b: next(p.gtin for p in catalogue() if p.brand == b) for b in brands}
    problems: list[str] = []
    calls = 0
    get_paths = [p for p, operations in spec["paths"].items() if "get" in operations]
    stores = sorted({pair.split("/")[0] for pair in values["store+camera"]})
    for brand, other in ((brands[0], brands[1]), (brands[1], brands[0])):
        words = brand_words(other)
        # /api/velocity requires store and sku: try the brand's own SKU and the other's.
        velocity = [{"store": s, "sku": own_sku[b]} for s in stores for b in (brand, other)]
        for path in get_paths:
            for url in urls_for(path, values):
                for params in velocity if path == "/api/velocity" else [{}]:
                    response = demo.get(url, f"brand:{brand}", **params)
                    calls += 1
                    status = response.status_code
                    if status in OK_REFUSALS:
                        continue
                    if status != 200:
                        problems.append(f"{brand}: GET {url} {params} -> {status}")
                    elif found := named(response.text, words):
                        problems.append(f"{brand}: GET {url} {params} names {other}: {found[:5]}")
    assert calls > 100
    assert not problems, "\n".join(problems)
