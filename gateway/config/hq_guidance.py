"""`hq.guidance` in gateway.yaml: where the store gateway pulls its head-office
guidance (nearby prices, assortment items) from. Absent: no pulling.

The token is an API token of a `staff:<store id>` user made at the head office
(`shelf-hq users add`), so it reads that store's guidance only; give it as
`${SHELFSENSE_HQ_TOKEN}`, never in the file.
"""

from __future__ import annotations

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr


class HqGuidanceSettings(BaseModel):
    """The head office's web address, the store's token and how often to ask."""

    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl = Field(description="The HQ web app, e.g. https://hq.example.com.")
    token: SecretStr = Field(description="A staff:<store> API token at the HQ; use ${ENV}.")
    interval_s: float = Field(
        default=3600.0, ge=10, le=7 * 86400, description="Seconds between pulls."
    )
    timeout_s: float = Field(default=30.0, gt=0, le=600, description="Per HTTP request.")
