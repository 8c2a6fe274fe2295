"""The store gateway's one uplink to the head office, for every store it feeds.

A gateway serving a few stores on one box keeps one outbox and one forwarder; on NATS its
credential is then allowed to publish the subjects of each of those stores. On the
in-process head office of the single-machine demo each store publishes as itself
(`StoresPublisher`), so a store can still write only its own subjects there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from gateway.uplink.contract import Envelope
from gateway.uplink.outbox import Uplink, UplinkOutbox
from gateway.uplink.settings import HqUplinkSettings
from gateway.uplink.transport import LocalTransport, Publisher, TransportError

OUTBOX_FILE = "hq-outbox.db"
"""The outbox's file in the data folder when `hq.path` is not set (as `Uplink.from_settings`)."""


class StoresPublisher:
    """Publishes each envelope through the publisher of its store."""

    def __init__(self, publishers: Mapping[str, Publisher]) -> None:
        self._publishers = dict(publishers)

    def publish(self, envelopes: Sequence[Envelope]) -> None:
        by_store: dict[str, list[Envelope]] = {}
        for envelope in envelopes:
            by_store.setdefault(envelope.store, []).append(envelope)
        for store, batch in by_store.items():
            publisher = self._publishers.get(store)
            if publisher is None:
                raise TransportError(f"store {store!r} is not fed by this gateway ({batch[0].id})")
            publisher.publish(batch)

    def close(self) -> None:
        for publisher in self._publishers.values():
            publisher.close()


def open_uplink(
    settings: HqUplinkSettings,
    data_dir: Path,
    stores: Sequence[str],
    local: LocalTransport | None = None,
) -> Uplink:
    """The uplink of a gateway feeding `stores` (at least one), as `settings` ask."""
    if not stores:
        raise ValueError("hq.stores: the uplink needs at least one store to feed")
    ordered = sorted(stores)
    if settings.local and len(ordered) > 1:
        if local is None:
            raise ValueError("hq.url is `local` but no in-process head office runs here")
        outbox = UplinkOutbox(settings.path or data_dir / OUTBOX_FILE, settings.max_messages)
        publisher = StoresPublisher({store: local.publisher(store) for store in ordered})
        return Uplink(outbox, publisher, settings.batch, settings.flush_interval_s)
    return Uplink.from_settings(settings, data_dir, ordered[0], local=local)
