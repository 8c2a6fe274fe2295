"""Fetch and prepare an announced model, off the capture loop.

A `…/model` announcement (`edge.contract.model_rollout`) is handled on a thread of its
own, because downloading and loading take seconds: verify the Ed25519 signature over
the manifest with the public key from this node's config, download the file of this
node's variant from the gateway (store LAN, the roll-out's token), check its size and
sha256 against the signed ones, and load it with the same detector settings. What comes
out is a `Prepared` model (or the reason there is none), which the node's loop picks up
between frames, tries on its reference picture (`edge.model_check`) and switches to, or
not. Only the newest announcement matters: one that arrives while another is being
prepared replaces it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from edge.contract.model_rollout import ModelAnnouncement, ModelFile
from edge.detector import Detector
from edge.settings import ModelUpdateSettings

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Rollout-Token"
CHUNK = 1 << 16

DetectorFactory = Callable[[Path | None], Detector]
"""Builds a detector with the node's settings from a model file (None: the configured one)."""


class UpdateRefused(Exception):
    """An announcement this node will not run; the message says why, for the gateway."""


@dataclass
class Prepared:
    """An announcement's outcome so far: a loaded candidate, or why there is none.
    `announcement` None means a withdrawn one: `detector` is then the configured model."""

    announcement: ModelAnnouncement | None
    detector: Detector | None = None
    path: Path | None = None
    problem: str | None = None


def load_public_key(path: Path | None) -> Ed25519PublicKey:
    """The gateway's model signing public key (PEM); UpdateRefused when unusable."""
    if path is None:
        raise UpdateRefused("this node trusts no model signing key (model_updates.public_key)")
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as error:
        raise UpdateRefused(f"{path}: cannot read the model signing public key: {error}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UpdateRefused(f"{path}: not an Ed25519 public key")
    return key


def verify_signature(
    announcement: ModelAnnouncement, key: Ed25519PublicKey, key_path: Path
) -> None:
    """UpdateRefused unless the announcement's signature is the trusted key's over its
    manifest (version and each file's name, size and sha256)."""
    try:
        signature = base64.b64decode(announcement.signature, validate=True)
    except (binascii.Error, ValueError):
        raise UpdateRefused("the signature is not base64") from None
    try:
        key.verify(signature, announcement.manifest())
    except InvalidSignature:
        raise UpdateRefused(
            f"the signature of model {announcement.version} does not verify with the "
            f"trusted key {key_path.name}: not signed by this store's gateway, or altered"
        ) from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def download(file: ModelFile, token: str, target: Path, timeout_s: float) -> Path:
    """Download `file` to `target`, reading at most one byte more than the signed size;
    UpdateRefused when it cannot be fetched or its size or sha256 differ from the signed
    ones (nothing is left at `target` then). A file already there with the signed hash
    is kept as it is."""
    if target.is_file() and sha256_of(target) == file.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    size = 0
    request = urllib.request.Request(file.url, headers={TOKEN_HEADER: token})
    try:
        with (
            urllib.request.urlopen(request, timeout=timeout_s) as response,
            partial.open("wb") as out,
        ):
            while size <= file.size and (chunk := response.read(CHUNK)):
                size += len(chunk)
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as error:
        partial.unlink(missing_ok=True)
        raise UpdateRefused(f"cannot download {file.url}: {error}") from None
    actual = digest.hexdigest()
    if size != file.size or actual != file.sha256:
        partial.unlink(missing_ok=True)
        raise UpdateRefused(
            f"{file.name} as downloaded ({size} bytes, sha256 {actual[:16]}…) is not the "
            f"signed file ({file.size} bytes, sha256 {file.sha256[:16]}…): corrupt or altered"
        )
    os.replace(partial, target)
    return target


class ModelUpdater:
    """The roll-out worker thread: `announce()` from the MQTT thread, `take()` from the
    node's loop; `on_ready` is called (any thread) when something waits to be taken."""

    def __init__(
        self,
        settings: ModelUpdateSettings,
        models_dir: Path,
        variant_factory: DetectorFactory,
        on_ready: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.models_dir = models_dir
        self.factory = variant_factory
        self.on_ready = on_ready
        self._lock = threading.Condition()
        self._queued: list[ModelAnnouncement | None] = []
        self._ready: Prepared | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="model-update", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def announce(self, announcement: ModelAnnouncement | None) -> None:
        """Take a new announcement (None: withdrawn); it replaces any not yet started."""
        with self._lock:
            self._queued = [announcement]
            self._lock.notify_all()

    def take(self) -> Prepared | None:
        """The prepared outcome waiting for the loop, if any (once)."""
        with self._lock:
            ready, self._ready = self._ready, None
            return ready

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queued and not self._stopping:
                    self._lock.wait()
                if self._stopping:
                    return
                announcement = self._queued.pop()
            prepared = self.prepare(announcement)
            with self._lock:
                if self._queued:  # a newer announcement came meanwhile: this one is moot
                    continue
                self._ready = prepared
            self.on_ready()

    def prepare(self, announcement: ModelAnnouncement | None) -> Prepared:
        """Verify, download and load (the configured model for a withdrawal)."""
        try:
            if announcement is None:
                return Prepared(None, detector=self.factory(None))
            path = self.fetch(announcement)
            try:
                detector = self.factory(path)
            except Exception as error:  # a file that verifies can still fail to load
                raise UpdateRefused(
                    f"model {announcement.version} does not load: {error}"
                ) from None
            return Prepared(announcement, detector=detector, path=path)
        except UpdateRefused as refused:
            return Prepared(announcement, problem=str(refused))
        except Exception as error:  # the worker must survive anything; the gateway hears why
            log.exception("preparing a model update failed")
            return Prepared(announcement, problem=f"unexpected error: {error}")

    def fetch(self, announcement: ModelAnnouncement) -> Path:
        """The verified file of this node's variant, downloaded (or already here)."""
        key_path = self.settings.public_key
        key = load_public_key(key_path)
        assert key_path is not None
        verify_signature(announcement, key, key_path)
        file = announcement.file(self.settings.variant)
        if file is None:
            raise UpdateRefused(
                f"model {announcement.version} has no {self.settings.variant} file "
                "(model_updates.variant)"
            )
        target = self.models_dir / announcement.version / file.name
        log.info("model %s: downloading %s", announcement.version, file.url)
        return download(file, announcement.token, target, self.settings.download_timeout_s)
