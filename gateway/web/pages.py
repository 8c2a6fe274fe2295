"""The HTML pages: sign-in, calibration and the dashboards. Plain HTML, CSS and JS modules
from the package's `static/` folder (no build step, nothing from a CDN), each fetching its
data from the API.

Each page is open to the roles that may read its data: a browser without a session goes
to /login first (and comes back), a user of another role to their own home page (a
brand user typing /store lands on /brand, and staff typing /calibrate on /store: never on
an error or raw JSON). The app shell
(`static/app.js`) lists only the pages of the user's role; the data itself is guarded
by the API's access rules whatever page asks for it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from gateway.auth.access import Principal, optional_principal
from gateway.web.routers.alerts import USERS as ALERT_USERS
from gateway.web.routers.layouts import LAYOUT_EDITORS

STATIC_DIR = Path(__file__).resolve().parent / "static"

PAGES: dict[str, tuple[str, ...]] = {
    "store": ("admin", "staff", "merchandiser"),
    "merchandiser": ("admin", "merchandiser"),
    "brand": ("admin", "merchandiser", "brand"),
    "devices": ("admin", "installer"),
    "rollouts": ("admin",),  # model uploads and staged roll-outs
    "calibrate": LAYOUT_EDITORS,  # `/calibrate?store=S&camera=C`: snapshots, layout, planogram
    "alerts": ALERT_USERS,  # the user's own push-alert channels and quiet hours (user menu)
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


Caller = Annotated[Principal | None, Depends(optional_principal)]


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / f"{name}.html", headers={"Cache-Control": "no-cache"})


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def _handler(name: str, kinds: tuple[str, ...]) -> Callable[..., Response]:
    def page(request: Request, principal: Caller) -> Response:
        if principal is None:
            return _to_login(request)
        if principal.kind not in kinds:
            return RedirectResponse(HOME[principal.kind], status_code=303)
        return _page(name)

    page.__name__ = f"{name}_page"
    return page


router = APIRouter(include_in_schema=False)
for _name, _kinds in PAGES.items():
    router.add_api_route(f"/{_name}", _handler(_name, _kinds), methods=["GET"])


@router.get("/")
def home(request: Request, principal: Caller) -> RedirectResponse:
    """Signed in: the role's home page; else the sign-in page."""
    if principal is None:
        return _to_login(request)
    return RedirectResponse(HOME[principal.kind], status_code=303)


@router.get("/login")
def login_page() -> FileResponse:
    """The sign-in form (its script posts to /api/auth/login)."""
    return _page("login")
