"""`shelf-hq serve` as an operator runs it: the web app over a head-office dataset with
the analytics job on a schedule. What ingest stores after the start reaches the pages
without a restart; Ctrl-C stops it cleanly; a wrong --root is refused naming it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.devtools.hq_fleet import fleet_hours, make_fleet
from gateway.devtools.hq_loadtest import START
from gateway.hq.store import HqStore
from gateway.storage.connection import Database
from tests.support.auth_support import make_user
from tests.support.services import free_port

pytestmark = pytest.mark.slow

HQ = (sys.executable, "-m", "gateway.cli.hq")


def _wait(check: Callable[[], Any], timeout: float, what: str, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (httpx.HTTPError, OSError, ValueError, KeyError, TypeError):
            result = None
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; log:\n{log.read_text()[-3000:]}")


def test_serve_refreshes_on_schedule_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    root, users = tmp_path / "hq", tmp_path / "users.db"
    hours = fleet_hours(make_fleet(3, seed=4), START, 4, seed=4)
    store = HqStore(root)
    store.write(next(hours))  # the first hour, with profiles and products
    db = Database(users)
    db.open()
    _, _, token = make_user(db, "brand:Fizz")
    db.close()

    port, log = free_port(), tmp_path / "serve.log"
    command = [*HQ, "serve", "--root", str(root), "--users", str(users), "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command, "--refresh-every", "2"], stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"

    def totals() -> dict[str, Any] | None:
        response = httpx.get(
            f"{url}/api/brands/Fizz/stores",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        return response.json()["totals"]

    try:
        first = _wait(totals, 120, "the first refresh", log)
        for batch in hours:  # ingest goes on while the app serves
            store.write(batch)

        def grown() -> dict[str, Any] | None:
            now = totals()
            return now if now and now["units"] + now["oos_hours"] > seen else None

        seen = first["units"] + first["oos_hours"]
        later = _wait(grown, 120, "a scheduled refresh with the new hours", log)
        assert later["stores"] == first["stores"] > 0
    finally:
        store.close()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    output = log.read_text()
    assert process.returncode == 0, output[-3000:]
    assert "Traceback" not in output, output
    assert f"shelfsense head office on {url}/login" in output


def test_serve_refuses_a_missing_root_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    done = subprocess.run(
        [*HQ, "serve", "--root", str(missing), "--users", str(tmp_path / "u.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert str(missing) in done.stderr
