"""`shelf-gateway users ...` as an administrator runs it, against a real config and
database; the tokens it prints work on the API, and revoked or removed ones do not."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support.auth_support import bearer

BIN = Path(sys.executable).parent


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump({"data_dir": "data"}))
    return path


def users(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "shelf-gateway"), "users", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def printed(label: str, output: str) -> str:
    found = re.search(rf"^{label}\s+(\S+)$", output, re.MULTILINE)
    assert found, output
    return found.group(1)


def api(config: Path) -> tuple[TestClient, Database]:
    db = Database.in_dir(config.parent / "data")
    db.open()
    return TestClient(create_app(db)), db


def test_add_list_token_revoke_password_remove(config: Path) -> None:
    empty = users(config, "list")
    assert empty.returncode == 0 and "users add admin --role admin" in empty.stdout

    added = users(config, "add", "boss", "--role", "admin")
    assert added.returncode == 0, added.stderr
    password = printed("password", added.stdout)  # generated: no terminal to ask at
    first = printed("API token", added.stdout)
    given = users(config, "add", "anna", "--role", "staff:store-1", "--password", "long enough")
    assert given.returncode == 0 and "password " not in given.stdout

    second = printed("API token", users(config, "token", "anna").stdout)
    listing = users(config, "list").stdout
    assert re.search(r"^anna\s+staff:store-1 .*sst_\w{8}, sst_\w{8}$", listing, re.MULTILINE)
    assert re.search(r"^boss\s+admin ", listing, re.MULTILINE)
    assert first not in listing and second not in listing  # only prefixes are shown

    client, db = api(config)
    try:
        assert client.get("/api/auth/me", headers=bearer(first)).json()["name"] == "boss"
        assert client.get("/api/auth/me", headers=bearer(second)).json()["role"] == "staff:store-1"
        login = client.post("/api/auth/login", json={"name": "boss", "password": password})
        assert login.status_code == 200

        prefix = "_".join(second.split("_", 2)[:2])  # sst_<8 hex> (the rest may hold "_")
        assert users(config, "revoke", prefix).returncode == 0
        assert client.get("/api/auth/me", headers=bearer(second)).status_code == 401

        changed = users(config, "password", "boss")
        new_password = printed("password", changed.stdout)
        assert client.get("/api/auth/me").status_code == 401  # the session ended
        assert (
            client.post("/api/auth/login", json={"name": "boss", "password": password}).status_code
            == 401
        )
        relogin = {"name": "boss", "password": new_password}
        assert client.post("/api/auth/login", json=relogin).status_code == 200

        assert users(config, "remove", "boss").returncode == 0
        assert client.get("/api/auth/me", headers=bearer(first)).status_code == 401
    finally:
        db.close()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("add", "x", "--role", "owner"), "unknown role 'owner'"),
        (("add", "x", "--role", "staff:"), "staff needs a store id"),
        (("add", "x", "--role", "admin", "--password", "short"), "8 to 1024 characters"),
        (("add", "bad name", "--role", "admin"), "user name 'bad name'"),
        (("token", "nobody"), "no user 'nobody'"),
        (("remove", "nobody"), "no user 'nobody'"),
        (("revoke", "sst_00000000"), "no token 'sst_00000000'"),
    ],
)
def test_refusals_name_the_problem_and_exit_1(
    config: Path, args: tuple[str, ...], says: str
) -> None:
    done = users(config, *args)
    assert done.returncode == 1
    assert says in done.stderr


def test_a_taken_name_is_refused(config: Path) -> None:
    assert users(config, "add", "anna", "--role", "merchandiser").returncode == 0
    again = users(config, "add", "ANNA", "--role", "admin")
    assert again.returncode == 1 and "already exists" in again.stderr


def test_a_bad_config_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "gateway.yaml"
    bad.write_text("data_dir: data\nhttp: {prot: 1}\n")
    done = users(bad, "list")
    assert done.returncode == 2 and "prot" in done.stderr


def test_add_with_json_prints_the_user_and_its_token(config: Path) -> None:
    import json

    done = users(config, "add", "till-bot", "--role", "staff:store-1", "--json")
    assert done.returncode == 0, done.stderr
    printed_user = json.loads(done.stdout)
    assert printed_user["name"] == "till-bot" and printed_user["role"] == "staff:store-1"
    assert printed_user["token"].startswith("sst_") and printed_user["password"]
    assert printed_user["password_generated"] is True and printed_user["created_at"]
    client, db = api(config)
    try:
        me = client.get("/api/auth/me", headers=bearer(printed_user["token"]))
        assert me.status_code == 200 and me.json()["name"] == "till-bot"
    finally:
        db.close()
    refused = users(config, "add", "till-bot", "--role", "admin", "--json")
    assert refused.returncode == 1 and refused.stdout == ""


def test_the_head_office_has_its_own_users_file(tmp_path: Path) -> None:
    import json

    from gateway.hq.web import create_hq_app

    users_db = tmp_path / "hq-users.db"

    def hq_users(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "shelf-hq"), "users", *args, "--users", str(users_db)],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    done = hq_users("add", "fizz-audit", "--role", "brand:Fizz", "--json")
    assert done.returncode == 0, done.stderr
    token = json.loads(done.stdout)["token"]
    assert "fizz-audit  brand:Fizz" in hq_users("list").stdout
    refused = hq_users("add", "nobody", "--role", "brand")
    assert refused.returncode == 1 and refused.stderr.startswith("shelf-hq users: role 'brand'")
    db = Database(users_db)
    db.open()
    try:
        client = TestClient(create_hq_app(tmp_path / "hq", db))
        assert client.get("/api/brands", headers=bearer(token)).status_code == 200
        assert client.get("/api/brands").status_code == 401
    finally:
        db.close()
