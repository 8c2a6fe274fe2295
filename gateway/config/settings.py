"""The gateway's YAML configuration (`GatewaySettings`).

Every level forbids unknown keys, so a typo is an error that names the key; secrets come
from `${ENV}` references (see `edge.contract.config_file`). Relative paths are resolved
against the directory of the config file, so `/etc/shelfsense/gateway.yaml` can name
`layouts/cam-1.yaml` and mean `/etc/shelfsense/layouts/cam-1.yaml` wherever the service runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from edge.contract.broker import BrokerSettings
from edge.contract.config_file import ConfigError, load_config
from edge.contract.ids import Identifier
from gateway.config.alerts import AlertSettings
from gateway.config.homeassistant import HomeAssistantSettings
from gateway.config.hq_guidance import HqGuidanceSettings
from gateway.uplink.contract import StoreProfile
from gateway.uplink.settings import HqUplinkSettings


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MqttSettings(BrokerSettings):
    """How the gateway reaches the store broker: a fixed client id for its persistent session."""

    client_id: str = Field(default="shelfsense-gateway", min_length=1, max_length=128)


class HttpSettings(_Strict):
    """Where the API and web pages listen (every route but the login page and
    /api/health needs a user; see README: Users and access)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)


class AuthSettings(_Strict):
    """Sessions, cookies and login throttling (`gateway.auth.access`, `gateway.auth.users`)."""

    session_idle_minutes: float = Field(
        default=480, ge=1, le=60 * 24 * 30, description="A session unused this long ends."
    )
    session_max_hours: float = Field(
        default=24 * 7, ge=1, le=24 * 365, description="A session ends this long after login."
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Mark the session cookie Secure: auto = when the request came over https "
        "(behind a TLS proxy, run uvicorn with --proxy-headers or set always).",
    )
    login_free_failures: int = Field(
        default=5, ge=1, le=100, description="Failed logins per user name before slowing down."
    )
    login_lockout_max_s: float = Field(
        default=900, ge=1, le=86400, description="Longest wait imposed after failed logins."
    )
    trusted_origins: list[str] = Field(
        default_factory=list,
        description="Extra origins (scheme://host[:port]) allowed to send cookie-authenticated "
        "changes, e.g. the public address of a reverse proxy.",
    )

    @model_validator(mode="after")
    def _session_order(self) -> AuthSettings:
        if self.session_max_hours * 60 < self.session_idle_minutes:
            raise ValueError("session_max_hours must be at least session_idle_minutes")
        return self


