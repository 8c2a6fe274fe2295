"""`/api/models` and `/api/rollouts`: signed model uploads and staged roll-outs (admin
only), and the download route camera nodes fetch announced files from.

The download route is open to no user: a node proves it was announced the model with
the roll-out's token (header `X-Rollout-Token`), which only the cameras of that roll-out
read on their retained `…/model` topic (the broker's ACL). A rolled-back roll-out's
token stops working. What a node downloads it checks against the signed hash anyway.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from edge.contract.ids import ID_PATTERN
from edge.contract.model_rollout import FILE_NAME_PATTERN, ModelCheck
from gateway.auth.access import CurrentPrincipal, allow, public
from gateway.rollout.model_store import ModelExists, ModelUploadError, Upload
from gateway.rollout.rollouts import (
    RolloutConflict,
    RolloutError,
    RolloutNotFound,
    RolloutService,
)
from gateway.rollout.signing import SigningKeyError
from gateway.web.backend import ApiBackend, Backend
from gateway.web.params import BAD_BODY, MAX_ROW_ID

router = APIRouter(tags=["rollouts"])

CAMERA_PATTERN = ID_PATTERN.removesuffix("$") + "/" + ID_PATTERN.removeprefix("^")
MAX_MODEL_BYTES = 512 * 1024 * 1024
Version = Annotated[str, Path(pattern=ID_PATTERN)]
CameraName = Annotated[str, Field(pattern=CAMERA_PATTERN, examples=["store-1/cam-1"])]


class ModelFileOut(BaseModel):
    variant: Literal["fp32", "int8"]
    name: str
    size: int
    sha256: str


class ModelOut(BaseModel):
    version: str
    files: list[ModelFileOut]
    signature: str = Field(description="Ed25519 over the manifest, base64.")
    key_id: str = Field(description="Which signing key (first 16 hex of its sha256).")
    uploaded_at: datetime
    uploaded_by: str | None


class RolloutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(pattern=ID_PATTERN)
    cameras: list[CameraName] | None = Field(
        default=None, description="store/camera of each camera; default: every known camera."
    )
    canaries: list[CameraName] | None = Field(
        default=None, description="Cameras that get it first; default: a share of them."
    )
    canary_share: float | None = Field(
        default=None, gt=0, le=1, description="Share of cameras first (rollouts.canary_share)."
    )
    auto_promote: bool = Field(
        default=False, description="Announce to the rest once every canary has switched."
    )


class RolloutCameraOut(BaseModel):
    store: str
    camera: str
    wave: Literal["canary", "rest"]
    announced_at: datetime | None = Field(description="None: waits for promotion.")
    previous_rollout_id: int | None = Field(
        description="The announcement a roll-back gives back (None: its configured model)."
    )
    outcome: Literal["switched", "rejected", "reverted"] | None = Field(
        description="The node's report; None: not reported yet."
    )
    reason: str | None
    running_version: str | None
    check: ModelCheck | None
    reported_at: datetime | None


class RolloutOut(BaseModel):
    id: int
    version: str
    stage: Literal["canary", "complete", "rolled_back"]
    auto_promote: bool
    created_at: datetime
    created_by: str | None
    promoted_at: datetime | None
    rolled_back_at: datetime | None
    cameras: list[RolloutCameraOut]


UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"description": "Not the running gateway (an API over a bare database)"}
}


def _service(backend: ApiBackend) -> RolloutService:
    if backend.rollouts is None:
        raise HTTPException(503, "model roll-outs need the running gateway")
    return backend.rollouts


def _camera(text: str) -> tuple[str, str]:
    store, camera = text.split("/", 1)
    return store, camera


def _http_error(error: Exception) -> HTTPException:
    if isinstance(error, ModelExists | RolloutConflict):
        return HTTPException(409, str(error))
    if isinstance(error, RolloutNotFound):
        return HTTPException(404, str(error))
    if isinstance(error, SigningKeyError):
        return HTTPException(503, str(error))
    return HTTPException(422, str(error))


@router.get(
    "/models", response_model=list[ModelOut], dependencies=[allow("admin")], responses=UNAVAILABLE
)
def models(backend: Backend) -> list[dict[str, Any]]:
    """Every uploaded model pair, newest first, with its signed files."""
    return _service(backend).models.all()


@router.post(
    "/models",
    response_model=ModelOut,
    status_code=201,
    dependencies=[allow("admin")],
    responses={
        409: {"description": "That version exists"},
        503: {"description": "No signing key configured, or not the running gateway"},
    },
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["version", "fp32", "int8"],
                        "properties": {
                            "version": {"type": "string", "pattern": ID_PATTERN},
                            "fp32": {"type": "string", "format": "binary"},
                            "int8": {"type": "string", "format": "binary"},
                        },
                    }
                }
            },
            "required": True,
        }
    },
)
async def upload_model(
    request: Request, backend: Backend, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Upload a model pair (multipart: `version`, `fp32` and `int8` ONNX files); the
    gateway stores and signs it. Versions are never overwritten (409)."""
    service = _service(backend)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_MODEL_BYTES:
        raise HTTPException(413, f"upload larger than {MAX_MODEL_BYTES} bytes")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise HTTPException(415, f"send multipart/form-data, not {content_type or 'nothing'}")
    form = await request.form(max_files=2)
    version = form.get("version")
    if not isinstance(version, str) or not version:
        raise HTTPException(422, "version: a version label is required (e.g. 2025-06-01)")
    uploads = []
    for variant in ("fp32", "int8"):
        file = form.get(variant)
        if file is None or isinstance(file, str):
            raise HTTPException(422, f"{variant}: no file in field '{variant}'")
        uploads.append(Upload(variant, file.filename or f"{variant}.onnx", file.file))
    try:
        return service.upload(version, uploads, principal.name)
    except (ModelUploadError, SigningKeyError) as error:
        raise _http_error(error) from None
    finally:
        await form.close()


