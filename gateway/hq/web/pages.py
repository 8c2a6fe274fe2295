"""The head office's HTML pages: sign-in (the store gateway's own page), `/brand` and
`/chain`. Plain HTML, CSS and JS modules (no build step, nothing from a CDN); the
shared look and helpers come from the store gateway's `/static`, the HQ's own files
from `/static/hq`.

A browser without a session goes to /login first (and comes back); a user of another
role to their own page; a role with no HQ page (staff, installer) gets a 403 page that
says so. The data is guarded by the API's access rules whatever page asks for it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from gateway.auth.access import Principal, optional_principal
from gateway.hq.web.scope import CHAIN_READERS, HQ_READERS
from gateway.web.pages import login_page

STATIC_DIR = Path(__file__).resolve().parent / "static"

PAGES: dict[str, tuple[str, ...]] = {"chain": CHAIN_READERS, "brand": HQ_READERS}
"""Each page and who may open it (static/hq.js lists the same in its navigation)."""

HOME = {"admin": "/chain", "merchandiser": "/chain", "brand": "/brand"}
"""Each kind of user's first page; the kinds not named have none at the head office."""

Caller = Annotated[Principal | None, Depends(optional_principal)]


def _page(name: str, status_code: int = 200) -> FileResponse:
    return FileResponse(
        STATIC_DIR / f"{name}.html", status_code=status_code, headers={"Cache-Control": "no-cache"}
    )


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def _home(principal: Principal) -> Response:
    home = HOME.get(principal.kind)
    return RedirectResponse(home, status_code=303) if home else _page("denied", 403)


def _handler(name: str, kinds: tuple[str, ...]) -> Callable[..., Response]:
    def page(request: Request, principal: Caller) -> Response:
        if principal is None:
            return _to_login(request)
        if principal.kind not in kinds:
            return _home(principal)
        return _page(name)

    page.__name__ = f"{name}_page"
    return page


router = APIRouter(include_in_schema=False)
for _name, _kinds in PAGES.items():
    router.add_api_route(f"/{_name}", _handler(_name, _kinds), methods=["GET"])
router.add_api_route("/login", login_page, methods=["GET"])


@router.get("/")
def home(request: Request, principal: Caller) -> Response:
    """Signed in: the role's page; else the sign-in page."""
    if principal is None:
        return _to_login(request)
    return _home(principal)
