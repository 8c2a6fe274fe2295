"""The `hq:` section of a store gateway's config: whether and how it feeds the head office.

Strict like the rest of the config (an unknown key is an error naming it); the password
comes from an environment variable (`password: ${SHELFSENSE_HQ_PASSWORD}`), never the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

NATS_SCHEMES = ("nats", "tls")


class HqUplinkSettings(BaseModel):
    """Off by default: a store works alone until it is given a head office to feed."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    url: list[str] | Literal["local"] = Field(
        default="local",
        description="NATS servers of the head office's cluster (nats://host:4222, one per "
        "node, so the uplink reconnects to a live one), or `local`: the in-process head "
        "office of the single-machine demo.",
    )
    user: str | None = Field(default=None, description="The store's NATS user.")
    password: SecretStr | None = Field(default=None, description="Use ${ENV}.")
    inbox_prefix: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        description="Reply inbox prefix the store's credential may subscribe to (e.g. "
        "_INBOX_<store>, so it reads only its own publish acks); default _INBOX.",
    )
    path: Path | None = Field(
        default=None, description="Outbox SQLite file; default: <data_dir>/hq-outbox.db."
    )
    batch: int = Field(default=500, ge=1, le=10_000, description="Envelopes per publish.")
    max_messages: int = Field(
        default=1_000_000,
        ge=100,
        le=100_000_000,
        description="Bound on waiting envelopes; when full, the oldest health rows are "
        "dropped first, then rollups, events, sales, and products/profile last (each drop "
        "counted).",
    )
    ack_timeout_s: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="How long a publish waits for the cluster's ack before it is sent again "
        "(a stream leader died; the message id makes the resend harmless). Acks take "
        "milliseconds; a longer wait only delays resuming after a new leader is elected.",
    )
    flush_interval_s: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="Longest an envelope waits before the forwarder sends (a full batch "
        "goes at once).",
    )

    @field_validator("url", mode="before")
    @classmethod
    def _one_url_is_a_list(cls, value: object) -> object:
        if isinstance(value, str) and value != "local":
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("url")
    @classmethod
    def _nats_urls(cls, value: list[str] | str) -> list[str] | str:
        if isinstance(value, str):
            return value
        if not value:
            raise ValueError("give at least one nats:// URL, or `local`")
        for url in value:
            parts = urlsplit(url)
            if parts.scheme not in NATS_SCHEMES or not parts.hostname:
                raise ValueError(f"{url!r}: want nats://host:port or tls://host:port")
            try:
                parts.port  # noqa: B018 - raises ValueError on a bad port
            except ValueError:
                raise ValueError(f"{url!r}: port must be a number from 1 to 65535") from None
        return value

    @property
    def local(self) -> bool:
        return self.url == "local"
