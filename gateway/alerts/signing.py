"""The webhook signature: HMAC-SHA256 over `<timestamp>.<body>` with the channel's secret.

Headers on every webhook POST:

- `X-Shelfsense-Timestamp`: Unix seconds when it was sent;
- `X-Shelfsense-Signature`: `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.

The timestamp is inside the signed bytes, so a receiver that also refuses timestamps
older than a few minutes cannot be fooled by a replayed request (Stripe's and GitHub's
scheme). `verify` is what a Python receiver runs; README: Push alerts shows it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TIMESTAMP_HEADER = "X-Shelfsense-Timestamp"
SIGNATURE_HEADER = "X-Shelfsense-Signature"
TOLERANCE_S = 300


def new_secret() -> str:
    """A channel's secret: 256 random bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature_header: str,
    now: float,
    tolerance_s: float = TOLERANCE_S,
) -> bool:
    """True when the signature matches and the timestamp is within `tolerance_s` of now."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, sent, body), signature_header)
