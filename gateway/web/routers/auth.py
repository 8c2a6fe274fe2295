"""Signing in and out: `/api/auth/{login,logout,me}` (the `/login` page posts here).

A successful login sets the session cookie: HttpOnly (page scripts cannot read it),
SameSite=Lax (other sites' forms and scripts do not send it), Secure over https (see
`auth.cookie_secure`). Wrong passwords are slowed down per user name
(the login throttle): past the free tries the answer is 429 with Retry-After.
"""

from __future__ import annotations

import logging
import math
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from gateway.auth.access import (
    EVERYONE,
    SESSION_COOKIE,
    AccessControl,
    CurrentPrincipal,
    access_control,
    allow,
    public,
)
from gateway.auth.roles import Kind, parse_role
from gateway.auth.users import MAX_PASSWORD_LENGTH
from gateway.web.params import BAD_BODY

log = logging.getLogger(__name__)

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class MeOut(BaseModel):
    name: str
    role: str = Field(description="e.g. admin, staff:store-1, brand:Acme.")
    kind: Kind
    store: str | None = Field(description="The store a staff user is limited to.")
    brand: str | None = Field(description="The brand a brand user is limited to.")


def _cookie_secure(access: AccessControl, request: Request) -> bool:
    mode = access.settings.cookie_secure
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


@router.post(
    "/login",
    response_model=MeOut,
    dependencies=[public()],
    responses={
        **BAD_BODY,
        401: {"description": "Wrong user name or password"},
        429: {"description": "Too many wrong passwords for this name; see Retry-After"},
    },
)
async def login(
    body: LoginIn,
    request: Request,
    response: Response,
    access: Annotated[AccessControl, Depends(access_control)],
) -> MeOut:
    """Check a user name and password and start a browser session (cookie)."""
    if request.headers.get("origin"):  # a login posted from another site's page
        access.require_same_origin(request)
    wait = access.throttle.retry_after(body.name)
    if wait > 0:
        raise HTTPException(
            429,
            f"too many wrong passwords for {body.name!r}: try again in {math.ceil(wait)} s",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    user = await run_in_threadpool(access.users.authenticate, body.name, body.password)
    if user is None:
        access.throttle.failed(body.name)
        client = request.client.host if request.client else "?"
        log.warning("failed login for %r from %s", body.name, client)
        raise HTTPException(401, "wrong user name or password")
    access.throttle.succeeded(body.name)
    session_id = await run_in_threadpool(access.users.new_session, user)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(access.settings.session_max_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(access, request),
        path="/",
    )
    return _me(user.name, user.role)


@router.post("/logout", status_code=204, dependencies=[public()])
def logout(request: Request, access: Annotated[AccessControl, Depends(access_control)]) -> Response:
    """End this browser's session (idempotent: fine without one)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        access.require_same_origin(request)
        access.users.end_session(session_id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/me", response_model=MeOut, dependencies=[allow(*EVERYONE)])
def me(principal: CurrentPrincipal) -> MeOut:
    """Who is signed in: name, role and its store or brand."""
    return _me(principal.name, principal.role)


def _me(name: str, role_text: str) -> MeOut:
    role = parse_role(role_text)
    return MeOut(name=name, role=role.text, kind=role.kind, store=role.store, brand=role.brand)
