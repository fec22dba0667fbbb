"""The Slack webhook URL: read from Secrets Manager, checked strictly, never shown.

The URL is the credential: whoever has it can post to the channel. It is
validated before slack_sdk sees it (a malformed URL makes urllib quote it in
its errors), and no message of ours ever contains it: errors name the secret.

It is also sent only to Slack: ``hooks.slack.com`` or ``hooks.slack-gov.com``
(GovSlack), exactly, on https's port. A mistyped host (``hooks.slack.co``, or
``hooks.slack.com.`` with its trailing dot, which is another name to a TLS
check) would hand the token and every alert to whoever owns that host. Any
other host (an egress proxy) must be named in ``SLACK_WEBHOOK_HOSTS``;
loopback addresses stay allowed for local stand-ins.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit


class WebhookUrlError(ValueError):
    """The secret does not hold a usable webhook URL. The message never contains the URL."""


# Incoming webhooks live at /services/<team>/<bot>/<secret> (hooks.slack.com, hooks.slack-gov.com).
_SLACK_PATH = re.compile(r"^/services/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$")
SLACK_HOSTS = ("hooks.slack.com", "hooks.slack-gov.com")
HTTPS_PORT = 443


def validate_webhook_url(url: str, *, secret_arn: str, extra_hosts: Sequence[str] = ()) -> str:
    """The URL if it is a well-formed Slack incoming-webhook URL; raises WebhookUrlError otherwise.

    Strict on purpose: a malformed URL handed to slack_sdk fails inside
    urllib, whose error messages quote the URL, that is the token. https
    only, to Slack's own hosts (or one of ``extra_hosts``: ``name`` on port
    443, or ``name:port``); http only to a loopback address (local
    stand-ins in tests); no whitespace or control characters; a numeric
    port; a Slack-shaped path. Errors name the secret and what is wrong,
    never the value.
    """

    def bad(why: str) -> WebhookUrlError:
        return WebhookUrlError(f"secret {secret_arn} holds no usable Slack webhook URL: {why}")

    if not url:
        raise bad("it is empty (store the URL, or JSON with webhook_url)")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise bad("it contains whitespace or control characters")
    parts = urlsplit(url)
    try:
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        raise bad("its port is not a number from 1 to 65535") from None
    host = parts.hostname or ""
    if parts.scheme == "http":
        if not _is_loopback(host):
            raise bad("plain http is only accepted for a loopback address; use https")
    elif parts.scheme != "https":
        raise bad("it is not an https URL")
    if not host:
        raise bad("it has no host")
    if not _is_loopback(host):
        port = parts.port or HTTPS_PORT
        allowed = {(h, HTTPS_PORT) for h in SLACK_HOSTS} | {_host_port(h) for h in extra_hosts}
        if (host, port) not in allowed:
            raise bad(
                f"its host is not {' or '.join(SLACK_HOSTS)} on port {HTTPS_PORT} (a proxy's host goes in "
                "SLACK_WEBHOOK_HOSTS)"
            )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise bad("it has a query, fragment or user part, which webhook URLs do not")
    if not _SLACK_PATH.match(parts.path):
        raise bad("its path is not /services/<team>/<bot>/<secret>")
    return url


def _host_port(entry: str) -> tuple[str, int]:
    name, _, port = entry.lower().partition(":")
    return name, int(port) if port else HTTPS_PORT


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SecretWebhookUrl:
    """The webhook URL, read from Secrets Manager through Powertools' cached provider.

    The secret holds the URL itself or JSON ``{"webhook_url": "..."}``. The
    provider caches for ``max_age`` seconds, so a warm Lambda does not call
    Secrets Manager every run, yet a rotated URL is picked up within minutes.
    """

    def __init__(self, provider: Any, secret_arn: str, *, max_age: int = 300, extra_hosts: Sequence[str] = ()):
        self._provider = provider
        self._secret_arn = secret_arn
        self._max_age = max_age
        self._extra_hosts = tuple(extra_hosts)

    def __call__(self) -> str:
        raw = self._provider.get(self._secret_arn, max_age=self._max_age)
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="replace")
        value = str(raw or "").strip()
        if value.startswith("{"):
            try:
                value = str(json.loads(value).get("webhook_url") or "").strip()
            except (ValueError, AttributeError):
                raise WebhookUrlError(f"secret {self._secret_arn} holds JSON without a webhook_url string") from None
        return validate_webhook_url(value, secret_arn=self._secret_arn, extra_hosts=self._extra_hosts)
