"""The camera node's YAML configuration (`shelf-node --config node.yaml`).

Strict like Frigate's: every model forbids unknown keys, so a typo is an error that names
the key; `${VAR}` in a value is read from the environment, so the broker password stays
out of the file. Relative paths are resolved against the config file's folder, so the
node behaves the same whatever its working directory (systemd runs it elsewhere).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.contract.broker import BrokerSettings
from edge.contract.config_file import ConfigError, load_config
from edge.contract.ids import Identifier
from edge.layout import Layout

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Size = tuple[Annotated[int, Field(ge=16, le=8192)], Annotated[int, Field(ge=16, le=8192)]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MqttSettings(BrokerSettings):
    """How the node reaches the store broker."""

    client_id: str | None = Field(default=None, description="Default: shelfsense-<store>-<camera>.")


class Picamera2Config(_Strict):
    """A Raspberry Pi camera module through picamera2 (apt python3-picamera2)."""

    kind: Literal["picamera2"]
    size: Size = (640, 480)
    swap_rb: bool = Field(
        default=False,
        description="Swap red and blue, for camera stacks that deliver RGB888 as RGB.",
    )


class OpenCVConfig(_Strict):
    """A USB camera (device index) or a network stream (rtsp://, http://) via OpenCV."""

    kind: Literal["opencv"]
    device: int | str = 0
    size: Size | None = Field(default=None, description="Requested capture size (USB only).")


class FolderConfig(_Strict):
    """Image files replayed in name order: for testing a layout on recorded photos."""

    kind: Literal["folder"]
    path: Path
    loop: bool = True
    pattern: str = Field(default="*", description="Glob; only image files are read.")
    decode_at_model_size: bool = Field(
        default=True,
        description=(
            "Decode JPEG photos at the smallest 1/2, 1/4 or 1/8 scale that still covers "
            "the detector's input (much less decode work on large photos); false decodes "
            "every photo at full size."
        ),
    )


class VideoConfig(_Strict):
    """A recorded video file replayed frame by frame."""

    kind: Literal["video"]
    path: Path
    loop: bool = True


class SimulatorConfig(_Strict):
    """Rendered frames of a simulated shelf (sales and restocks); needs the `models` package."""

    kind: Literal["simulator"]
    seed: int = 0
    rows: int = Field(default=3, ge=1, le=12)
    slots_per_row: int = Field(default=6, ge=1, le=40)
    speedup: float = Field(default=60.0, gt=0, description="Simulated seconds per real second.")
    size: Size = (640, 480)


SourceConfig = Annotated[
    Picamera2Config | OpenCVConfig | FolderConfig | VideoConfig | SimulatorConfig,
    Field(discriminator="kind"),
]


MESSY_CONFIDENCE = 0.2


class TileSettings(_Strict):
    """Run the detector on overlapping tiles of the frame (`edge.tiling`): small gaps stay
    large enough to find. Only for a model trained on tiles (`shelf-model tile-dataset`)."""

    cols: int = Field(default=2, ge=1, le=8, description="Tiles across.")
    rows: int = Field(default=2, ge=1, le=8, description="Tiles down.")
    overlap: float = Field(
        default=0.15, ge=0.0, le=0.5, description="Share of a tile its neighbour overlaps."
    )
    full_frame: bool = Field(
        default=False, description="Also run the whole frame (big gaps cut by tile edges)."
    )
    region: Literal["frame", "rows"] = Field(
        default="frame",
        description="Tile the whole frame, or only the band holding the layout's rows.",
    )


class DetectorSettings(_Strict):
    """The ONNX Runtime detector."""

    model: Path | None = Field(
        default=None, description="ONNX file; unset: the bundled model `bundled` names."
    )
    bundled: Literal["fast", "fast-int8", "accurate"] = Field(
        default="accurate",
        description="Which bundled detector runs when `model` is unset: `accurate` (the "
        "default: YOLOv8s from pretrained weights, int8, more of the small gaps and messy "
        "displays found), `fast` (YOLOv8n from scratch, fp32) or `fast-int8` (its int8 twin, "
        "about half accurate's frame time: a Pi 4). models/README.md.",
    )
    threads: int = Field(default=2, ge=1, le=64, description="ONNX Runtime intra-op threads.")
    confidence: Fraction | None = Field(
        default=None,
        description="Operating threshold: a box scored lower is dropped. Unset: the bundled "
        "model's own (0.35 fast and fast-int8, 0.30 accurate), 0.35 for any other file.",
    )
    class_confidence: dict[str, Fraction] = Field(
        default_factory=lambda: {"messy": MESSY_CONFIDENCE},
        description="Per-class thresholds over `confidence` (class name: threshold). Messy "
        "displays score lower than gaps, so their own threshold trades a little precision "
        "for recall (models/README.md, operating point).",
    )
    iou: Fraction = 0.5
    warmup_runs: int = Field(default=2, ge=0, le=100)
    tiles: TileSettings | None = Field(
        default=None, description="Detect on tiles (a model trained on tiles); unset: whole frame."
    )


class AnalysisSettings(_Strict):
    """How detections become slot states.

    Gap boxes reach from just under the shelf above to the board, so a sold-out slot is
    about 90% covered; one missing facing of three covers about 30%.
    """

    empty_fraction: Fraction = Field(
        default=0.7, description="Share of a slot covered by gap boxes that makes it empty."
    )
    low_fraction: Fraction = Field(
        default=0.2, description="Share of a slot covered by gap boxes that makes it low."
    )
    messy_fraction: Fraction = Field(
        default=0.3, description="Share of a slot covered by messy boxes that makes it messy."
    )
    confirm_frames: int = Field(
        default=2, ge=1, le=100, description="Frames a new slot status must persist to count."
    )
    confirm_s: float | None = Field(
        default=None,
        gt=0,
        le=3600,
        description="Or: seconds a new slot status must persist to count (whichever comes "
        "first); unset: frames only.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> AnalysisSettings:
        if self.low_fraction > self.empty_fraction:
            raise ValueError(
                f"low_fraction ({self.low_fraction}) must not exceed "
                f"empty_fraction ({self.empty_fraction})"
            )
        return self


class OutboxSettings(_Strict):
    """The durable outbox (`edge.outbox`): states and events wait here until the broker
    acknowledges them, across broker outages, network cuts and restarts of the node."""

    path: Path | None = Field(
        default=None,
        description="SQLite file; default: <data_dir>/outbox-<store>-<camera>.db.",
    )
    max_messages: int = Field(
        default=10_000,
        ge=100,
        le=10_000_000,
        description="Bound on waiting messages; when full, the oldest states are dropped "
        "first, then the oldest events (each counted as outbox_dropped in health).",
    )


class OcclusionSettings(_Strict):
    """The motion gate: slots hidden by something in front keep their last status.

    Frame differencing against a background model on a small grey copy of the frame, as
    Frigate does; a moving or newly arrived region taller than a shelf row is a shopper
    (products change inside one row), and the slots it covers are `occluded`.
    """

    enabled: bool = True
    width: int = Field(default=160, ge=32, le=1280, description="Width of the grey copy.")
    threshold: int = Field(
        default=22, ge=1, le=255, description="Grey-level difference that counts as change."
    )
    min_area: Fraction = Field(
        default=0.002, description="Smallest changed region that counts, share of the frame."
    )
    occluder_rows: float = Field(
        default=1.0,
        gt=0,
        le=10,
        description="A changed region taller than this many (mean) shelf rows is in front.",
    )
    occluded_fraction: Fraction = Field(
        default=0.3, description="Share of a slot covered by what is in front that hides it."
    )
    absorb_s: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        description="Something in front that stays longer is taken as part of the scene.",
    )
    reset_fraction: Fraction = Field(
        default=0.7,
        description="When this share of the frame changes at once (camera moved), the "
        "background is learned again instead of hiding every slot.",
    )
    person_detector: Literal["hog", "none"] = Field(
        default="hog",
        description="OpenCV's HOG people detector also marks people as in front; it runs "
        "only on frames with motion.",
    )


class AppearanceSettings(_Strict):
    """Wrong-product check: each facing's look against its reference (learned from the
    first clear frames after a new layout, when the shelf is full and correct)."""

    enabled: bool = True
    learn_frames: int = Field(
        default=3, ge=1, le=100, description="Clear frames averaged into a facing's reference."
    )
    colour_threshold: Fraction = Field(
        default=0.85,
        description="Colour similarity (0..1) to the reference below which a slot holds "
        "another product (wrong_product).",
    )
    structure_threshold: Fraction = Field(
        default=0.65,
        description="Structure similarity (0..1) below which a slot with the right colours "
        "is untidy (messy): units turned, tilted or fallen. 0 turns this off.",
    )
    adapt: Fraction = Field(
        default=0.05,
        description="Share of a well-matching look blended into the reference every tenth "
        "match (follows slow light changes); 0 keeps the reference fixed.",
    )


class SnapshotSettings(_Strict):
    """Snapshots (for calibration) are sent only when the gateway asks and this allows."""

    allowed: bool = Field(
        default=False,
        description="Images leave the node only if true here and enabled for the camera at "
        "the gateway.",
    )
    blur_people: bool = Field(
        default=True, description="Blur shoppers, people and faces before sending."
    )
    jpeg_quality: int = Field(default=80, ge=20, le=100)
    max_width: int = Field(default=1280, ge=160, le=4096, description="Larger frames shrink.")


class ModelUpdateSettings(_Strict):
    """Signed model roll-outs from the gateway (`edge.model_update`): which announcements
    this node trusts, and the bounds a new model must meet on the reference picture
    before the node switches to it (else it keeps the model it runs and says why)."""

    public_key: Path | None = Field(
        default=None,
        description="Ed25519 public key (PEM) of the gateway's model signing key, made by "
        "firmware_config/make-model-key.sh; unset: every announced model is refused.",
    )
    variant: Literal["fp32", "int8"] = Field(
        default="fp32", description="Which file of an announced pair to run (int8 on a Pi 4)."
    )
    directory: Path | None = Field(
        default=None, description="Where downloaded models are kept; default <data_dir>/models."
    )
    reference_image: Path | None = Field(
        default=None,
        description="Picture a new model is tried on (the shelf full and correct); unset: "
        "the last frame the camera took.",
    )
    max_count_change: int = Field(
        default=2, ge=0, le=1000, description="Detections the new model may find more or fewer."
    )
    max_count_share: Fraction = Field(
        default=0.25,
        description="...or this share of the current model's detections, whichever is larger.",
    )
    max_score_drop: Fraction = Field(
        default=0.1, description="How much lower its mean detection score may be."
    )
    max_slowdown: float = Field(
        default=2.0, ge=1.0, le=100.0, description="Its inference time over the current one's."
    )
    timing_runs: int = Field(default=3, ge=1, le=50, description="Runs per model; medians count.")
    download_timeout_s: float = Field(default=60.0, gt=0, le=3600)


class NodeSettings(_Strict):
    """Everything one camera node needs; see firmware_config/node.example.yaml."""

    store: Identifier
    camera: Identifier
    interval_s: float = Field(default=1.0, gt=0, le=3600, description="Capture period.")
    health_interval_s: float = Field(default=30.0, gt=0, le=86400)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    source: SourceConfig
    detector: DetectorSettings = Field(default_factory=DetectorSettings)
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)
    occlusion: OcclusionSettings = Field(default_factory=OcclusionSettings)
    appearance: AppearanceSettings = Field(default_factory=AppearanceSettings)
    snapshots: SnapshotSettings = Field(default_factory=SnapshotSettings)
    state_dir: Path | None = Field(
        default=None,
        description="Where the node keeps learned product references across restarts; "
        "unset: memory only (learned again after a restart).",
    )
    layout_file: Path | None = Field(
        default=None, description="Local layout (YAML) used until the gateway sends one."
    )
    data_dir: Path = Field(
        default=Path("data"), description="Where the node keeps its state (the outbox)."
    )
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    model_updates: ModelUpdateSettings = Field(default_factory=ModelUpdateSettings)

    @property
    def client_id(self) -> str:
        return self.mqtt.client_id or f"shelfsense-{self.store}-{self.camera}"

    @property
    def outbox_path(self) -> Path:
        return self.outbox.path or self.data_dir / f"outbox-{self.store}-{self.camera}.db"

    @property
    def models_dir(self) -> Path:
        return self.model_updates.directory or self.data_dir / "models"

    def resolve_paths(self, base: Path) -> NodeSettings:
        """A copy whose relative paths are taken from `base` (the config file's folder)."""

        def fix(path: Path | None) -> Path | None:
            if path is None or path.is_absolute():
                return path
            return base / path

        source = self.source
        if isinstance(source, FolderConfig | VideoConfig):
            source = source.model_copy(update={"path": fix(source.path)})
        tls = self.mqtt.tls
        if tls is not None:
            tls = tls.model_copy(
                update={k: fix(getattr(tls, k)) for k in ("ca_file", "cert_file", "key_file")}
            )
        return self.model_copy(
            update={
                "source": source,
                "mqtt": self.mqtt.model_copy(update={"tls": tls}),
                "detector": self.detector.model_copy(update={"model": fix(self.detector.model)}),
                "layout_file": fix(self.layout_file),
                "data_dir": fix(self.data_dir),
                "outbox": self.outbox.model_copy(update={"path": fix(self.outbox.path)}),
                "state_dir": fix(self.state_dir),
                "model_updates": self.model_updates.model_copy(
                    update={
                        k: fix(getattr(self.model_updates, k))
                        for k in ("public_key", "directory", "reference_image")
                    }
                ),
            }
        )


def load_settings(path: str | Path) -> NodeSettings:
    """Read and validate a node config file; ConfigError names the file and key at fault."""
    path = Path(path)
    return load_config(path, NodeSettings).resolve_paths(path.resolve().parent)


def load_layout(path: str | Path) -> Layout:
    """Read a local layout file (rows and slots, as the gateway would send it)."""
    return load_config(path, Layout)


__all__ = [
    "AnalysisSettings",
    "AppearanceSettings",
    "ConfigError",
    "DetectorSettings",
    "FolderConfig",
    "ModelUpdateSettings",
    "MqttSettings",
    "NodeSettings",
    "OcclusionSettings",
    "OpenCVConfig",
    "OutboxSettings",
    "Picamera2Config",
    "SimulatorConfig",
    "SnapshotSettings",
    "SourceConfig",
    "VideoConfig",
    "load_layout",
    "load_settings",
]
