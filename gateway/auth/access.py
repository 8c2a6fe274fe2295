"""Who is calling, and may they: the access-control interface every route uses.

- `CurrentPrincipal`: the caller, from the session cookie (browsers) or
  `Authorization: Bearer <token>` (machines); 401 when neither is valid.
- `allow(*kinds)`: a route dependency answering 403 unless the caller's kind is listed.
  Every `/api` route declares one (or `public()`); `create_app` refuses to build an app
  with an undeclared route, so a new route cannot be left open by accident.
- `allow_page(*kinds)`: the same for HTML pages, sending a browser without a session
  to `/login?next=<page>` instead of answering 401.
- Rows are scoped with the principal's `sees_store`, `sees_brand` and `stores_filter`
  (see `scoping` for the brand side).

Cookie-authenticated requests that change something (not GET/HEAD/OPTIONS) must come
from the gateway's own pages: their `Origin` (or `Referer`) must name the host the
request was sent to, or one of `auth.trusted_origins`. With SameSite=Lax cookies this
stops cross-site request forgery; token requests carry no cookie and need no check.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import fastapi.routing
from fastapi import Depends, FastAPI, HTTPException, Request, Security
from fastapi.params import Depends as DependsParam
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.routing import compile_path

from gateway.auth.roles import KINDS, Kind, RoleError, parse_role
from gateway.auth.throttle import LoginThrottle
from gateway.auth.users import SessionPolicy, User, Users
from gateway.config.settings import AuthSettings
from gateway.storage.connection import Database

SESSION_COOKIE = "shelfsense_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EVERYONE: tuple[Kind, ...] = KINDS
"""Every kind of signed-in user (for routes any user may read, like /api/auth/me)."""


@dataclass(frozen=True)
class Principal:
    """The signed-in caller: a user's name and parsed role."""

    name: str
    role: str
    kind: Kind
    store: str | None = None
    brand: str | None = None
    manager: bool = False
    """A staff user who manages the store (`staff:<store>:manager`)."""

    @classmethod
    def of(cls, user: User) -> Principal:
        role = parse_role(user.role)
        return cls(user.name, role.text, role.kind, role.store, role.brand, role.manager)

    def manages_store(self, store: str) -> bool:
        """Admins, and the store's manager (staff with ':manager'), place its purchase
        orders; other staff only read them."""
        return self.kind == "admin" or (
            self.kind == "staff" and self.manager and store == self.store
        )

    def sees_store(self, store: str) -> bool:
        """Staff see their own store only; every other kind sees every store."""
        return self.kind != "staff" or store == self.store

    def sees_brand(self, brand: str | None) -> bool:
        """A brand sees rows of its own brand only (case-insensitive); others see all."""
        if self.kind != "brand":
            return True
        return (
            brand is not None
            and self.brand is not None
            and brand.casefold() == self.brand.casefold()
        )

    def stores_filter(self) -> str | None:
        """The one store a staff user is limited to; None for everyone else."""
        return self.store if self.kind == "staff" else None


class AccessControl:
    """Per-app access state: the users store, the login throttle and the settings."""

    def __init__(self, db: Database, settings: AuthSettings | None = None) -> None:
        self.settings = settings or AuthSettings()
        self.users = Users(
            db,
            SessionPolicy(
                idle=timedelta(minutes=self.settings.session_idle_minutes),
                max_age=timedelta(hours=self.settings.session_max_hours),
            ),
        )
        self.throttle = LoginThrottle(
            self.settings.login_free_failures, self.settings.login_lockout_max_s
        )

    def same_origin(self, request: Request) -> bool:
        """Whether a request's Origin (or Referer) is this gateway or a trusted origin."""
        origin = request.headers.get("origin")
        if not origin or origin == "null":
            referer = urlsplit(request.headers.get("referer", ""))
            origin = f"{referer.scheme}://{referer.netloc}" if referer.netloc else ""
        if not origin:
            return False
        if origin.rstrip("/") in {o.rstrip("/") for o in self.settings.trusted_origins}:
            return True
        host = request.headers.get("host", "")
        return bool(host) and urlsplit(origin).netloc.lower() == host.lower()

    def require_same_origin(self, request: Request) -> None:
        if not self.same_origin(request):
            raise HTTPException(
                403,
                "cross-site request refused: a change made with the session cookie must "
                "come from the gateway's own pages (Origin header), or use an API token",
            )


def access_control(request: Request) -> AccessControl:
    access = getattr(request.app.state, "access", None)
    if access is None:
        raise RuntimeError("this app has no access control (build it with create_app)")
    return access


def _principal_of(user: User) -> Principal:
    try:
        return Principal.of(user)
    except RoleError as error:
        raise HTTPException(403, f"user {user.name!r} has an unusable role: {error}") from None


BEARER = HTTPBearer(
    auto_error=False,
    description="An API token from `shelf-gateway users add` or `users token` "
    "(browsers use the session cookie from /login instead).",
)
"""Declares the token scheme in /openapi.json, so /docs can send a token ("Authorize");
the header itself is read below, to answer a malformed one with a clear 401."""


