"""Uploaded model pairs: the files under `<data_dir>/models/<version>/`, their signed
manifest in the `models` table.

A pair is the fp32 ONNX model and its int8 twin (`models/README.md`); a node runs the
one its config names (`model_updates.variant`). Files are copied in, hashed and signed
once, at upload: what is served later is checked by each node against that signature,
so a file damaged on the gateway's disk is refused by the nodes, never run.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from edge.contract.ids import is_identifier
from edge.contract.model_rollout import FILE_NAME_PATTERN, ModelFile, Variant, signed_manifest
from gateway.rollout.signing import SigningKey
from gateway.storage.connection import Database
from gateway.storage.sql import db_time

ONNX_FIRST_BYTE = 0x08
"""An ONNX file is a protobuf ModelProto whose first field is ir_version (field 1, varint)."""
VARIANTS: tuple[Variant, ...] = ("fp32", "int8")


class ModelUploadError(ValueError):
    """A model pair that cannot be stored; the message names the field or file at fault."""


class ModelExists(ModelUploadError):
    """A model of that version is stored already (versions are never overwritten)."""


@dataclass(frozen=True)
class Upload:
    """One uploaded file: which variant, its name as the uploader gave it, its bytes."""

    variant: Variant
    name: str
    data: IO[bytes]


def _file_record(upload: Upload, stored: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with stored.open("rb") as f:
        while chunk := f.read(1 << 16):
            digest.update(chunk)
    return {
        "variant": upload.variant,
        "name": stored.name,
        "size": stored.stat().st_size,
        "sha256": digest.hexdigest(),
    }


def _check_upload(upload: Upload) -> None:
    if not re.fullmatch(FILE_NAME_PATTERN, upload.name):
        raise ModelUploadError(
            f"{upload.variant}: file name {upload.name!r} must end in .onnx and hold only "
            "letters, digits, '.', '_', '-'"
        )
    head = upload.data.read(1)
    upload.data.seek(0)
    if not head:
        raise ModelUploadError(f"{upload.variant}: {upload.name} is empty")
    if head[0] != ONNX_FIRST_BYTE:
        raise ModelUploadError(f"{upload.variant}: {upload.name} is not an ONNX model file")


class ModelStore:
    """The stored models of one gateway (database rows, files under `directory`)."""

    def __init__(self, db: Database, directory: Path) -> None:
        self.db = db
        self.directory = directory

    def add(
        self, version: str, uploads: list[Upload], key: SigningKey, by: str | None = None
    ) -> dict[str, Any]:
        """Copy, hash and sign a model pair; its record. ModelUploadError names what is
        wrong (a version in use, a file that is not ONNX, a missing twin)."""
        if not is_identifier(version):
            raise ModelUploadError(
                f"version {version!r}: 1-64 letters, digits, '_', '.', '-', starting with a "
                "letter or digit"
            )
        variants = sorted(u.variant for u in uploads)
        if variants != sorted(VARIANTS):
            raise ModelUploadError(f"a model is a pair: one fp32 and one int8 file, got {variants}")
        if len({u.name for u in uploads}) != len(uploads):
            raise ModelUploadError("the fp32 and int8 files need different names")
        for upload in uploads:
            _check_upload(upload)
        if self.find(version) is not None:
            raise ModelExists(f"version {version}: a model of that version is stored already")
        folder = self.directory / version
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for upload in uploads:
            stored = folder / upload.name
            with stored.open("wb") as out:
                shutil.copyfileobj(upload.data, out, 1 << 20)
            files.append(_file_record(upload, stored))
        manifest = signed_manifest(version, [ModelFile(**f, url="-") for f in files])
        record = {
            "version": version,
            "files": files,
            "signature": key.sign(manifest),
            "key_id": key.key_id,
            "uploaded_at": datetime.now(UTC),
            "uploaded_by": by,
        }
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO models (version, files, signature, key_id, uploaded_at, uploaded_by)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    version,
                    json.dumps(files),
                    record["signature"],
                    record["key_id"],
                    db_time(record["uploaded_at"]),
                    by,
                ),
            )
        return record

    def find(self, version: str) -> dict[str, Any] | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT * FROM models WHERE version = ?", (version,)).fetchone()
        return _record(row) if row else None

    def all(self) -> list[dict[str, Any]]:
        """Every stored model, newest first."""
        with self.db.read() as conn:
            rows = conn.execute("SELECT * FROM models ORDER BY uploaded_at DESC").fetchall()
        return [_record(r) for r in rows]

    def file_path(self, version: str, name: str) -> Path | None:
        """The stored file `name` of `version`, if that model has such a file."""
        record = self.find(version)
        if record is None or name not in {f["name"] for f in record["files"]}:
            return None
        path = self.directory / version / name
        return path if path.is_file() else None


def _record(row: Any) -> dict[str, Any]:
    return {
        "version": row["version"],
        "files": json.loads(row["files"]),
        "signature": row["signature"],
        "key_id": row["key_id"],
        "uploaded_at": row["uploaded_at"],
        "uploaded_by": row["uploaded_by"],
    }
