"""Push alerts (`gateway.alerts`): each user's own channels and quiet hours, a test
alert, and the delivery log.

- `GET /api/alerts/me`: the caller's channels (with their signing secrets), quiet hours
  and latest deliveries.
- `PUT /api/alerts/me/quiet-hours` (`null` start/end: none).
- `POST /api/alerts/me/channels` (a signed webhook URL, or an Apprise URL when the
  `alerts` extra is installed); `DELETE /api/alerts/me/channels/{id}`.
- `POST /api/alerts/me/channels/{id}/test`: queue a test alert (202; the alert thread
  sends it, the delivery log shows the outcome).
- `GET /api/alerts/channels`, `GET /api/alerts/deliveries`: every user's (admin; secrets
  never shown).

Access: every kind of user but brands (whose alerts would name other brands' products).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.alerts import records
from gateway.alerts.quiet_hours import QuietHours
from gateway.alerts.sender import apprise_url_ok
from gateway.auth.access import CurrentPrincipal, allow
from gateway.web.backend import Backend
from gateway.web.params import BAD_BODY, MAX_ROW_ID, ClockTime

USERS = ("admin", "installer", "staff", "merchandiser")
ChannelId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Alert channel id.")]
NOT_FOUND = {404: {"description": "No such channel of yours"}}

router = APIRouter(tags=["alerts"])


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, description="e.g. my phone")
    kind: Literal["webhook", "apprise"] = "webhook"
    url: str = Field(
        min_length=1,
        max_length=2000,
        description="webhook: http(s)://host[:port]/path; apprise: an Apprise URL "
        "(ntfys://…, tgram://…, mailto://…).",
    )

    @field_validator("name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give the channel a name")
        return value.strip()

    @model_validator(mode="after")
    def _url_fits_kind(self) -> ChannelIn:
        if self.kind == "webhook":
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"url: {self.url!r} is not http(s)://host[:port]/path")
        elif not apprise_url_ok(self.url):
            raise ValueError(
                f"url: Apprise does not know {self.url.split('://')[0]!r} URLs "
                "(or Apprise is not installed: pip install 'shelfsense[alerts]')"
            )
        return self


class ChannelOut(BaseModel):
    id: int
    user: str
    name: str
    kind: str
    url: str
    secret: str | None = Field(
        description="The webhook's HMAC-SHA256 key (its owner sees it; admins' lists do not)."
    )
    created_at: datetime


def _minute(value: time) -> time:
    """Quiet hours are local wall-clock minutes: no seconds, no offset."""
    return value.replace(second=0, microsecond=0, tzinfo=None)


class QuietHoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: ClockTime | None = Field(description="Local time alerts start being held; null: none.")
    end: ClockTime | None = Field(description="Local time held alerts go out.")
    timezone: str = Field(
        default="UTC", max_length=64, description="IANA zone, e.g. Europe/Berlin."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone like Europe/Berlin") from None
        return value

    @model_validator(mode="after")
    def _both_or_none(self) -> QuietHoursIn:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end (or neither, for no quiet hours)")
        if self.start is not None and self.end is not None:
            self.start, self.end = _minute(self.start), _minute(self.end)
            if self.start == self.end:
                raise ValueError("start and end are the same minute: give a window, or null")
        return self


class QuietHoursOut(BaseModel):
    start: str | None
    end: str | None
    timezone: str | None


class DeliveryOut(BaseModel):
    id: int
    problem_key: str
    kind: str
    store: str
    camera: str | None
    level: str
    title: str
    channel_id: int | None
    channel: str | None
    user_name: str
    status: Literal["pending", "held", "sent", "dropped", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


class MyAlertsOut(BaseModel):
    channels: list[ChannelOut]
    quiet_hours: QuietHoursOut
    deliveries: list[DeliveryOut]


def _out(channel: records.Channel, *, secret: bool) -> ChannelOut:
    return ChannelOut(
        id=channel.id,
        user=channel.user,
        name=channel.name,
        kind=channel.kind,
        url=channel.url,
        secret=channel.secret if secret and channel.kind == "webhook" else None,
        created_at=channel.created_at,
    )


def _quiet_out(hours: QuietHours | None) -> QuietHoursOut:
    if hours is None:
        return QuietHoursOut(start=None, end=None, timezone=None)
    return QuietHoursOut(
        start=hours.start.strftime("%H:%M"),
        end=hours.end.strftime("%H:%M"),
        timezone=hours.timezone,
    )


@router.get("/alerts/me", response_model=MyAlertsOut, dependencies=[allow(*USERS)])
def my_alerts(backend: Backend, principal: CurrentPrincipal) -> MyAlertsOut:
    """Your channels, quiet hours and latest alerts."""
    db = backend.db
    return MyAlertsOut(
        channels=[_out(c, secret=True) for c in records.channels(db, principal.name)],
        quiet_hours=_quiet_out(records.quiet_hours(db, principal.name)),
        deliveries=[DeliveryOut(**d) for d in records.deliveries(db, principal.name, 20)],
    )


@router.put(
    "/alerts/me/quiet-hours",
    response_model=QuietHoursOut,
    responses=BAD_BODY,
    dependencies=[allow(*USERS)],
)
def set_quiet_hours(
    body: QuietHoursIn, backend: Backend, principal: CurrentPrincipal
) -> QuietHoursOut:
    """Alerts due in this daily window wait for its end (and are dropped if the problem
    is over by then)."""
    hours = None
    if body.start is not None and body.end is not None:
        hours = QuietHours(body.start, body.end, body.timezone)
    records.set_quiet_hours(backend.db, principal.name, hours)
    return _quiet_out(hours)


@router.post(
    "/alerts/me/channels",
    response_model=ChannelOut,
    status_code=201,
    responses=BAD_BODY,
    dependencies=[allow(*USERS)],
)
def add_channel(body: ChannelIn, backend: Backend, principal: CurrentPrincipal) -> ChannelOut:
    """A new channel; a webhook's answer carries the secret its receiver verifies with."""
    channel = records.add_channel(
        backend.db, principal.name, body.name, body.kind, body.url, datetime.now(UTC)
    )
    return _out(channel, secret=True)