def optional_principal(
    request: Request,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
) -> Principal | None:
    """The caller if signed in: a bearer token first, else the session cookie."""
    access = access_control(request)
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(
                401,
                "Authorization header: expected 'Bearer <API token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        user = access.users.user_for_token(token.strip())
        if user is None:
            raise HTTPException(
                401,
                "unknown or revoked API token (`shelf-gateway users token NAME` makes one)",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return _principal_of(user)
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        return None
    user = access.users.user_for_session(session)
    if user is None:
        return None
    if request.method not in SAFE_METHODS:
        access.require_same_origin(request)
    return _principal_of(user)


def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise HTTPException(
            401,
            "not signed in: log in at /login (POST /api/auth/login) or send "
            "'Authorization: Bearer <API token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
"""A route parameter of this type receives the signed-in caller (401 when none)."""


class AccessRule:
    """A declared access rule (what `allow`, `allow_page` and `public` return inside
    `Depends`); `require_declared_access` looks for it on every /api route."""

    kinds: tuple[str, ...] = ()


class _Allow(AccessRule):
    def __init__(self, kinds: tuple[str, ...]) -> None:
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            raise ValueError(f"allow({', '.join(kinds)}): kinds are {', '.join(KINDS)}")
        self.kinds = kinds

    def __call__(self, principal: CurrentPrincipal) -> Principal:
        if principal.kind not in self.kinds:
            raise HTTPException(403, f"role {principal.role} may not use this")
        return principal


class LoginRequired(Exception):
    """Raised by a page rule for a browser without a session: redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class _AllowPage(_Allow):
    def __call__(  # type: ignore[override]
        self,
        request: Request,
        principal: Annotated[Principal | None, Depends(optional_principal)],
    ) -> Principal:
        if principal is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(target)
        return super().__call__(principal)


class _Public(AccessRule):
    kinds = ("*",)

    def __call__(self) -> None:
        return None


def allow(*kinds: str) -> Any:
    """`dependencies=[allow("admin", "staff")]`: 403 unless the caller is of those kinds."""
    return Depends(_Allow(kinds))


def allow_page(*kinds: str) -> Any:
    """Like `allow`, for HTML pages: no session -> 303 to /login?next=<this page>."""
    return Depends(_AllowPage(kinds))


def public() -> Any:
    """Declares a route open to anyone (login, health): it must reveal no store data."""
    return Depends(_Public())


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """Every APIRoute of the app with its router's dependencies merged in. FastAPI 0.165
    includes routers lazily (`iter_route_contexts` flattens them); older versions copy
    included routes into `app.routes`."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    for route in flatten(app.routes) if flatten else app.routes:
        if isinstance(getattr(route, "original_route", route), APIRoute):
            yield route


def methods_at(app: FastAPI, path: str) -> set[str]:
    """Every HTTP method the API answers at `path` (for `Allow`). A route spelled out
    literally (`/api/catalogue/csv`) is that resource; a templated one that also matches
    (`/api/catalogue/{gtin}`) is another resource's, so it does not count there."""
    matching = [r for r in _api_routes(app) if compile_path(r.path)[0].fullmatch(path)]
    literal = [r for r in matching if "{" not in r.path]
    return {method for route in literal or matching for method in route.methods}


def declared_rule(route: Any) -> AccessRule | None:
    """The access rule a route declares (its own or its router's), if any."""
    for dependency in route.dependencies or ():
        if isinstance(dependency, DependsParam) and isinstance(dependency.dependency, AccessRule):
            return dependency.dependency
    return None


def require_declared_access(app: FastAPI) -> None:
    """Refuse an app with an /api route that declares no access rule."""
    missing = [
        f"{','.join(sorted(route.methods))} {route.path}"
        for route in _api_routes(app)
        if route.path.startswith("/api/") and declared_rule(route) is None
    ]
    if missing:
        raise RuntimeError(
            "these /api routes declare no access (add dependencies=[allow(...)] or "
            f"[public()]): {'; '.join(missing)}"
        )


ACCESS_RESPONSES = {
    "401": {"description": "Not signed in: no, unknown or revoked token or session"},
    "403": {"description": "This role may not do this, or a cookie request from another site"},
}


def _document_access(app: FastAPI) -> None:
    """List 401 and 403 in /openapi.json for every operation that needs a user."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            for operations in spec.get("paths", {}).values():
                for operation in operations.values():
                    if operation.get("security"):
                        responses = operation.setdefault("responses", {})
                        for code, response in ACCESS_RESPONSES.items():
                            responses.setdefault(code, response)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _to_login(request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginRequired)
    return RedirectResponse(f"/login?next={quote(error.next_url, safe='/')}", status_code=303)


def install_access(app: FastAPI, access: AccessControl) -> None:
    """Give an app its access state and the page redirect to /login."""
    app.state.access = access
    app.add_exception_handler(LoginRequired, _to_login)
    _document_access(app)


__all__ = [
    "EVERYONE",
    "SESSION_COOKIE",
    "AccessControl",
    "AccessRule",
    "CurrentPrincipal",
    "LoginRequired",
    "Principal",
    "allow",
    "allow_page",
    "current_principal",
    "declared_rule",
    "install_access",
    "optional_principal",
    "public",
    "require_declared_access",
]
