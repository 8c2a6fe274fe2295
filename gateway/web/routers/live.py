"""`GET /api/stream`: live updates as server-sent events (advice and slot changes).

The browser's EventSource reconnects by itself (`retry:` says after how long). Each
message is `event: advice` or `event: slots` with the JSON record; `event: resync`
tells a client that updates were dropped (it was too slow) and it must reload its data;
an `event: ping` (the server's time) every `KEEP_ALIVE_S` keeps proxies and phones from
closing an idle connection and lets a page tell a quiet gateway from a lost one (a page
that hears nothing for a few pings says it is disconnected). The stream ends when the
client goes away or the gateway stops.

Not in the OpenAPI document: an endless stream cannot be described there, and a
client walking every documented GET must not hang on it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from gateway.auth.access import CurrentPrincipal, Principal, allow
from gateway.auth.scoping import BrandView, CurrentBrandView, brand_advice
from gateway.live.updates import LiveView, Subscription
from gateway.web.backend import Backend

KEEP_ALIVE_S = 10.0
POLL_S = 1.0
"""How often a quiet stream checks whether its client has gone."""
RETRY_MS = 3000

router = APIRouter()


def sse(event: str, data: Any) -> str:
    """One server-sent event (the JSON is one line, so one `data:` line)."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def event_stream(request: Request, sub: Subscription) -> AsyncIterator[str]:
    """Yield the subscription's updates until the client disconnects or it is closed."""
    try:
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        quiet = 0.0
        while not sub.closed:
            if await sub.wait(POLL_S):
                quiet = 0.0
                lagged, sub.lagged = sub.lagged, False
                for kind, data in sub.drain():
                    yield sse(kind, data)
                if lagged:
                    yield sse("resync", {"reason": "updates were dropped; reload"})
            else:
                quiet += POLL_S
                if quiet >= KEEP_ALIVE_S:
                    quiet = 0.0
                    yield sse("ping", {"ts": datetime.now(UTC).isoformat()})
            if await request.is_disconnected():
                break
    finally:
        sub.close()


def live_view(principal: Principal, brand_view: BrandView | None) -> LiveView:
    """What the caller may see live: the same scope as the API's lists."""
    if brand_view is None:
        return LiveView(store=principal.stores_filter())

    def advice(record: dict[str, Any]) -> dict[str, Any] | None:
        visible = brand_advice(brand_view, [record])
        return visible[0] if visible else None

    return LiveView(brand=brand_view.brand, owns=brand_view.owns, advice=advice)


@router.get(
    "/stream",
    include_in_schema=False,
    dependencies=[allow("admin", "staff", "merchandiser", "brand")],
)
async def stream(
    request: Request, backend: Backend, principal: CurrentPrincipal, brand_view: CurrentBrandView
) -> StreamingResponse:
    """What the caller may see, as it happens; 503 over a bare database (no broadcaster)."""
    if backend.live is None:
        raise HTTPException(503, "no live updates: this API reads a database only")
    sub = backend.live.subscribe(live_view(principal, brand_view))
    return StreamingResponse(
        event_stream(request, sub),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
