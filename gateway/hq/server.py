"""Serving the head office: the web app under uvicorn with the analytics on a schedule.

`shelf-hq serve` and `shelf-hq demo` both end here: the refresher starts with the server
(its first job runs at once, so a fresh start shows current figures within one job), and
Ctrl-C, SIGTERM or `duration_s` stops the server first, then the schedule, waiting for a
job under way, so the results folder is never left half-replaced.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from gateway.hq.refresher import AnalyticsRefresher

log = logging.getLogger(__name__)


def serve_hq(
    app: FastAPI,
    host: str,
    port: int,
    refresher: AnalyticsRefresher | None,
    *,
    on_started: Callable[[], None] | None = None,
    duration_s: float = 0.0,
) -> None:
    """Serve `app` until Ctrl-C / SIGTERM (or `duration_s`), refreshing the analytics."""
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off")
    )
    if duration_s:
        timer = threading.Timer(duration_s, lambda: setattr(server, "should_exit", True))
        timer.daemon = True
        timer.start()
    if on_started is not None:
        threading.Thread(
            target=_when_started, args=(server, on_started), name="hq-started", daemon=True
        ).start()
    if refresher is not None:
        refresher.start()
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the Ctrl-C it handled: here that is a clean stop
    finally:
        log.info("head office stopping")
        if refresher is not None:
            refresher.stop()


def _when_started(server: uvicorn.Server, call: Callable[[], None]) -> None:
    """Call `call` once the server listens (it never does if the port is taken)."""
    while not server.started and not server.should_exit:
        threading.Event().wait(0.05)
    if server.started:
        call()
