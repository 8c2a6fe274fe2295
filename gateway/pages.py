"""The dashboard pages: plain HTML, CSS and JS modules from `gateway/static/` (no build
step, nothing from a CDN), each fetching its data from the API.

Each page is open to the roles that may read its data (`allow_page`: a browser without
a session goes to /login first); the app shell (`static/app.js`) lists only the pages
of the user's role, and `/` sends each role to its home page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse, RedirectResponse

from gateway.access import Principal, allow_page, optional_principal

STATIC_DIR = Path(__file__).resolve().parent / "static"

PAGES: dict[str, tuple[str, ...]] = {
    "store": ("admin", "staff", "merchandiser"),
    "merchandiser": ("admin", "merchandiser"),
    "brand": ("admin", "merchandiser", "brand"),
    "devices": ("admin", "installer"),
}
"""Each page and who may open it (static/app.js lists the same in its navigation)."""

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
    for name, kinds in PAGES.items():
        app.add_api_route(
            f"/{name}",
            _handler(name),
            methods=["GET"],
            include_in_schema=False,
            dependencies=[allow_page(*kinds)],
        )

    @app.get("/", include_in_schema=False)
    def home(
        principal: Annotated[Principal | None, Depends(optional_principal)],
    ) -> RedirectResponse:
        """Signed in: the role's home page; else the sign-in page."""
        target = HOME.get(principal.kind, "/login") if principal else "/login"
        return RedirectResponse(target, status_code=303)


def _handler(name: str) -> Callable[[], FileResponse]:
    def page() -> FileResponse:
        return _page(name)

    page.__name__ = f"{name}_page"
    return page
