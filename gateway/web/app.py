"""The app factory: `create_app` builds the FastAPI app over a backend.

The app reads through a backend (see `gateway.web.backend`): the running `Gateway`, or a
bare `Database` for a read-only API (then nothing is published and the broker shows as
not connected). It is stored on `app.state` once; routes receive it through `Depends`.

Every route returns a pydantic response model, so `/openapi.json` (and `/docs`) describe
the exact shapes. Every route declares who may call it with `allow(...)` (README: Users
and access) and scopes its rows to the caller: staff see their own store, a brand its own
products. `create_app` refuses an /api route that declares no access.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.auth.access import (
    AccessControl,
    install_access,
    methods_at,
    require_declared_access,
)
from gateway.auth.scoping import BrandViews
from gateway.config.version import package_version
from gateway.storage.connection import Database
from gateway.web import pages
from gateway.web.backend import ApiBackend, DatabaseBackend
from gateway.web.routers import (
    advice,
    alerts,
    auth,
    cameras,
    compliance,
    events,
    guidance,
    layouts,
    live,
    purchases,
    reports,
    retail,
    rollouts,
    sales_batches,
    snapshots,
    stock,
    stores,
    suppliers,
    system,
)

STATIC_DIR = Path(__file__).resolve().parent / "static"
SWAGGER = "/static/vendor/swagger-ui"
"""Swagger UI's files, served by the gateway itself: `/docs` works without internet."""

API_ROUTERS = (
    system,  # /api/health, /api/dead-letters
    cameras,  # /api/cameras
    events,  # /api/events
    layouts,  # /api/layouts (and planogram import)
    compliance,  # /api/cameras/…/compliance
    snapshots,  # /api/cameras/…/snapshot(s)
    retail,  # /api/pos, /api/catalogue, /api/velocity
    sales_batches,  # /api/pos/batches
    stores,  # /api/stores
    advice,  # /api/advice
    auth,  # /api/auth
    reports,  # /api/reports
    live,  # /api/stream
    rollouts,  # /api/models, /api/rollouts
    stock,  # /api/stock (receipts, counts, on hand)
    suppliers,  # /api/suppliers (price lists)
    purchases,  # /api/purchases (suggestion, orders)
    guidance,  # /api/guidance (the head office's nearby prices and assortment items)
    alerts,  # /api/alerts (push alert channels, quiet hours, delivery log)
)
"""The modules whose `router` serves under /api, one per resource."""


def create_app(
    source: ApiBackend | Database,
    *,
    dependencies: Sequence[Any] = (),
    title: str = "shelfsense gateway",
) -> FastAPI:
    """The FastAPI app over a Gateway (or any ApiBackend) or a bare Database.

    `dependencies` apply to every /api route (each route adds its own access rule).
    Users and sessions live in the same database; the access settings are the backend's
    `settings.auth`."""
    backend: ApiBackend = DatabaseBackend(source) if isinstance(source, Database) else source
    app = FastAPI(
        title=title,
        version=package_version(),
        description="Shelf state, events and layouts of the store's camera nodes. Sign in "
        "at /login (a session cookie) or send 'Authorization: Bearer <API token>'.",
        docs_url=None,  # FastAPI's own page loads Swagger UI from a CDN: blank offline
        redoc_url=None,
    )
    app.state.backend = backend
    install_access(app, AccessControl(backend.db, backend.settings.auth))
    app.state.brand_views = BrandViews(backend.db)
    for module in API_ROUTERS:
        app.include_router(module.router, prefix="/api", dependencies=list(dependencies))
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _add_offline_docs(app, title)
    require_declared_access(app)
    app.add_exception_handler(StarletteHTTPException, _with_every_allowed_method)
    return app


def _add_offline_docs(app: FastAPI, title: str) -> None:
    """`/docs`: Swagger UI from the vendored files (static/vendor/swagger-ui)."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{title} · API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url="data:,",
            swagger_ui_parameters={"persistAuthorization": True},
        )


async def _with_every_allowed_method(request: Request, error: Exception) -> Response:
    """Starlette's 405 names the methods of the first route on the path only (GET for
    /api/layouts/…, though PUT works too): list every route's, as HTTP asks."""
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 405:
        methods = methods_at(request.app, request.url.path)
        error.headers = {**(error.headers or {}), "Allow": ", ".join(sorted(methods))}
    return await http_exception_handler(request, error)


__all__ = ["create_app"]