@router.get(
    "/models/{version}/files/{name}",
    dependencies=[public()],
    response_class=FileResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        401: {"description": "No or a wrong X-Rollout-Token"},
        404: {"description": "No such file"},
    },
)
def model_file(
    version: Version,
    name: Annotated[str, Path(pattern=FILE_NAME_PATTERN)],
    backend: Backend,
    x_rollout_token: Annotated[str | None, Header(max_length=128)] = None,
) -> FileResponse:
    """A stored model file, for the camera nodes a live roll-out announced it to (their
    roll-out's token in `X-Rollout-Token`)."""
    service = backend.rollouts
    if service is None:
        raise HTTPException(404, "this API serves no model files (no running gateway)")
    if not x_rollout_token or not service.token_allows(version, x_rollout_token):
        raise HTTPException(401, "no live roll-out of this model has that X-Rollout-Token")
    path = service.models.file_path(version, name)
    if path is None:
        raise HTTPException(404, f"model {version} has no file {name}")
    return FileResponse(path, media_type="application/octet-stream", filename=name)


@router.get(
    "/rollouts",
    response_model=list[RolloutOut],
    dependencies=[allow("admin")],
    responses=UNAVAILABLE,
)
def rollouts(backend: Backend) -> list[dict[str, Any]]:
    """Every roll-out, newest first, with each camera's wave and report."""
    return _service(backend).all()


@router.post(
    "/rollouts",
    response_model=RolloutOut,
    status_code=201,
    dependencies=[allow("admin")],
    responses={
        404: {"description": "No such model"},
        409: {"description": "One is running"},
        **BAD_BODY,
        **UNAVAILABLE,
    },
)
def start_rollout(body: RolloutIn, backend: Backend, principal: CurrentPrincipal) -> dict[str, Any]:
    """Roll a stored model out: announced to the canaries now, the rest on promotion."""
    service = _service(backend)
    try:
        return service.start(
            body.version,
            cameras=[_camera(c) for c in body.cameras] if body.cameras is not None else None,
            canaries=[_camera(c) for c in body.canaries] if body.canaries is not None else None,
            canary_share=body.canary_share,
            auto_promote=body.auto_promote,
            by=principal.name,
        )
    except RolloutError as error:
        raise _http_error(error) from None


@router.post(
    "/rollouts/{rollout_id}/promote",
    response_model=RolloutOut,
    dependencies=[allow("admin")],
    responses={
        404: {"description": "No such roll-out"},
        409: {"description": "Not yet"},
        **UNAVAILABLE,
    },
)
def promote(
    rollout_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)],
    backend: Backend,
    force: Annotated[bool, Query(description="Even if a canary has not switched.")] = False,
) -> dict[str, Any]:
    """Announce to the rest of the cameras; refused (409, saying which canary) until
    every canary runs the model, unless `force`."""
    try:
        return _service(backend).promote(rollout_id, force=force)
    except RolloutError as error:
        raise _http_error(error) from None


@router.post(
    "/rollouts/{rollout_id}/rollback",
    response_model=RolloutOut,
    dependencies=[allow("admin")],
    responses={
        404: {"description": "No such roll-out"},
        409: {"description": "Already"},
        **UNAVAILABLE,
    },
)
def rollback(
    rollout_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)], backend: Backend
) -> dict[str, Any]:
    """Give every camera of the roll-out its previous model announcement back."""
    try:
        return _service(backend).rollback(rollout_id)
    except RolloutError as error:
        raise _http_error(error) from None
