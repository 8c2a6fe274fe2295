"""The HTTP server: uvicorn, ending the live-update streams as soon as it stops.

uvicorn's graceful shutdown waits for every running request, then cancels what is left
(with a `CancelledError` traceback per open browser tab). A live stream never ends by
itself, so on Ctrl-C or SIGTERM it is told to end first: each open tab gets the end of
its stream at once (its EventSource reconnects later) and the server exits cleanly
well before the graceful-shutdown timeout.
"""

from __future__ import annotations

import socket

import uvicorn

from gateway.live.updates import Broadcaster


class GatewayServer(uvicorn.Server):
    """A uvicorn server that closes `live`'s streams when it starts shutting down."""

    def __init__(self, config: uvicorn.Config, live: Broadcaster | None) -> None:
        super().__init__(config)
        self.live = live

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.live is not None:
            # Before any await: no request can subscribe between this and the listening
            # sockets closing, and a request already past its access check gets a
            # stream that is closed from the start (`final`).
            self.live.close(final=True)
        await super().shutdown(sockets)


__all__ = ["GatewayServer"]
