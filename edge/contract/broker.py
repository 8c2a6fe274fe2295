"""How node and gateway reach the MQTT broker: one settings model, one client factory.

Both sides configure paho the same way (URL, credentials, TLS, reconnect backoff), so it
is defined once here; each side adds only its client id, session kind and Last Will.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from edge.contract.topics import DEFAULT_PREFIX

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


class TlsSettings(BaseModel):
    """Broker TLS: the store CA, and a client certificate where the broker asks for one."""

    model_config = ConfigDict(extra="forbid")

    ca_file: Path | None = Field(default=None, description="Store CA certificate (PEM).")
    cert_file: Path | None = Field(default=None, description="Client certificate (mutual TLS).")
    key_file: Path | None = Field(default=None, description="Key of the client certificate.")

    @model_validator(mode="after")
    def _pair(self) -> TlsSettings:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file must be given together")
        return self


class BrokerSettings(BaseModel):
    """The `mqtt:` section of a node or gateway config file."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(default="mqtt://127.0.0.1:1883", description="mqtt://host:port or mqtts://")
    username: str | None = None
    password: SecretStr | None = None
    topic_prefix: str = Field(default=DEFAULT_PREFIX, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    keepalive_s: int = Field(default=30, ge=1, le=3600)
    tls: TlsSettings | None = None
    reconnect_min_s: float = Field(default=1.0, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in DEFAULT_PORTS:
            raise ValueError(f"{value!r}: scheme must be mqtt:// or mqtts://")
        if not parts.hostname:
            raise ValueError(f"{value!r}: no host name")
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise ValueError(f"{value!r}: port must be a number from 1 to 65535") from None
        if parts.path not in ("", "/") or parts.query or parts.username:
            raise ValueError(f"{value!r}: only mqtt[s]://host:port is accepted")
        return value

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or DEFAULT_PORTS[parts.scheme]

    @property
    def use_tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts" or self.tls is not None


def new_client(settings: BrokerSettings, client_id: str, *, clean_session: bool) -> mqtt.Client:
    """A paho client (MQTT 3.1.1, callback API v2) with credentials, TLS and backoff set."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=mqtt.MQTTv311,
    )
    # A bug in a callback is logged by paho instead of killing its network thread.
    client.suppress_exceptions = True
    if settings.username is not None:
        password = settings.password.get_secret_value() if settings.password else None
        client.username_pw_set(settings.username, password)
    if settings.use_tls:
        tls = settings.tls
        client.tls_set(
            ca_certs=str(tls.ca_file) if tls and tls.ca_file else None,
            certfile=str(tls.cert_file) if tls and tls.cert_file else None,
            keyfile=str(tls.key_file) if tls and tls.key_file else None,
            cert_reqs=ssl.CERT_REQUIRED,
        )
    client.reconnect_delay_set(settings.reconnect_min_s, settings.reconnect_max_s)
    return client
