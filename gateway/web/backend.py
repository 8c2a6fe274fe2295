"""What the web layer needs from whoever serves it (`ApiBackend`), and how a route gets it.

Two backends serve the API: the running `Gateway` (publishes layouts, asks cameras for
snapshots, tells the advice engine of new sales, streams live updates) and
`DatabaseBackend`, a read-mostly one over a bare database (tests, tools, a read-only
API). Both name every member of the protocol; the parts a bare database lacks (an
advice service, a live broadcaster) are explicit `None`s, so a route tests for `None`
instead of probing attributes.

`create_app` stores the backend on `app.state` once; a route asks for it with the
`Backend` dependency (`backend: Backend`), so tests can build an app over either.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol, runtime_checkable

from fastapi import Depends, Request

from edge.layout import Layout
from gateway.alerts.service import AlertService
from gateway.config.settings import GatewaySettings
from gateway.live.updates import Broadcaster
from gateway.mqtt.snapshots import SnapshotStore, SnapshotUnavailable, StoredSnapshot
from gateway.retail.pos import SaleLine
from gateway.rollout.rollouts import RolloutService
from gateway.storage.connection import Database
from gateway.uplink.outbox import UplinkStatus


class AdviceActions(Protocol):
    """Staff actions on advice through the advice service, which republishes the store's
    retained MQTT advice list and tells live clients."""

    def acknowledge(self, advice_id: int, *, by: str | None = None) -> dict[str, Any]: ...

    def dismiss(self, advice_id: int, reason: str, *, by: str | None = None) -> dict[str, Any]: ...


@runtime_checkable
class ApiBackend(Protocol):
    """Everything the routes, the access control and the pages read or call."""

    @property
    def db(self) -> Database: ...

    @property
    def settings(self) -> GatewaySettings:
        """The gateway's config; the web layer reads `auth` (sessions, trusted origins,
        login throttle) and `pos` (the store's time zone, the velocity window)."""
        ...

    @property
    def advice(self) -> AdviceActions | None:
        """The advice service, or None: staff actions then change the record only."""
        ...

    @property
    def live(self) -> Broadcaster | None:
        """The live-update broadcaster, or None: no `/api/stream` (503)."""
        ...

    @property
    def snapshots(self) -> SnapshotStore:
        """The latest snapshot answer of each camera (in memory)."""
        ...

    @property
    def rollouts(self) -> RolloutService | None:
        """Signed model uploads and staged roll-outs, or None: those routes answer 503."""
        ...

    @property
    def alerts(self) -> AlertService | None:
        """The push-alert thread, or None: test alerts wait in the log for one."""
        ...

    @property
    def broker_connected(self) -> bool: ...

    @property
    def counters(self) -> dict[str, int]:
        """Ingest (and export) totals since start, for /api/health."""
        ...

    def set_layout(self, store: str, camera: str, layout: Layout) -> str:
        """Store a camera's layout (and publish it, if there is a broker); its version."""
        ...

    def set_snapshots_enabled(self, store: str, camera: str, enabled: bool) -> None: ...

    def request_snapshot(self, store: str, camera: str, timeout: float) -> StoredSnapshot | None:
        """Ask a camera for a snapshot; None after `timeout`; SnapshotUnavailable without
        a broker connection."""
        ...

    def sales_stored(self, lines: Sequence[SaleLine]) -> None:
        """Told of sale lines the API has just stored (for export and advice)."""
        ...

    def uplink_status(self) -> UplinkStatus | None:
        """The head-office uplink's backlog, drops, lag and last error (Devices); None
        when this backend feeds no head office."""
        ...

    def camera_removed(self, store: str, camera: str) -> None:
        """Told after a camera's rows were deleted: forget its config and clear its
        retained topics (so a restart does not bring it back), re-evaluate advice."""
        ...

    def layout_removed(self, store: str, camera: str) -> None:
        """Told after a camera's layout was deleted: send it an empty config."""
        ...

    def sales_removed(self, stores: Sequence[str]) -> None:
        """Told after sale lines of these stores were deleted (advice re-evaluates)."""
        ...


class DatabaseBackend:
    """A read-mostly backend over a bare database: layouts are stored, not published;
    there is no broker (health shows it not connected), no camera to ask for a snapshot,
    no advice service and no live updates.

    `settings` are the defaults (the POS time zone UTC, the default access rules); a
    subclass or caller may set its own."""

    settings: GatewaySettings = GatewaySettings()
    advice: AdviceActions | None = None
    live: Broadcaster | None = None
    rollouts: RolloutService | None = None
    alerts: AlertService | None = None

    def __init__(self, db: Database) -> None:
        self.db = db
        self.snapshots = SnapshotStore()

    @property
    def broker_connected(self) -> bool:
        return False

    @property
    def counters(self) -> dict[str, int]:
        return {}

    def set_layout(self, store: str, camera: str, layout: Layout) -> str:
        with self.db.transaction() as tx:
            return tx.save_layout(store, camera, layout, datetime.now(UTC))

    def set_snapshots_enabled(self, store: str, camera: str, enabled: bool) -> None:
        with self.db.transaction() as tx:
            tx.set_snapshots_enabled(store, camera, enabled, datetime.now(UTC))

    def request_snapshot(self, store: str, camera: str, timeout: float) -> StoredSnapshot | None:
        raise SnapshotUnavailable("this API has no broker connection (read-only database)")

    def sales_stored(self, lines: Sequence[SaleLine]) -> None:
        """Nothing to tell: no exporter and no advice engine run over a bare database."""

    def uplink_status(self) -> UplinkStatus | None:
        """No uplink runs over a bare database."""
        return None

    def camera_removed(self, store: str, camera: str) -> None:
        """No broker and no advice engine to tell."""

    def layout_removed(self, store: str, camera: str) -> None:
        """No broker to send the camera an empty config."""

    def sales_removed(self, stores: Sequence[str]) -> None:
        """No advice engine: velocity is read from the stored lines, nothing to redo."""


def get_backend(request: Request) -> ApiBackend:
    """The backend `create_app` stored on the app."""
    backend: ApiBackend = request.app.state.backend
    return backend


Backend = Annotated[ApiBackend, Depends(get_backend)]
"""A route parameter `backend: Backend` receives the app's backend."""
