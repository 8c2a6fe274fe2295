"""Signed model roll-outs over the air: what the gateway announces and what the node answers.

The gateway publishes a retained `…/model` announcement per camera (`ModelAnnouncement`):
a version label, each file's name, size and sha256, where to download it on the store
LAN, a per-roll-out download token, and an Ed25519 signature over `signed_manifest` (the
version and every file's name, size and hash). The node verifies the signature with the
public key from its own config, checks the downloaded file's hash against the signed one,
tries the model on its reference picture and answers on its retained `…/rollout` topic
(`RolloutStatus`). An empty retained announcement means: run the model of your own
config (a roll-back past the first roll-out).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.contract.ids import ID_PATTERN
from edge.contract.messages import MAX_COUNT, CameraMessage, Message

MANIFEST_HEADER = "shelfsense-model-manifest/1"
"""First line of the signed text; a new layout of the text gets a new header."""

ModelVersion = Annotated[str, Field(pattern=ID_PATTERN, description="The model's version label.")]
FILE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\.onnx$"
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Variant = Literal["fp32", "int8"]
"""Which file of the pair: the fp32 model or its int8 twin."""


class ModelFile(BaseModel):
    """One file of an announced model, as signed (name, size, sha256) and where it is."""

    model_config = ConfigDict(extra="ignore")

    variant: Variant
    name: str = Field(pattern=FILE_NAME_PATTERN)
    size: int = Field(ge=1, le=MAX_COUNT)
    sha256: Sha256
    url: str = Field(
        min_length=1, max_length=2048, description="Where the node downloads it (store LAN)."
    )


class ModelAnnouncement(Message):
    """Retained `…/model`, gateway to node: download, check and run this signed model."""

    version: ModelVersion
    rollout: int = Field(ge=1, le=MAX_COUNT, description="The roll-out that announced it.")
    files: list[ModelFile] = Field(min_length=1, max_length=2)
    signature: str = Field(
        min_length=1, max_length=256, description="Ed25519 over the manifest, base64."
    )
    key_id: str | None = Field(
        default=None, description="First 16 hex digits of the signing public key's sha256."
    )
    token: str = Field(
        min_length=16,
        max_length=128,
        description="Download token of this roll-out (header X-Rollout-Token).",
    )

    @model_validator(mode="after")
    def _one_file_per_variant(self) -> ModelAnnouncement:
        variants = [f.variant for f in self.files]
        if len(set(variants)) != len(variants):
            raise ValueError(f"files: each variant at most once, got {variants}")
        return self

    def file(self, variant: Variant) -> ModelFile | None:
        return next((f for f in self.files if f.variant == variant), None)

    def manifest(self) -> bytes:
        return signed_manifest(self.version, self.files)


def signed_manifest(version: str, files: list[ModelFile]) -> bytes:
    """The exact bytes the gateway signs and the node verifies: version, then one line
    per file (variant, name, size, sha256) in variant order. URLs and the token are left
    out: where a file comes from does not matter once its hash is signed."""
    lines = [MANIFEST_HEADER, f"version {version}"]
    lines += [f"{f.variant} {f.name} {f.size} {f.sha256}" for f in sorted(files, key=_variant)]
    return ("\n".join(lines) + "\n").encode()


def _variant(file: ModelFile) -> str:
    return file.variant


class RolloutOutcome(StrEnum):
    """What the node made of the last announcement."""

    SWITCHED = "switched"  # runs the announced model now
    REJECTED = "rejected"  # kept the model it ran: `reason` says why
    REVERTED = "reverted"  # announcement withdrawn: runs its own configured model


class ModelCheck(BaseModel):
    """Current and candidate model side by side on the node's reference picture."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    reference: Literal["reference_image", "last_frame"]
    current_detections: int = Field(ge=0)
    candidate_detections: int = Field(ge=0)
    current_mean_score: float | None = None
    candidate_mean_score: float | None = None
    current_ms: float = Field(ge=0, description="Median inference time, milliseconds.")
    candidate_ms: float = Field(ge=0)


class RolloutStatus(CameraMessage):
    """Retained `…/rollout`, node to gateway: the outcome of the last model announcement."""

    rollout: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    version: str | None = Field(default=None, description="The announced version.")
    outcome: RolloutOutcome
    reason: str | None = Field(default=None, max_length=2000)
    running_version: str | None = Field(
        default=None, description="Model version the node runs now (None: its configured one)."
    )
    running_model: str | None = Field(default=None, description="File name it runs.")
    check: ModelCheck | None = None
