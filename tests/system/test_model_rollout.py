"""Signed model roll-outs to real `shelf-node` processes through a real `shelf-gateway`
process and Mosquitto (#24 item 1): a good model switches the canary, a file corrupted
on the gateway's disk is refused on its hash, a node trusting another key refuses the
signature, roll-back gives the canary its configured model again; then the Models page
in Chromium drives a second roll-out (screenshots under artifacts/)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from edge.detector import default_model_path
from tests.gateway.test_dashboard_pages import screenshot
from tests.support.browser import DESKTOP
from tests.support.faults import BIN, Node, Program
from tests.support.gateway_store import wait_until
from tests.support.paths import REPO
from tests.support.services import Mosquitto, free_port, running_mosquitto

pytestmark = pytest.mark.slow

MAKE_KEY = REPO / "firmware_config" / "make-model-key.sh"
STORE = "store-1"
CAMERAS = {"cam-good": "trusted", "cam-corrupt": "trusted", "cam-badsig": "other"}
"""Each camera and the key it trusts: the gateway's, or another store's."""
PASSWORD = "rollout-admin-pw"


@dataclass
class Store:
    gateway: Program
    port: int
    data_dir: Path
    token: str
    nodes: dict[str, Node]
    models: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} | kwargs.pop("headers", {})
        return httpx.request(
            method, f"{self.base_url}{path}", headers=headers, timeout=30, **kwargs
        )

    def camera(self, camera: str) -> dict[str, Any]:
        return self.api("GET", f"/api/cameras/{STORE}/{camera}").json()

    def rollout_camera(self, rollout: int, camera: str) -> dict[str, Any]:
        found = self.api("GET", "/api/rollouts").json()
        mine = next(r for r in found if r["id"] == rollout)
        return next(c for c in mine["cameras"] if c["camera"] == camera)

    def logs(self) -> str:
        parts = [f"--- gateway\n{self.gateway.output()[-3000:]}"]
        parts += [f"--- {name}\n{node.output()[-2000:]}" for name, node in self.nodes.items()]
        return "\n".join(parts)


def make_key(folder: Path) -> tuple[Path, Path]:
    subprocess.run([str(MAKE_KEY), str(folder)], check=True, capture_output=True)
    return folder / "private" / "model-signing.key", folder / "model-signing.pub"


def model_pair(folder: Path) -> dict[str, Path]:
    """The fast fp32 model and its int8 twin, copied: the "new" model to roll out."""
    folder.mkdir(parents=True, exist_ok=True)
    fp32, int8 = default_model_path("fast"), default_model_path("fast-int8")
    return {"fp32": Path(shutil.copy(fp32, folder)), "int8": Path(shutil.copy(int8, folder))}


def node_config(broker: Mosquitto, camera: str, public_key: Path, seed: int) -> dict[str, Any]:
    return {
        "store": STORE,
        "camera": camera,
        "interval_s": 0.5,
        "health_interval_s": 1,
        "mqtt": {"url": broker.url, "keepalive_s": 5, "reconnect_min_s": 0.2},
        "source": {"kind": "simulator", "seed": seed, "speedup": 60, "size": [320, 240]},
        # It runs the shipped model from its config; a roll-out brings a copy of it.
        "detector": {"model": str(default_model_path("fast")), "threads": 1, "warmup_runs": 0},
        "model_updates": {
            "public_key": str(public_key),
            "timing_runs": 1,
            "max_slowdown": 20,  # a loaded CI machine: timing is not what is tested here
        },
    }


def admin_token(config: Path) -> str:
    done = subprocess.run(
        [
            *(str(BIN / "shelf-gateway"), "users", "add", "admin", "--role", "admin"),
            *("--password", PASSWORD, "--json", "--config", str(config)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)["token"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("rollout")
    signing_key, public_key = make_key(root / "keys")
    _, other_public_key = make_key(root / "other-keys")
    with running_mosquitto(root / "broker") as broker:
        port = free_port()
        config = root / "gateway" / "gateway.yaml"
        config.parent.mkdir()
        config.write_text(
            yaml.safe_dump(
                {
                    "mqtt": {"url": broker.url, "client_id": "gw-rollout", "keepalive_s": 5},
                    "data_dir": "data",
                    "http": {"host": "127.0.0.1", "port": port},
                    "rollouts": {
                        "signing_key": str(signing_key),
                        "download_url": f"http://127.0.0.1:{port}",
                    },
                }
            )
        )
        token = admin_token(config)
        gateway = Program("shelf-gateway", config)
        nodes = {
            camera: Node(
                root / camera,
                node_config(
                    broker, camera, public_key if trust == "trusted" else other_public_key, seed
                ),
            )
            for seed, (camera, trust) in enumerate(CAMERAS.items())
        }
        live = Store(gateway, port, config.parent / "data", token, nodes, root / "upload")
        gateway.start()
        for node in nodes.values():
            node.start()
        try:

            def all_online() -> bool:
                try:
                    cams = live.api("GET", "/api/cameras").json()
                except httpx.HTTPError:
                    return False
                return sum(1 for c in cams if c["online"] and c["state"]) == len(CAMERAS)

            wait_until(all_online, 60, f"three nodes online and reporting\n{live.logs()}")
            yield live
        finally:
            for node in nodes.values():
                node.cleanup()
            gateway.cleanup()


def upload(store: Store, version: str) -> httpx.Response:
    pair = model_pair(store.models / version)
    with pair["fp32"].open("rb") as fp32, pair["int8"].open("rb") as int8:
        return store.api(
            "POST",
            "/api/models",
            data={"version": version},
            files={"fp32": (pair["fp32"].name, fp32), "int8": (pair["int8"].name, int8)},
        )


def test_good_corrupt_wrongly_signed_then_rollback(store: Store) -> None:
    uploaded = upload(store, "v2")
    assert uploaded.status_code == 201, uploaded.text
    assert {f["variant"] for f in uploaded.json()["files"]} == {"fp32", "int8"}
    assert upload(store, "v2").status_code == 409  # versions are never overwritten

    cameras = [f"{STORE}/{c}" for c in CAMERAS]
    started = store.api(
        "POST",
        "/api/rollouts",
        json={"version": "v2", "cameras": cameras, "canaries": [f"{STORE}/cam-good"]},
    )
    assert started.status_code == 201, started.text
    rollout = started.json()["id"]
    waves = {c["camera"]: (c["wave"], c["announced_at"]) for c in started.json()["cameras"]}
    assert waves["cam-good"][0] == "canary" and waves["cam-good"][1] is not None
    assert waves["cam-corrupt"] == ("rest", None) and waves["cam-badsig"] == ("rest", None)

    # The download route wants the roll-out's token.
    file_name = uploaded.json()["files"][0]["name"]
    refused = httpx.get(f"{store.base_url}/api/models/v2/files/{file_name}", timeout=10)
    assert refused.status_code == 401

    # Good: the canary switches and echoes the version in its state; the rest waits.
    wait_until(
        lambda: store.rollout_camera(rollout, "cam-good")["outcome"] == "switched",
        60,
        f"the canary to switch\n{store.logs()}",
    )
    wait_until(
        lambda: (store.camera("cam-good")["state"] or {}).get("model_version") == "v2",
        20,
        "the canary's state to say v2",
    )
    report = store.rollout_camera(rollout, "cam-good")
    assert report["running_version"] == "v2"
    check = report["check"]
    assert check["reference"] == "last_frame"
    assert check["candidate_detections"] == check["current_detections"]  # the same weights
    assert store.camera("cam-corrupt")["state"].get("model_version") is None

    # Corrupt: the stored file is cut short after signing; the nodes refuse its hash.
    stored = store.data_dir / "models" / "v2" / file_name
    stored.write_bytes(stored.read_bytes()[: stored.stat().st_size // 2])
    promoted = store.api("POST", f"/api/rollouts/{rollout}/promote")
    assert promoted.status_code == 200, promoted.text
    corrupt = wait_until(
        lambda: (c := store.rollout_camera(rollout, "cam-corrupt"))["outcome"] and c,
        60,
        f"cam-corrupt's report\n{store.logs()}",
    )
    assert corrupt["outcome"] == "rejected"
    assert "corrupt or altered" in corrupt["reason"] and "sha256" in corrupt["reason"]
    assert corrupt["running_version"] is None

    # Wrongly signed (for this node: it trusts another key): refused before any download.
    badsig = wait_until(
        lambda: (c := store.rollout_camera(rollout, "cam-badsig"))["outcome"] and c,
        60,
        f"cam-badsig's report\n{store.logs()}",
    )
    assert badsig["outcome"] == "rejected"
    assert "does not verify" in badsig["reason"]
    for camera in ("cam-corrupt", "cam-badsig"):
        health = wait_until(
            lambda camera=camera: (
                (h := store.camera(camera)["health"])
                and (h.get("model_update") or "").startswith("rejected v2")
                and h
            ),
            20,
            f"{camera}'s health to say why",
        )
        assert health["model_version"] is None
        assert (
            store.camera(camera)["state"]["model"] == default_model_path("fast").stem
        )  # kept its model

    devices = {d["camera"]: d for d in store.api("GET", "/api/reports/devices").json()}
    assert devices["cam-good"]["model_version"] == "v2"
    assert devices["cam-good"]["rollout_outcome"] == "switched"
    assert devices["cam-corrupt"]["rollout_outcome"] == "rejected"

    # Roll-back: the canary goes back to its configured model and says so.
    rolled = store.api("POST", f"/api/rollouts/{rollout}/rollback")
    assert rolled.status_code == 200 and rolled.json()["stage"] == "rolled_back"
    wait_until(
        lambda: store.rollout_camera(rollout, "cam-good")["outcome"] == "reverted",
        60,
        f"the canary to revert\n{store.logs()}",
    )
    wait_until(
        lambda: store.camera("cam-good")["state"].get("model_version") is None,
        20,
        "the canary's state to drop v2",
    )
    assert store.api("POST", f"/api/rollouts/{rollout}/rollback").status_code == 409
    token_gone = httpx.get(
        f"{store.base_url}/api/models/v2/files/{file_name}",
        headers={"X-Rollout-Token": "x" * 32},
        timeout=10,
    )
    assert token_gone.status_code == 401


def test_the_models_page_uploads_rolls_out_and_rolls_back(store: Store, browser: Any) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{store.base_url}/rollouts")
    page.fill("#name", "admin")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    assert "Models" in page.locator(".nav a").all_inner_texts()

    pair = model_pair(store.models / "v3-page")
    page.fill("#version", "v3")
    page.set_input_files("#fp32", str(pair["fp32"]))
    page.set_input_files("#int8", str(pair["int8"]))
    page.click("#upload-submit")
    page.wait_for_selector("[data-model='v3']", timeout=20_000)
    assert "Stored and signed v3" in page.locator("#upload-note").inner_text()

    page.select_option("#start-version", "v3")
    page.check(f"[data-canary='{STORE}/cam-good']")
    page.click("#start-submit")
    card = page.locator("[data-rollout][data-stage='canary']").first
    card.wait_for(timeout=20_000)
    canary = card.locator(f"[data-camera='{STORE}/cam-good'] [data-outcome]")
    wait_until(lambda: canary.inner_text() == "switched", 60, f"v3 on cam-good\n{store.logs()}")
    promote = card.locator("[data-action='promote']")
    assert promote.is_enabled()
    screenshot(page, "rollouts-canary.png")

    devices = context.new_page()
    devices.goto(f"{store.base_url}/devices")
    devices.wait_for_selector(f"[data-node='{STORE}/cam-good'] [data-model-version='v3']")
    text = devices.locator(f"[data-node='{STORE}/cam-good']").inner_text()
    assert "v3 switched" in text, text
    refused = devices.locator(f"[data-node='{STORE}/cam-corrupt']").inner_text()
    assert "v2 rejected" in refused and "corrupt or altered" in refused, refused
    screenshot(devices, "devices-models.png")

    page.on("dialog", lambda dialog: dialog.accept())
    card.locator("[data-action='rollback']").click()
    page.wait_for_selector(
        f"[data-rollout][data-stage='rolled_back'] [data-camera='{STORE}/cam-good'] [data-outcome='reverted'] >> nth=0",
        timeout=60_000,
    )
    wait_until(
        lambda: store.camera("cam-good")["state"].get("model_version") is None,
        20,
        "cam-good's state back on its configured model",
    )
    screenshot(page, "rollouts-rolled-back.png")
    context.close()
