"""The gateway's model signing key: Ed25519, through `cryptography`.

The key is a PEM file made by firmware_config/make-model-key.sh (OpenSSL). The gateway
signs each uploaded model's manifest with it; each camera node holds only the public
half (`model_updates.public_key` in its config), so a node runs no model that this
store's gateway did not sign, wherever the file came from.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class SigningKeyError(ValueError):
    """The signing key is missing or unusable; the message names the file and the fix."""


@dataclass(frozen=True)
class SigningKey:
    """A loaded private key, with the id announcements carry (`key_id`)."""

    private: Ed25519PrivateKey
    path: Path

    @property
    def key_id(self) -> str:
        return key_id(self.public_pem())

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, message: bytes) -> str:
        """The Ed25519 signature of `message`, base64."""
        return base64.b64encode(self.private.sign(message)).decode()


def key_id(public_pem: bytes) -> str:
    """First 16 hex digits of the sha256 of the raw public key: names the key in logs."""
    public = serialization.load_pem_public_key(public_pem)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_signing_key(path: Path | None) -> SigningKey:
    """Read the PEM private key; SigningKeyError says what is wrong and how to make one."""
    if path is None:
        raise SigningKeyError(
            "no model signing key: set rollouts.signing_key in the gateway config to a key "
            "made by firmware_config/make-model-key.sh"
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise SigningKeyError(f"{path}: cannot read the model signing key: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: not an Ed25519 private key (make-model-key.sh makes one)")
    return SigningKey(key, path)
