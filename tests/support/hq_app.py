"""The head office's HTTP API over a built dataset, for tests that go through it (no
tests here): the HQ app on the dataset's folder, with a users database of its own so
each test can sign in as a new user of the role it needs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.hq.web import create_hq_app
from gateway.storage.connection import Database
from tests.support.auth_support import bearer, make_user


@dataclass
class Hq:
    root: Path
    db: Database
    app: FastAPI

    def client(self, role: str | None) -> TestClient:
        """A client signed in as a new user of `role`; None sends no credentials."""
        if role is None:
            return TestClient(self.app)
        return TestClient(self.app, headers=bearer(make_user(self.db, role)[2]))


@contextmanager
def hq_app(root: Path, users_dir: Path) -> Iterator[Hq]:
    """The HQ API on the dataset at `root`, its users stored in `users_dir`."""
    db = Database.in_dir(users_dir)
    db.open()
    try:
        yield Hq(root, db, create_hq_app(root, db))
    finally:
        db.close()