@router.delete(
    "/alerts/me/channels/{channel_id}",
    status_code=204,
    responses=NOT_FOUND,
    dependencies=[allow(*USERS)],
)
def remove_channel(
    channel_id: ChannelId, backend: Backend, principal: CurrentPrincipal
) -> Response:
    try:
        records.remove_channel(backend.db, channel_id, principal.name)
    except records.NotFound as error:
        raise HTTPException(404, str(error)) from None
    return Response(status_code=204)


@router.post(
    "/alerts/me/channels/{channel_id}/test",
    response_model=DeliveryOut,
    status_code=202,
    responses=NOT_FOUND,
    dependencies=[allow(*USERS)],
)
def send_test(channel_id: ChannelId, backend: Backend, principal: CurrentPrincipal) -> DeliveryOut:
    """Queue a test alert to one of your channels; the alert thread sends it at once
    (quiet hours do not hold it). The delivery log shows whether it arrived."""
    try:
        channel = records.channel(backend.db, channel_id, principal.name)
    except records.NotFound as error:
        raise HTTPException(404, str(error)) from None
    delivery_id = records.queue_test(backend.db, channel, datetime.now(UTC))
    if backend.alerts is not None:
        backend.alerts.wake()
    found = [
        d for d in records.deliveries(backend.db, principal.name, 50) if d["id"] == delivery_id
    ]
    return DeliveryOut(**found[0])


@router.get("/alerts/channels", response_model=list[ChannelOut], dependencies=[allow("admin")])
def all_channels(backend: Backend) -> list[ChannelOut]:
    """Every user's channels (without secrets)."""
    return [_out(c, secret=False) for c in records.channels(backend.db)]


@router.get("/alerts/deliveries", response_model=list[DeliveryOut], dependencies=[allow("admin")])
def all_deliveries(backend: Backend) -> list[DeliveryOut]:
    """The latest 200 deliveries of every user."""
    return [DeliveryOut(**d) for d in records.deliveries(backend.db, None, 200)]
