"""Signed-in API clients for tests: real users with real tokens in the test's database.

Every API route needs a user, so tests that exercise the API (not access control) sign
in as an admin through these helpers; tests of access itself use other roles.
"""

from __future__ import annotations

import secrets
from typing import Any

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.auth.users import Users
from gateway.storage.connection import Database

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""Argon2id with small parameters: the same code path, quick enough for hundreds of
test users (the product uses argon2-cffi's defaults)."""


def make_user(db: Database, role: str = "admin", name: str | None = None) -> tuple[str, str, str]:
    """Create a user in `db` (open); returns (name, password, API token)."""
    users = Users(db, hasher=FAST_HASHER)
    name = name or f"test-{role.replace(':', '-').replace(' ', '-')}-{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    users.add(name, role, password)
    return name, password, users.new_token(name)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def auth_headers(db: Database, role: str = "admin") -> dict[str, str]:
    """Headers of a new user of `role` in `db`."""
    return bearer(make_user(db, role)[2])


def app_db(app: FastAPI) -> Database:
    return app.state.backend.db


def admin_client(app: FastAPI, role: str = "admin", **kwargs: Any) -> TestClient:
    """A TestClient for `app` signed in (API token) as a new user of `role`; the app's
    database must be open (a started Gateway, or an opened Database)."""
    headers = auth_headers(app_db(app), role) | kwargs.pop("headers", {})
    return TestClient(app, headers=headers, **kwargs)