class LayoutSource(_Strict):
    """Where layouts come from: one camera's file (`store`, `camera`, `file`), or every
    `<store>-<camera>.yaml` of a folder (`dir`) or of a glob (`glob`), YAML or JSON of
    `edge.layout.Layout` (`gateway.config.layouts` reads them).

    A folder's `store` (optional) says which store its files belong to, so a camera id
    may hold hyphens (`store-1-cam-left.yaml`); without it the name splits at the last
    hyphen before a letter (`store-1-cam-1` -> store-1 / cam-1).
    """

    store: Identifier | None = None
    camera: Identifier | None = None
    file: Path | None = None
    dir: Path | None = Field(default=None, description="A folder of <store>-<camera>.yaml.")
    glob: str | None = Field(
        default=None, min_length=1, description="e.g. layouts/*.yaml (relative to this file)."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> LayoutSource:
        given = [k for k in ("file", "dir", "glob") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give one of file, dir or glob (e.g. {store: store-1, camera: cam-1, file: "
                "layouts/store-1-cam-1.yaml} or {dir: layouts/})"
            )
        if self.file is not None and (self.store is None or self.camera is None):
            raise ValueError("give store and camera with file (or use dir: for a folder)")
        if self.file is None and self.camera is not None:
            raise ValueError(
                "camera: comes from the file names (<store>-<camera>.yaml) of a dir or glob"
            )
        return self

    @property
    def key(self) -> tuple[str, str] | None:
        """(store, camera) of a single-file entry; None for a folder or glob."""
        if self.file is None or self.store is None or self.camera is None:
            return None
        return (self.store, self.camera)


class InfluxSettings(_Strict):
    """Optional export to InfluxDB 2.x (or any server taking its /api/v2/write), see
    `gateway.export.influx`. Absent: nothing is exported."""

    url: str = Field(description="http(s)://host:port of the InfluxDB server.")
    org: str = Field(min_length=1, description="InfluxDB organisation (name or id).")
    bucket: str = Field(min_length=1)
    token: SecretStr | None = Field(default=None, description="API token; use ${ENV}.")
    batch_size: int = Field(default=1000, ge=1, le=50_000, description="Points per write.")
    flush_interval_s: float = Field(
        default=1.0, gt=0, le=60, description="Longest a point waits for a batch to fill."
    )
    max_queued_points: int = Field(
        default=100_000,
        ge=100,
        le=10_000_000,
        description="Points held while the server is away; beyond this the oldest are dropped.",
    )
    retry_min_s: float = Field(default=1.0, gt=0, le=60, description="First retry delay.")
    retry_max_s: float = Field(default=60.0, gt=0, le=3600, description="Longest retry delay.")
    timeout_s: float = Field(default=10.0, gt=0, le=300, description="One HTTP write's timeout.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r}: expected http://host:port or https://host:port")
        return value

    @model_validator(mode="after")
    def _retry_order(self) -> InfluxSettings:
        if self.retry_max_s < self.retry_min_s:
            raise ValueError("retry_max_s must not be less than retry_min_s")
        return self


class PosSettings(_Strict):
    """Point-of-sale data: the store's clock for sales profiles."""

    timezone: str = Field(
        default="UTC",
        description="IANA time zone of the store (e.g. Europe/Berlin): sales velocity is "
        "profiled by local hour and weekday.",
    )
    velocity_window_days: int = Field(
        default=28, ge=7, le=366, description="Trailing days of sales behind velocity."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone like Europe/Berlin") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The store's clock: sales profiles and report days follow it."""
        return ZoneInfo(self.timezone)


class AdviceSettings(_Strict):
    """The advice engine (`gateway.advice.rules`): when it runs and its evidence thresholds.

    Minutes and hours are wall-clock time at the store.
    """

    enabled: bool = True
    interval_s: float = Field(
        default=60.0, ge=0.5, le=3600, description="Re-evaluate every store this often."
    )
    debounce_s: float = Field(
        default=2.0,
        ge=0.05,
        le=300,
        description="After new states/events/sales, wait this long for more before evaluating.",
    )
    history_hours: float = Field(
        default=72.0, gt=0, le=24 * 90, description="Slot change log read per evaluation."
    )
    restock_grace_min: float = Field(
        default=0.0,
        ge=0,
        description="Minutes a slot must be empty before restock advice. The camera node "
        "already confirms an empty over `confirm_frames` (looking through shoppers), so "
        "the default adds no wait: every minute here is a minute of lost sales.",
    )
    low_grace_min: float = Field(
        default=10.0, ge=0, description="Minutes a slot must be low before restock advice."
    )
    display_grace_min: float = Field(
        default=5.0, ge=0, description="Minutes of wrong product/misplaced before fix_display."
    )
    tidy_grace_min: float = Field(
        default=15.0, ge=0, description="Minutes a slot must be messy before tidy advice."
    )
    horizon_h: float = Field(
        default=2.0, gt=0, le=72, description="predicted_stockout: runs out within this."
    )
    min_window_units: int = Field(
        default=5,
        ge=1,
        description="Units a SKU must have sold in the velocity window before advice relies "
        "on its rate (predicted and hidden stock-outs).",
    )
    hidden_p_max: float = Field(
        default=0.01,
        gt=0,
        lt=1,
        description="hidden_stockout when P(no sale in the silent interval) is below this.",
    )
    hidden_min_minutes: float = Field(
        default=30.0, ge=0, description="Shortest silent interval worth a hidden_stockout."
    )
    facings_min_units: int = Field(
        default=50, ge=1, description="Units a bay must have sold before facing advice."
    )
    facings_min_days: int = Field(
        default=7, ge=1, description="Days of sales history before facing advice."
    )
    facings_max_days_supply: float = Field(
        default=2.0,
        gt=0,
        description="Suggest a facing for a SKU with less than this many days of supply.",
    )
    medium_units: float = Field(
        default=1.0, ge=0, description="Urgency (units at stake) from which the level is medium."
    )
    high_units: float = Field(
        default=3.0, ge=0, description="Urgency (units at stake) from which the level is high."
    )
    high_max_fraction: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="At most this share of a store's advice (the dearest, at least one) "
        "is high: high stays a minority.",
    )
    high_store_share: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="High needs money at stake of at least this share of what the watched "
        "shelves are expected to take in the next horizon_h hours.",
    )
    max_published: int = Field(
        default=100, ge=1, le=1000, description="Most urgent items in the MQTT advice list."
    )

    @model_validator(mode="after")
    def _level_order(self) -> AdviceSettings:
        if self.high_units < self.medium_units:
            raise ValueError("high_units must not be less than medium_units")
        return self


class HqStoreProfile(StoreProfile):
    """Who one store is, as the head office shows it (`hq.stores.<store id>`); nothing
    personal. The uplink sends it at start and whenever it changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class HqSettings(HqUplinkSettings):
    """The `hq:` section: the uplink to the head office (`gateway.uplink.settings`) and
    the profile of each store this gateway feeds. Off by default."""

    stores: dict[Identifier, HqStoreProfile] = Field(
        default_factory=dict,
        description="Each store id this gateway feeds, with its profile (name, chain, "
        "format, region, lat/lon, currency). Stores not listed are not fed.",
    )
    guidance: HqGuidanceSettings | None = Field(
        default=None,
        description="Where to pull the head office's nearby prices and assortment items "
        "for these stores (its URL and a staff:<store> token); absent: none are pulled.",
    )

    @model_validator(mode="after")
    def _stores_when_enabled(self) -> HqSettings:
        if self.enabled and not self.stores:
            raise ValueError(
                "stores: name each store this gateway feeds, with its profile "
                "(e.g. stores: {store-1: {name: Main Street}})"
            )
        return self


class RolloutSettings(_Strict):
    """Signed model roll-outs (`gateway.rollout`): the key the gateway signs uploaded
    models with, and the address camera nodes download them from (the store LAN)."""

    signing_key: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) made by firmware_config/make-model-key.sh; "
        "unset: models can be neither uploaded nor rolled out.",
    )
    download_url: str | None = Field(
        default=None,
        description="http(s)://host:port at which camera nodes reach this gateway's web "
        "app, e.g. http://gateway.local:8080; announcements name files under it.",
    )
    canary_share: float = Field(
        default=0.1,
        gt=0.0,
        le=1.0,
        description="Share of the cameras a roll-out goes to first when no canaries are named.",
    )

    @field_validator("download_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not http(s)://host[:port]")
        return value.rstrip("/")


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class GatewaySettings(_Strict):
    """The whole gateway config file."""

    broker: Literal["external", "embedded"] = Field(
        default="external",
        description="external: connect to the store broker at mqtt.url (Mosquitto). "
        "embedded: a single-box store; the gateway runs its own broker on mqtt.url's "
        "loopback port (no passwords, no TLS: cameras on this machine only).",
    )
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    data_dir: Path = Field(default=Path("data"), description="The SQLite database lives here.")
    http: HttpSettings = Field(default_factory=HttpSettings)
    layouts: list[LayoutSource] = Field(
        default_factory=list,
        description="Layout files, folders or globs; one mapping means a list of one.",
    )
    max_payload_bytes: int = Field(
        default=64 * 1024, ge=1024, le=16 * 1024 * 1024, description="Bigger -> dead letter."
    )
    pos: PosSettings = Field(default_factory=PosSettings)
    influx: InfluxSettings | None = None
    advice: AdviceSettings = Field(default_factory=AdviceSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    hq: HqSettings = Field(default_factory=HqSettings)
    rollouts: RolloutSettings = Field(default_factory=RolloutSettings)
    homeassistant: HomeAssistantSettings | None = Field(
        default=None,
        description="Announce each camera to Home Assistant (MQTT discovery); off without it.",
    )
    alerts: AlertSettings = Field(
        default_factory=AlertSettings,
        description="Push alerts (high advice, cameras offline) to each user's channels.",
    )

    @model_validator(mode="after")
    def _embedded_broker_on_loopback(self) -> GatewaySettings:
        """The embedded broker lets every client in, so it may not listen beyond this box."""
        if self.broker != "embedded":
            return self
        if self.mqtt.use_tls:
            raise ValueError(
                "broker: embedded serves plain mqtt:// on the loopback (no TLS): set mqtt.url "
                "to mqtt://127.0.0.1:<port> without tls, or run Mosquitto (INSTALL.md)"
            )
        if self.mqtt.host not in LOOPBACK_HOSTS:
            raise ValueError(
                f"broker: embedded accepts every client without a password, so it listens "
                f"on the loopback only, not {self.mqtt.host}: use mqtt://127.0.0.1:<port>; "
                "for cameras on other machines run Mosquitto (INSTALL.md section 3)"
            )
        return self

    @field_validator("layouts", mode="before")
    @classmethod
    def _one_source_is_a_list(cls, value: object) -> object:
        """`layouts: {dir: layouts/}` is the list of that one source."""
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _one_layout_per_camera(self) -> GatewaySettings:
        seen: set[tuple[str, str]] = set()
        for source in self.layouts:
            key = source.key
            if key is None:
                continue
            if key in seen:
                raise ValueError(f"layouts: {key[0]}/{key[1]} is listed twice")
            seen.add(key)
        return self

    def resolve_paths(self, base: Path) -> GatewaySettings:
        """A copy whose relative paths are taken relative to `base` (the config's folder)."""

        def absolute(path: Path | None) -> Path | None:
            if path is None:
                return None
            try:
                path = path.expanduser()
            except RuntimeError:
                raise ConfigError(f"{path}: '~' names no home folder on this machine") from None
            return path if path.is_absolute() else base / path

        tls = self.mqtt.tls
        if tls is not None:
            tls = tls.model_copy(
                update={
                    "ca_file": absolute(tls.ca_file),
                    "cert_file": absolute(tls.cert_file),
                    "key_file": absolute(tls.key_file),
                }
            )
        return self.model_copy(
            update={
                "mqtt": self.mqtt.model_copy(update={"tls": tls}),
                "data_dir": absolute(self.data_dir),
                "layouts": [
                    s.model_copy(
                        update={
                            "file": absolute(s.file),
                            "dir": absolute(s.dir),
                            "glob": s.glob and str(absolute(Path(s.glob))),
                        }
                    )
                    for s in self.layouts
                ],
                "hq": self.hq.model_copy(update={"path": absolute(self.hq.path)}),
                "rollouts": self.rollouts.model_copy(
                    update={"signing_key": absolute(self.rollouts.signing_key)}
                ),
            }
        )


def load_settings(path: str | Path) -> GatewaySettings:
    """Read and validate a gateway config file; ConfigError names the file and key."""
    path = Path(path)
    settings = load_config(path, GatewaySettings)
    try:
        return settings.resolve_paths(path.resolve().parent)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
