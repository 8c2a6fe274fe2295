"""The uplink transport on NATS JetStream: a replicated stream the cluster acknowledges.

Every store publishes to `shelfsense.<store>.<kind>`; one stream, `SHELFSENSE`, keeps all
of them on `replicas` servers (3 on a cluster: a publish is acknowledged once a majority
has it, so one server can die without losing or refusing anything). Each message carries
its envelope id as `Nats-Msg-Id`, so the stream stores a message resent within
`duplicate_window_s` only once; an older duplicate (an outbox resent after days) is
caught by the head office's idempotent writes. Ingest processes share one durable pull
consumer with explicit acks: what a killed process had taken is handed to the others
after `ack_wait_s` (short, 2 s: a live process that needs longer for a batch says so with
`in_progress`), and redelivery never gives up.

A dead server is noticed by its closed socket, or, when the machine vanishes without
closing it, by `ping_interval_s` pings going unanswered (nats-py's default waits 2
minutes per ping); a publish waiting on a connection that drops is sent again on the new
one at once instead of waiting out its ack timeout.

nats-py is asyncio while the gateway is threaded, so each client runs its own event loop
in a daemon thread and exposes blocking methods; the connection reconnects on its own,
to any server of the list, for as long as the client lives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import time
from collections.abc import Awaitable, Coroutine, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from gateway.uplink.contract import SUBJECT_ROOT, Envelope
from gateway.uplink.transport import DEFAULT_DUPLICATE_WINDOW_S, Delivery, TransportError, decode

log = logging.getLogger(__name__)

STREAM = "SHELFSENSE"
STREAM_SUBJECTS = f"{SUBJECT_ROOT}.*.*"
MSG_ID_HEADER = "Nats-Msg-Id"

_DENIED = re.compile(r'permissions violation for publish to "([^"]+)"', re.IGNORECASE)
_RETRYABLE = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.StaleConnectionError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
    TimeoutError,
)
T = TypeVar("T")


class _NatsClient:
    """One NATS connection driven by its own asyncio loop in a daemon thread."""

    def __init__(
        self,
        servers: Sequence[str],
        user: str | None = None,
        password: str | None = None,
        inbox_prefix: str | None = None,
        name: str | None = None,
        timeout_s: float = 5.0,
        ping_interval_s: float = 5.0,
    ) -> None:
        if not servers:
            raise ValueError("no NATS server URL given")
        self.servers = list(servers)
        self.user = user
        self.password = password
        self.inbox_prefix = inbox_prefix
        self.name = name
        self.timeout_s = timeout_s
        self.ping_interval_s = ping_interval_s
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._denied: dict[str, set[asyncio.Future[None]]] = {}
        self._closed = False
        self._closing = False
        self._later: list[tuple[Coroutine[Any, Any, None], str]] = []
        self._soon_lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"nats-{name or 'client'}", daemon=True
        )
        self._thread.start()

    def _run(self, coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
        """Run `coro` on the loop and wait for it (TransportError on timeout)."""
        if self._closed:
            coro.close()
            raise TransportError("the NATS client is closed")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout_s)
        except FutureTimeout:
            future.cancel()
            raise TransportError(
                f"NATS at {', '.join(self.servers)}: no answer in {timeout_s:.0f}s"
            ) from None

    async def _connected(self) -> JetStreamContext:
        """The JetStream context, connecting first when there is no connection yet."""
        if self._js is not None and self._nc is not None and not self._nc.is_closed:
            return self._js
        options: dict[str, Any] = {}
        if self.inbox_prefix:
            options["inbox_prefix"] = self.inbox_prefix.encode()
        nc = Client()
        try:
            await asyncio.wait_for(
                nc.connect(
                    servers=self.servers,
                    user=self.user,
                    password=self.password,
                    name=self.name,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                    ping_interval=self.ping_interval_s,
                    max_outstanding_pings=2,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                    **options,
                ),
                self.timeout_s,
            )
        except (nats.errors.Error, OSError, TimeoutError) as error:
            with contextlib.suppress(Exception):
                await nc.close()
            why = "timed out" if isinstance(error, TimeoutError) else error
            raise TransportError(
                f"cannot connect to NATS at {', '.join(self.servers)}: {why}"
            ) from None
        self._nc = nc
        self._js = nc.jetstream(timeout=self.timeout_s)
        return self._js

    async def _on_error(self, error: Exception) -> None:
        match = _DENIED.search(str(error))
        if match:
            subject = match.group(1)
            log.error("NATS refused publishing to %s: permission denied", subject)
            for future in self._denied.pop(subject, set()):
                if not future.done():
                    future.set_exception(
                        TransportError(f"permission denied: may not publish to {subject}")
                    )
        elif not isinstance(error, (nats.errors.TimeoutError, ConnectionRefusedError)):
            log.warning("NATS %s: %s", self.name or "client", error or type(error).__name__)

    async def _on_disconnected(self) -> None:
        if not self._closing:
            log.warning("NATS %s: disconnected; reconnecting", self.name or "client")

    async def _on_reconnected(self) -> None:
        url = self._nc.connected_url if self._nc else None
        log.info("NATS %s: reconnected to %s", self.name or "client", url.netloc if url else "?")

    async def _guarded(self, subject: str, operation: Awaitable[T]) -> T:
        """Await `operation`, failing at once if the server denies publishing to `subject`
        (the server says so asynchronously; the request itself would only time out)."""
        denied: asyncio.Future[None] = self._loop.create_future()
        self._denied.setdefault(subject, set()).add(denied)
        task = asyncio.ensure_future(operation)
        try:
            await asyncio.wait({task, denied}, return_when=asyncio.FIRST_COMPLETED)
            if denied.done():
                task.cancel()
                denied.result()  # raises the TransportError
            return task.result()
        finally:
            waiting = self._denied.get(subject)
            if waiting is not None:
                waiting.discard(denied)
                if not waiting:
                    del self._denied[subject]
            if not denied.done():
                denied.cancel()

    def _soon(self, operation: Coroutine[Any, Any, None], doing: str) -> None:
        """Run `operation` on the loop, in order, without waiting for it; a failure is
        logged. Operations queued together wake the loop once (a batch's hundreds of acks
        would otherwise cost a thread hand-over each)."""
        if self._closed:
            operation.close()
            return
        with self._soon_lock:
            self._later.append((operation, doing))
            if len(self._later) > 1:
                return  # a run of the queue is already scheduled
        asyncio.run_coroutine_threadsafe(self._run_later(), self._loop)

    async def _run_later(self) -> None:
        while True:
            with self._soon_lock:
                if not self._later:
                    return
                operations, self._later = self._later, []
            for operation, doing in operations:
                try:
                    await operation
                except Exception as error:
                    log.warning("NATS %s: could not %s: %s", self.name or "client", doing, error)

    def close(self) -> None:
        if self._closed:
            return

        async def shut() -> None:
            if self._nc is not None and not self._nc.is_closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._nc.close(), 5)

        self._closing = True
        with contextlib.suppress(TransportError):
            self._run(shut(), 10)
        self._closed = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


class JetStreamAdmin(_NatsClient):
    """Creates or updates the stream (with a credential allowed to use the JetStream API,
    e.g. the head office's ingest user)."""

    def ensure_stream(
        self,
        replicas: int = 3,
        duplicate_window_s: float = DEFAULT_DUPLICATE_WINDOW_S,
        stream: str = STREAM,
        max_age_s: float | None = None,
    ) -> api.StreamInfo:
        """The stream over every store's subjects, kept on `replicas` servers (3 on a
        cluster, 1 on a single server); created when missing, else updated to match."""
        config = api.StreamConfig(
            name=stream,
            subjects=[STREAM_SUBJECTS],
            retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE,
            num_replicas=replicas,
            duplicate_window=duplicate_window_s,
            max_age=max_age_s,
        )

        async def ensure() -> api.StreamInfo:
            js = await self._connected()
            try:
                await js.stream_info(stream)
            except nats.js.errors.NotFoundError:
                return await js.add_stream(config)
            return await js.update_stream(config)

        return self._call(ensure(), f"create the stream {stream}")

    def stream_info(self, stream: str = STREAM) -> api.StreamInfo:
        async def info() -> api.StreamInfo:
            js = await self._connected()
            return await js.stream_info(stream)

        return self._call(info(), f"read the stream {stream}")

    def consumer_info(self, durable: str, stream: str = STREAM) -> api.ConsumerInfo:
        async def info() -> api.ConsumerInfo:
            js = await self._connected()
            return await js.consumer_info(stream, durable)

        return self._call(info(), f"read the consumer {stream}/{durable}")

    def delete_stream(self, stream: str = STREAM) -> None:
        async def delete() -> None:
            js = await self._connected()
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_stream(stream)

        self._call(delete(), f"delete the stream {stream}")

    def _call(self, coro: Coroutine[Any, Any, T], doing: str) -> T:
        try:
            return self._run(coro, self.timeout_s * 3)
        except (nats.errors.Error, nats.js.errors.Error) as error:
            raise TransportError(f"cannot {doing}: {error}") from None


class JetStreamPublisher(_NatsClient):
    """A store's publisher: `publish` returns once the stream has acknowledged every
    envelope (stored on a majority of its replicas), retrying through reconnects and leader
    elections for up to `publish_timeout_s`; the same id twice is stored once.

    An ack normally comes in milliseconds; one missing after `ack_timeout_s` (the stream's
    leader died and a new one is being elected) is retried, so publishing resumes within
    about that much of the new leader being ready. Retries are safe: the message id
    makes the stream store a resent envelope once.
    """

    def __init__(
        self,
        servers: Sequence[str],
        user: str | None = None,
        password: str | None = None,
        inbox_prefix: str | None = None,
        name: str | None = None,
        timeout_s: float = 5.0,
        publish_timeout_s: float = 20.0,
        stream: str = STREAM,
        concurrency: int = 256,
        ack_timeout_s: float = 2.0,
        ping_interval_s: float = 5.0,
    ) -> None:
        super().__init__(servers, user, password, inbox_prefix, name, timeout_s, ping_interval_s)
        self.publish_timeout_s = publish_timeout_s
        self.ack_timeout_s = ack_timeout_s
        self._in_flight: set[asyncio.Future[Any]] = set()
        self.stream = stream
        self.concurrency = concurrency
        self.duplicates = 0
        """Envelopes the stream reported as already stored (dropped by id)."""

    def publish(self, envelopes: Sequence[Envelope]) -> None:
        if envelopes:
            self._run(self._publish(list(envelopes)), self.publish_timeout_s + self.timeout_s)

    async def _on_disconnected(self) -> None:
        """Send the publishes waiting on the lost connection again on the next one, now:
        their acks would come on the old one, so waiting out `ack_timeout_s` gains nothing."""
        await super()._on_disconnected()
        for request in list(self._in_flight):
            request.cancel()

    async def _publish(self, envelopes: list[Envelope]) -> None:
        deadline = time.monotonic() + self.publish_timeout_s
        waiting = envelopes
        limit = asyncio.Semaphore(self.concurrency)
        while True:
            js = await self._connected()
            failed = await self._attempt(js, waiting, limit)
            if not failed:
                return
            for envelope, error in failed:
                if isinstance(error, TransportError):
                    raise error
                if not isinstance(error, _RETRYABLE):
                    raise TransportError(f"publishing to {envelope.subject}: {error}")
            envelope, error = failed[0]
            if time.monotonic() >= deadline:
                raise TransportError(
                    f"publishing to {envelope.subject}: not acknowledged in "
                    f"{self.publish_timeout_s:.0f}s ({type(error).__name__}: {error})"
                )
            log.debug("retrying %d unacknowledged publishes: %s", len(failed), error)
            waiting = [e for e, _ in failed]
            await asyncio.sleep(0.2)

    async def _attempt(
        self, js: JetStreamContext, waiting: list[Envelope], limit: asyncio.Semaphore
    ) -> list[tuple[Envelope, BaseException]]:
        """Publish `waiting` once; the envelopes not acknowledged, with why."""
        if self._nc is not None and not self._nc.is_connected:
            # Reconnecting: publishing now would only pile copies into the client's buffer.
            return [(e, nats.errors.ConnectionReconnectingError()) for e in waiting]
        # The first alone: it sets up the client's reply subscription, after which the
        # others go out in the order given (only retries after a failure reorder them).
        first = await self._publish_one(js, waiting[0], limit)
        if first is not None:
            return [(e, first) for e in waiting]
        results = await asyncio.gather(*(self._publish_one(js, e, limit) for e in waiting[1:]))
        return [(e, r) for e, r in zip(waiting[1:], results, strict=True) if r is not None]

    async def _publish_one(
        self, js: JetStreamContext, envelope: Envelope, limit: asyncio.Semaphore
    ) -> BaseException | None:
        """Publish one envelope and wait for the stream's ack; the error instead of raising."""
        async with limit:
            request = asyncio.ensure_future(
                js.publish(
                    envelope.subject,
                    envelope.to_bytes(),
                    timeout=self.ack_timeout_s,
                    stream=self.stream,
                    headers={MSG_ID_HEADER: envelope.id},
                )
            )
            self._in_flight.add(request)
            try:
                ack = await self._guarded(envelope.subject, request)
            except asyncio.CancelledError:
                if not request.cancelled():
                    raise  # this publish itself is being cancelled, not just its request
                return nats.errors.ConnectionReconnectingError()
            except Exception as error:
                return error
            finally:
                self._in_flight.discard(request)
        if ack.duplicate:
            self.duplicates += 1
        return None


class JetStreamConsumer(_NatsClient):
    """One ingest process's handle on the shared durable pull consumer `durable`.

    Processes using the same name share the stream's messages; each delivery must be acked
    within `ack_wait_s` or it goes to another process. Keep it short (a killed process's
    batch waits that long) and call `in_progress` on a batch that takes longer: a slow but
    alive process then keeps it. Redelivery never stops (`max_deliver` unlimited): a
    message the head office cannot store yet waits, it is never lost. The ack wait is set
    when the durable consumer is created; an existing one keeps its own.

    Acks, naks and progress go out without waiting for the event loop (one batch is
    hundreds of them); one lost with a dropped connection only means a redelivery, which
    the head office's idempotent writes make harmless.
    """

    def __init__(
        self,
        servers: Sequence[str],
        user: str | None = None,
        password: str | None = None,
        durable: str = "ingest",
        inbox_prefix: str | None = None,
        name: str | None = None,
        timeout_s: float = 5.0,
        ack_wait_s: float = 2.0,
        max_ack_pending: int = 20_000,
        stream: str = STREAM,
        ping_interval_s: float = 5.0,
    ) -> None:
        super().__init__(
            servers, user, password, inbox_prefix, name or durable, timeout_s, ping_interval_s
        )
        self.durable = durable
        self.ack_wait_s = ack_wait_s
        self.max_ack_pending = max_ack_pending
        self.stream = stream
        self._sub: JetStreamContext.PullSubscription | None = None

    async def _subscription(self) -> JetStreamContext.PullSubscription:
        if self._sub is None:
            js = await self._connected()
            config = api.ConsumerConfig(
                durable_name=self.durable,
                ack_policy=api.AckPolicy.EXPLICIT,
                deliver_policy=api.DeliverPolicy.ALL,
                ack_wait=self.ack_wait_s,
                max_deliver=-1,
                max_ack_pending=self.max_ack_pending,
            )
            self._sub = await js.pull_subscribe(
                STREAM_SUBJECTS, durable=self.durable, stream=self.stream, config=config
            )
        return self._sub

    def fetch(self, batch: int = 100, timeout_s: float = 1.0) -> list[Delivery]:
        """Up to `batch` deliveries within `timeout_s`; [] when none came or the cluster is
        unreachable for now (logged; the connection keeps reconnecting)."""
        try:
            messages = self._run(self._fetch(batch, timeout_s), timeout_s + self.timeout_s)
        except TransportError as error:
            if self._closed:
                raise
            log.warning("fetching from %s: %s", self.stream, error)
            return []
        deliveries = []
        for message in messages:
            envelope = decode(message.subject, message.data)
            if envelope is None:
                self._soon(message.ack(), "ack a malformed message")
                continue
            meta = message.metadata
            deliveries.append(
                Delivery(
                    envelope,
                    message.subject,
                    meta.num_delivered,
                    meta.timestamp,
                    _ack=lambda message=message: self._soon(message.ack(), "ack"),
                    _nak=lambda delay_s, message=message: self._soon(
                        message.nak(delay=delay_s or None), "nak"
                    ),
                    _progress=lambda message=message: self._soon(
                        message.in_progress(), "mark in progress"
                    ),
                )
            )
        return deliveries

    async def _fetch(self, batch: int, timeout_s: float) -> list[Msg]:
        try:
            sub = await self._subscription()
            return await sub.fetch(batch, timeout=timeout_s)
        except (nats.errors.TimeoutError, TimeoutError):
            return []
        except (nats.errors.Error, nats.js.errors.Error) as error:
            if isinstance(error, nats.js.errors.NotFoundError):
                self._sub = None  # the consumer or stream went away: make it again next time
            raise TransportError(f"fetching from {self.stream}/{self.durable}: {error}") from None
