"""The `alerts:` section of gateway.yaml (push alerts, `gateway.alerts`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class AlertSettings(BaseModel):
    """Push alerts for high advice and cameras offline too long. On by default: nothing is
    sent until a user adds a channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    offline_after_min: float = Field(
        default=10.0,
        gt=0,
        le=24 * 60,
        description="Alert when a camera has been offline this long (one alert per outage).",
    )
    sweep_s: float = Field(
        default=15.0,
        ge=0.05,
        le=600,
        description="How often the alert thread looks for offline cameras and due deliveries.",
    )
    timeout_s: float = Field(default=5.0, gt=0, le=60, description="One delivery's HTTP timeout.")
    retry_min_s: float = Field(default=5.0, gt=0, le=3600, description="First retry delay.")
    retry_max_s: float = Field(
        default=600.0, gt=0, le=24 * 3600, description="Longest retry delay (it doubles)."
    )
    give_up_after_h: float = Field(
        default=24.0,
        gt=0,
        le=24 * 30,
        description="A delivery still failing this long after it was first due is marked failed.",
    )

    @model_validator(mode="after")
    def _retry_order(self) -> AlertSettings:
        if self.retry_max_s < self.retry_min_s:
            raise ValueError("retry_max_s must not be less than retry_min_s")
        return self
