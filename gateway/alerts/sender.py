"""Sending one alert over one channel: the signed webhook (standard library only) or an
Apprise URL (ntfy, Telegram, e-mail, ...; the optional `alerts` extra, imported lazily).

Both raise `DeliveryError` naming what went wrong; the alert thread retries.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from gateway.alerts.records import Channel
from gateway.alerts.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

USER_AGENT = "shelfsense-alerts/1"


class DeliveryError(Exception):
    """The receiver was unreachable or refused the alert; says why."""


def send(channel: Channel, body: bytes, now: float, timeout_s: float) -> None:
    if channel.kind == "apprise":
        send_apprise(channel.url, json.loads(body), timeout_s)
    else:
        send_webhook(channel.url, channel.secret, body, int(now), timeout_s)


def send_webhook(url: str, secret: str, body: bytes, timestamp: int, timeout_s: float) -> None:
    """POST the JSON body with its timestamp and signature headers; any 2xx is delivered."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read(1024)
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"{url}: {reason}") from None


def _apprise() -> Any:
    try:
        import apprise  # the optional `alerts` extra
    except ImportError:
        raise DeliveryError("Apprise is not installed: pip install 'shelfsense[alerts]'") from None
    return apprise


def apprise_url_ok(url: str) -> bool:
    """Whether Apprise knows this URL's service (False too when it is not installed)."""
    try:
        apprise = _apprise()
    except DeliveryError:
        return False
    return bool(apprise.Apprise().add(url))


def send_apprise(url: str, alert: dict[str, Any], timeout_s: float) -> None:
    apprise = _apprise()
    notifier = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
    if not notifier.add(url):
        raise DeliveryError(f"Apprise does not know the URL {url!r}")
    kind = apprise.NotifyType.FAILURE if alert["level"] == "high" else apprise.NotifyType.INFO
    if not notifier.notify(title=alert["title"], body=alert["text"], notify_type=kind):
        raise DeliveryError(f"Apprise could not deliver to {url.split('://')[0]}://…")
