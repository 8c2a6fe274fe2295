"""An amqtt MQTT broker in a background thread: the zero-install broker for the demo.

Production stores run Mosquitto (firmware_config/mosquitto/). This broker accepts every
client without a password, so it listens on the loopback by default.

amqtt drops the queued messages of "anonymous" sessions, and its stock anonymous plugin
marks every client anonymous; `OpenAuthPlugin` accepts everyone too but keeps sessions
persistent, so a restarting gateway gets its queued QoS 1 events as with Mosquitto.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import Any

from amqtt.broker import Broker
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session

log = logging.getLogger(__name__)


class OpenAuthPlugin(BaseAuthPlugin):
    """Accept every client and keep its session (messages queued while it is away)."""

    async def authenticate(self, *, session: Session) -> bool | None:
        session.is_anonymous = False
        return True


class SnapshotDict(dict):
    """A dict whose iteration walks a copy of its entries.

    amqtt 0.12 loops over its subscription table with awaits inside (sending retained
    messages to a client that has just connected, delivering a broadcast); another client
    subscribing meanwhile grows the table, and the loop died with "dictionary changed size
    during iteration", dropping the connecting client. Iterating a snapshot is what the
    loop means: the subscriptions as they were when it began.
    """

    def __iter__(self) -> Iterator[Any]:
        return iter(list(super().keys()))

    def items(self) -> list[tuple[Any, Any]]:  # type: ignore[override]
        return list(super().items())


class DemoBroker(Broker):
    """amqtt's broker with two of its 0.12 faults mended for the demo's cameras.

    - Its subscription table iterates over a snapshot (`SnapshotDict`).
    - On connect amqtt sends a client the retained messages of *every* topic filter any
      client subscribed to (another camera's config among them); here a client gets only
      those of its own subscriptions, as with Mosquitto.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._subscriptions = SnapshotDict(self._subscriptions)

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Session
    ) -> None:
        subscribers = self._subscriptions.get(subscription[0], ())
        if any(s.client_id == session.client_id for s, _ in subscribers):
            await super()._publish_retained_messages_for_subscription(subscription, session)


class EmbeddedBroker:
    """`start()` returns once the broker listens; `stop()` shuts it down cleanly."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883, *, quiet: bool = True) -> None:
        self.host = host
        self.port = port
        self.quiet = quiet
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def config(self) -> dict[str, Any]:
        """The amqtt broker configuration (see amqtt.contexts.BrokerConfig)."""
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {f"{__name__}.OpenAuthPlugin": {}},
        }

    def start(self, timeout: float = 10.0) -> None:
        """Start the broker thread; raises RuntimeError if it cannot listen."""
        if self._thread is not None:
            return
        if self.quiet:
            # amqtt logs every connection at INFO; the demo's console is for shelfsense.
            logging.getLogger("amqtt").setLevel(logging.WARNING)
            logging.getLogger("transitions").setLevel(logging.WARNING)
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._main, name="amqtt-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"embedded MQTT broker did not start on {self.url} in {timeout}s")
        if self._error is not None:
            self._thread.join(timeout)
            self._thread = None
            raise RuntimeError(
                f"embedded MQTT broker cannot listen on {self.host}:{self.port}: {self._error}"
            ) from self._error
        log.info("embedded MQTT broker listening on %s", self.url)

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the broker down (clients see their connection close) and join the thread."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop_event is not None:
            self._loop.call_soon_threadsafe(self._stop_event.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("embedded MQTT broker did not stop within %.0fs", timeout)
        self._thread = None

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()
            self._loop = None

    async def _serve(self) -> None:
        self._stop_event = asyncio.Event()
        try:
            broker = DemoBroker(self.config())
            await broker.start()
        except BaseException as error:
            self._error = error
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop_event.wait()
        finally:
            await broker.shutdown()
