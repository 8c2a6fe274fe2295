"""The dashboard pages: plain HTML, CSS and JS modules from `gateway/static/` (no build
step, nothing from a CDN), each fetching its data from the API.

Which pages a role may open is decided by the API's access rules (a page without data
shows nothing); the app shell (`static/app.js`) lists only the pages of the user's
role, and `/` sends each role to its home page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse

STATIC_DIR = Path(__file__).resolve().parent / "static"

PAGES = ("store", "merchandiser", "brand", "devices")

HOME = {
    "admin": "/store",
    "staff": "/store",
    "merchandiser": "/merchandiser",
    "brand": "/brand",
    "installer": "/devices",
}
"""Each kind of user's first page."""


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / f"{name}.html", headers={"Cache-Control": "no-cache"})


def add_pages(app: FastAPI) -> None:
    """`/store`, `/merchandiser`, `/brand`, `/devices`, and `/` to the home page."""
    for name in PAGES:
        app.add_api_route(f"/{name}", _handler(name), methods=["GET"], include_in_schema=False)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse(HOME["admin"], status_code=303)


def _handler(name: str) -> Callable[[], FileResponse]:
    def page() -> FileResponse:
        return _page(name)

    page.__name__ = f"{name}_page"
    return page
