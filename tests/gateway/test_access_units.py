"""Access-control parts on their own: roles, password hashing, API tokens, sessions and
their expiry, the login throttle, CSRF, the login page and the route-declaration rule."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from gateway.app import Gateway
from gateway.auth.access import (
    SESSION_COOKIE,
    Principal,
    allow,
    require_declared_access,
)
from gateway.auth.roles import RoleError, parse_role
from gateway.auth.throttle import LoginThrottle
from gateway.auth.users import SessionPolicy, User, UserError, Users
from gateway.config.settings import AuthSettings, GatewaySettings
from gateway.storage.connection import Database
from gateway.web.app import create_app
from tests.support.auth_support import FAST_HASHER, bearer, make_user
from tests.support.services import free_port


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.in_dir(tmp_path)
    database.open()
    yield database
    database.close()


@pytest.fixture
def users(db: Database) -> Users:
    return Users(db, SessionPolicy(idle=timedelta(hours=1), max_age=timedelta(hours=8)))


# ---- roles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "store", "brand"),
    [
        ("admin", "admin", None, None),
        ("installer", "installer", None, None),
        ("merchandiser", "merchandiser", None, None),
        ("merchandiser:chain:Fresh Corner", "merchandiser", None, None),
        ("merchandiser:region:north", "merchandiser", None, None),
        ("staff:store-1", "staff", "store-1", None),
        ("brand:Acme Foods", "brand", None, "Acme Foods"),
        (" brand: Acme ", "brand", None, "Acme"),
    ],
)
def test_roles_parse_into_kind_and_scope(
    text: str, kind: str, store: str | None, brand: str | None
) -> None:
    role = parse_role(text)
    assert (role.kind, role.store, role.brand) == (kind, store, brand)
    assert parse_role(role.text) == role


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("root", "unknown role 'root'"),
        ("Admin", "unknown role 'Admin'"),
        ("admin:store-1", "admin takes no ':<scope>'"),
        ("staff", "staff needs a store id"),
        ("staff:", "staff needs a store id"),
        ("staff:store/1", "staff needs a store id"),
        ("staff:-x", "staff needs a store id"),
        ("brand:", "brand needs a brand name"),
        ("brand:" + "x" * 101, "at most 100"),
        ("brand:Acme\nEvil", "printable"),
        ("merchandiser:", "merchandiser takes no scope, or chain:<chain name>"),
        ("merchandiser:store-1", "merchandiser takes no scope, or chain:<chain name>"),
        ("merchandiser:chain:", "merchandiser:region:<region code>"),
        ("merchandiser:chain:" + "x" * 101, "chain name is printable text of at most 100"),
        ("merchandiser:region:north/east", "a region code is letters, digits"),
        ("installer:chain:Fresh", "installer takes no ':<scope>'"),
    ],
)
def test_bad_roles_are_refused_with_the_allowed_forms(text: str, says: str) -> None:
    with pytest.raises(RoleError, match=says):
        parse_role(text)


@pytest.mark.parametrize(
    ("text", "chain", "region", "canonical"),
    [
        ("merchandiser", None, None, "merchandiser"),
        (
            " merchandiser:chain: Fresh Corner ",
            "Fresh Corner",
            None,
            "merchandiser:chain:Fresh Corner",
        ),
        ("merchandiser:region:NL-north", None, "NL-north", "merchandiser:region:NL-north"),
    ],
)
def test_a_merchandiser_may_be_scoped_to_a_chain_or_a_region(
    text: str, chain: str | None, region: str | None, canonical: str
) -> None:
    role = parse_role(text)
    assert (role.kind, role.chain, role.region, role.text) == (
        "merchandiser",
        chain,
        region,
        canonical,
    )
    assert parse_role(role.text) == role


def test_every_refusal_names_the_merchandiser_forms() -> None:
    with pytest.raises(RoleError) as refused:
        parse_role("boss")
    for form in ("merchandiser:chain:<chain name>", "merchandiser:region:<region code>"):
        assert form in str(refused.value)


def test_principal_scopes_stores_and_brands() -> None:
    staff = Principal("anna", "staff:store-1", "staff", store="store-1")
    assert staff.sees_store("store-1") and not staff.sees_store("store-2")
    assert staff.stores_filter() == "store-1" and staff.sees_brand("Anything")
    brand = Principal("acme", "brand:Acme", "brand", brand="Acme")
    assert brand.sees_brand("ACME") and brand.sees_brand("acme")
    assert not brand.sees_brand("Other") and not brand.sees_brand(None)
    assert brand.sees_store("store-9") and brand.stores_filter() is None


# ---- users and passwords -------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_and_checked(users: Users, db: Database) -> None:
    user = users.add("anna", "staff:store-1", "correct horse")
    assert isinstance(user, User) and user.role == "staff:store-1"
    with sqlite3.connect(db.path) as conn:
        stored = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert users.authenticate("anna", "correct horse") == user
    assert users.authenticate("ANNA", "correct horse") is not None  # names ignore case
    assert users.authenticate("anna", "wrong horse") is None
    assert users.authenticate("nobody", "correct horse") is None


def test_user_rules_name_the_problem(users: Users) -> None:
    users.add("anna", "admin", "long enough")
    with pytest.raises(UserError, match="already exists"):
        users.add("Anna", "admin", "long enough")
    with pytest.raises(UserError, match="8 to 1024 characters"):
        users.add("bob", "admin", "short")
    with pytest.raises(UserError, match="user name 'b b'"):
        users.add("b b", "admin", "long enough")
    with pytest.raises(UserError, match="unknown role 'boss'"):
        users.add("bob", "boss", "long enough")
    with pytest.raises(UserError, match="no user 'carl'"):
        users.remove("carl")


def test_an_old_hash_is_upgraded_at_login(db: Database) -> None:
    Users(db, hasher=FAST_HASHER).add("anna", "admin", "long enough")
    users = Users(db)  # the product's parameters
    assert users.authenticate("anna", "long enough") is not None
    with sqlite3.connect(db.path) as conn:
        stored = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert not users.hasher.check_needs_rehash(stored)


# ---- API tokens ----------------------------------------------------------------------


def test_tokens_are_stored_hashed_listed_by_prefix_and_revocable(
    users: Users, db: Database
) -> None:
    users.add("till", "staff:store-1", "long enough")
    token = users.new_token("till")
    assert token.startswith("sst_") and len(token) > 50
    with sqlite3.connect(db.path) as conn:
        rows = conn.execute("SELECT prefix, token_hash FROM api_tokens").fetchall()
    assert token not in str(rows) and token.startswith(rows[0][0] + "_")
    assert users.user_for_token(token).name == "till"  # type: ignore[union-attr]
    assert users.tokens("till")[0].last_used_at is not None
    assert users.user_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert users.user_for_token("not a token") is None
    users.revoke_token(rows[0][0])
    assert users.user_for_token(token) is None
    with pytest.raises(UserError, match="no token"):
        users.revoke_token(rows[0][0])


def test_removing_a_user_ends_its_tokens_and_sessions(users: Users) -> None:
    user = users.add("anna", "admin", "long enough")
    token = users.new_token("anna")
    session = users.new_session(user)
    users.remove("anna")
    assert users.user_for_token(token) is None
    assert users.user_for_session(session) is None


# ---- sessions ------------------------------------------------------------------------


def test_sessions_slide_while_used_and_end_when_idle_or_too_old(users: Users) -> None:
    user = users.add("anna", "admin", "long enough")
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    session = users.new_session(user, now=start)
    # Used every 50 minutes (idle limit 1 h): still valid after 7 h 30 ...
    for step in range(1, 10):
        assert users.user_for_session(session, now=start + step * timedelta(minutes=50))
    # ... but never past the 8 h maximum.
    assert users.user_for_session(session, now=start + timedelta(hours=8, minutes=1)) is None

    idle = users.new_session(user, now=start)
    assert users.user_for_session(idle, now=start + timedelta(minutes=61)) is None
    assert users.user_for_session("made-up") is None


def test_expired_sessions_are_purged(users: Users, db: Database) -> None:
    user = users.add("anna", "admin", "long enough")
    long_ago = datetime.now(UTC) - timedelta(days=2)
    users.new_session(user, now=long_ago)
    users.new_session(user)  # a login purges what has expired
    with sqlite3.connect(db.path) as conn:
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    assert users.purge_expired_sessions(datetime.now(UTC) + timedelta(days=30)) == 1


def test_a_new_password_ends_the_sessions(users: Users) -> None:
    user = users.add("anna", "admin", "long enough")
    session = users.new_session(user)
    users.set_password("anna", "another long one")
    assert users.user_for_session(session) is None
    assert users.authenticate("anna", "another long one") is not None


# ---- login throttle ------------------------------------------------------------------


def test_throttle_doubles_the_wait_after_the_free_failures() -> None:
    now = [1000.0]
    throttle = LoginThrottle(free_failures=3, max_wait_s=60, clock=lambda: now[0])
    for _ in range(2):
        throttle.failed("Anna")
    assert throttle.retry_after("anna") == 0
    throttle.failed("anna")
    assert throttle.retry_after("ANNA") == pytest.approx(1)
    throttle.failed("anna")
    assert throttle.retry_after("anna") == pytest.approx(2)
    for _ in range(10):
        throttle.failed("anna")
    assert throttle.retry_after("anna") == pytest.approx(60)  # capped
    assert throttle.retry_after("bob") == 0  # per name
    now[0] += 61
    assert throttle.retry_after("anna") == 0  # forgotten after a quiet max wait
    throttle.failed("bob")
    throttle.succeeded("bob")
    assert throttle.retry_after("bob") == 0


# ---- over HTTP: login, cookie, CSRF, pages -------------------------------------------


@pytest.fixture
def app(db: Database) -> FastAPI:
    return create_app(db)


def login(client: TestClient, name: str, password: str, **headers: str):
    return client.post(
        "/api/auth/login", json={"name": name, "password": password}, headers=headers
    )


def test_login_sets_an_httponly_lax_cookie_and_me_answers(app: FastAPI, db: Database) -> None:
    name, password, _token = make_user(db, "brand:Acme")
    client = TestClient(app)
    assert client.get("/api/auth/me").status_code == 401
    response = login(client, name, password)
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    me = client.get("/api/auth/me").json()
    assert me == {
        "name": name,
        "role": "brand:Acme",
        "kind": "brand",
        "store": None,
        "brand": "Acme",
    }
    assert (
        client.post("/api/auth/logout", headers={"Origin": "http://testserver"}).status_code == 204
    )
    assert client.get("/api/auth/me").status_code == 401


def test_the_cookie_is_secure_over_https(app: FastAPI, db: Database) -> None:
    name, password, _token = make_user(db, "admin")
    client = TestClient(app, base_url="https://gateway.local")
    assert "Secure" in login(client, name, password).headers["set-cookie"]


def test_wrong_passwords_are_401_then_throttled_with_retry_after(
    app: FastAPI, db: Database
) -> None:
    name, password, _token = make_user(db, "admin")
    client = TestClient(app)
    for _ in range(5):  # the free tries
        assert login(client, name, "wrong password").status_code == 401
    throttled = login(client, name, password)  # the next must wait, even if right
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) >= 1
    assert "try again" in throttled.json()["detail"]
    # An unknown name is slowed down just the same (no hint which names exist).
    for _ in range(5):
        assert login(client, "nobody", "whatever").status_code == 401
    assert login(client, "nobody", "whatever").status_code == 429


def test_cookie_changes_need_the_gateways_own_origin(app: FastAPI, db: Database) -> None:
    name, password, _token = make_user(db, "staff:store-1")
    client = TestClient(app)
    login(client, name, password)
    body = {"sales": []}
    assert client.post("/api/pos/sales", json=body).status_code == 403  # no Origin
    evil = client.post("/api/pos/sales", json=body, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and "cross-site" in evil.json()["detail"]
    own = client.post("/api/pos/sales", json=body, headers={"Origin": "http://testserver"})
    assert own.status_code == 200
    referer = {"Referer": "http://testserver/store"}
    assert client.post("/api/pos/sales", json=body, headers=referer).status_code == 200
    # Reading needs no Origin, and a login from another site's page is refused.
    assert client.get("/api/auth/me").status_code == 200
    assert login(TestClient(app), name, password, Origin="https://evil.example").status_code == 403


def test_trusted_origins_admit_a_reverse_proxy(db: Database) -> None:
    from gateway.auth.access import AccessControl, install_access

    app = create_app(db)
    install_access(app, AccessControl(db, AuthSettings(trusted_origins=["https://shop.example"])))
    name, password, _token = make_user(db, "staff:store-1")
    client = TestClient(app)
    login(client, name, password, Origin="https://shop.example")
    sent = client.post(
        "/api/pos/sales", json={"sales": []}, headers={"Origin": "https://shop.example"}
    )
    assert sent.status_code == 200


def test_tokens_need_no_origin_and_bad_tokens_are_401(app: FastAPI, db: Database) -> None:
    _name, _password, token = make_user(db, "staff:store-1")
    client = TestClient(app)
    assert (
        client.post("/api/pos/sales", json={"sales": []}, headers=bearer(token)).status_code == 200
    )
    for header in ("Bearer sst_00000000_" + "x" * 43, "Basic YWRtaW46YWRtaW4=", "Bearer "):
        response = client.get("/api/cameras", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_pages_send_a_browser_to_login_and_back(app: FastAPI, db: Database) -> None:
    client = TestClient(app, follow_redirects=False)
    response = client.get("/calibrate?store=store-1&camera=cam-1")
    assert response.status_code == 303
    assert (
        response.headers["location"] == "/login?next=/calibrate%3Fstore%3Dstore-1%26camera%3Dcam-1"
    )
    page = client.get("/login")
    assert page.status_code == 200 and 'id="password"' in page.text
    assert client.get("/static/login.css").status_code == 200
    name, password, _token = make_user(db, "staff:store-1")
    login(client, name, password)
    refused = client.get("/calibrate")  # staff do not calibrate: sent home, not an error
    assert refused.status_code == 303 and refused.headers["location"] == "/store"
    installer, password, _token = make_user(db, "installer")
    login(client, installer, password)
    assert client.get("/calibrate").status_code == 200


def test_an_api_route_without_an_access_rule_stops_the_app() -> None:
    app = FastAPI()
    router = APIRouter(prefix="/api")

    @router.get("/open")
    def open_route() -> dict[str, str]:
        return {}

    @router.get("/guarded", dependencies=[allow("admin")])
    def guarded_route() -> dict[str, str]:
        return {}

    app.include_router(router)
    with pytest.raises(RuntimeError, match=r"GET /api/open") as error:
        require_declared_access(app)
    assert "/api/guarded" not in str(error.value)


def test_allow_refuses_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="kinds are"):
        allow("superuser")


# ---- a gateway's config --------------------------------------------------------------


def test_a_gateway_uses_its_auth_config_and_says_when_nobody_can_sign_in(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = GatewaySettings.model_validate(
        {
            "mqtt": {"url": f"mqtt://127.0.0.1:{free_port()}"},  # no broker: not needed here
            "data_dir": str(tmp_path / "data"),
            "auth": {"cookie_secure": "always", "session_idle_minutes": 5},
        }
    )
    with caplog.at_level(logging.WARNING, logger="gateway.app"), Gateway(settings) as gateway:
        assert "users add admin --role admin" in caplog.text
        name, password, _token = make_user(gateway.db, "merchandiser")
        cookie = login(TestClient(gateway.app), name, password).headers["set-cookie"]
        assert "Secure" in cookie
        assert gateway.app.state.access.users.policy.idle == timedelta(minutes=5)


def test_auth_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="session_max_hours must be at least"):
        AuthSettings(session_idle_minutes=600, session_max_hours=2)
    with pytest.raises(ValueError, match="cookie_secure"):
        AuthSettings(cookie_secure="sometimes")  # type: ignore[arg-type]
