"""The app factory: `create_hq_app` builds the head office's FastAPI app.

The same roles, sign-in and access rules as the store gateway (`gateway.auth`, its
login router and page): users, sessions and API tokens live in the HQ's own SQLite
database; every /api route declares who may call it with `allow(...)`, and the app
refuses to build with one that does not. Figures come from the results folder that
`gateway.hq.analytics.refresh` writes, through the `HqBackend` each route receives.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from gateway.auth.access import AccessControl, install_access, require_declared_access
from gateway.config.settings import AuthSettings
from gateway.config.version import package_version
from gateway.hq.web import pages
from gateway.hq.web.backend import HqBackend, ResultsBackend
from gateway.hq.web.routers import (
    assortment,
    brands,
    chain,
    devices,
    exports,
    prices,
    stores,
    system,
)
from gateway.storage.connection import Database
from gateway.web.app import STATIC_DIR as STORE_STATIC_DIR
from gateway.web.routers import auth

API_ROUTERS = (
    system,  # /api/health
    auth,  # /api/auth (the store gateway's sign-in)
    brands,  # /api/brands, /api/brands/{brand}/{stores,trend,regions,products}
    exports,  # /api/brands/{brand}/export.{csv,parquet}
    stores,  # /api/stores
    chain,  # /api/chain/{trend,worst-stores,worst-skus}
    devices,  # /api/devices/offline
    prices,  # /api/stores/{store}/prices, /api/brands/{brand}/prices
    assortment,  # /api/stores/{store}/assortment
)
"""The modules whose `router` serves under /api, one per resource."""


def create_hq_app(
    root: str | Path,
    users_db: Database,
    *,
    auth_settings: AuthSettings | None = None,
    backend: HqBackend | None = None,
    title: str = "shelfsense head office",
) -> FastAPI:
    """The head office's web app and API.

    - `root`: the HQ data folder (`HqStore(root)`, `analytics.refresh(root)`); the app
      reads `<root>/results/` and picks up a refresh without a restart.
    - `users_db`: the HQ's users, sessions and tokens (`Database.in_dir(data_dir)`: its
      migrations make the users tables), opened by the caller and closed after the app
      stops; `gateway.auth.users.Users(users_db).add(name, role, password)` makes a user.
    - `auth_settings`: sessions, cookies, trusted origins, login throttle (defaults).
    - `backend`: another `HqBackend` instead of the results folder (tests, tools).
    """
    backend = backend or ResultsBackend(root, users_db, auth_settings)
    app = FastAPI(
        title=title,
        version=package_version(),
        description="Cross-store figures for brands and merchandisers. Sign in at /login "
        "(a session cookie) or send 'Authorization: Bearer <API token>'.",
    )
    app.state.hq_backend = backend
    install_access(app, AccessControl(backend.users_db, backend.auth))
    for module in API_ROUTERS:
        app.include_router(module.router, prefix="/api")
    app.include_router(pages.router)
    app.mount("/static/hq", StaticFiles(directory=pages.STATIC_DIR), name="hq-static")
    app.mount("/static", StaticFiles(directory=STORE_STATIC_DIR), name="static")
    require_declared_access(app)
    return app


__all__ = ["create_hq_app"]
