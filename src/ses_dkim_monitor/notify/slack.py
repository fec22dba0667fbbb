"""Posting notifications to a Slack incoming webhook.

Everything that came from DNS or SES (identity names, messages, fixes that
quote TXT content) is escaped for Slack (``&``, ``<``, ``>``) and sent with
``verbatim: true``, so a hostile TXT record cannot ping ``<!channel>``,
forge a ``<https://evil|link>`` or get a bare URL auto-linked.

Retries are written here rather than left to slack_sdk's retry handlers
because those sleep with ``time.sleep`` where tests and the Lambda deadline
need control: the sleep function is injected, a ``Retry-After`` longer than
``max_retry_after`` is not waited for (the notification stays pending and the
next run retries it), and once Slack looks unavailable the rest of this run's
messages are left pending instead of each burning its own retries.
"""

from __future__ import annotations

import enum
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk.webhook import WebhookClient

from ..alerts import messages
from ..alerts.model import Event, Notification
from ..models import Severity

log = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("secretsmanager:GetSecretValue",)

MAX_SECTION_TEXT = 3000  # Block Kit: section text
MAX_FIELD_TEXT = 2000  # Block Kit: each section field
MAX_BLOCKS = 50  # Block Kit: blocks per message
DIGEST_ITEMS_PER_MESSAGE = 40  # plus a heading and a footer, well under MAX_BLOCKS
DIGEST_ITEM_TEXT = 1000  # keeps a 40-item digest a readable, modest payload

COLOUR = {Severity.CRITICAL: "#D40E0D", Severity.WARNING: "#ECB22E", Severity.INFO: "#439FE0"}
RESOLVED_COLOUR = "#2EB67D"
SEP = " \u00b7 "
EMOJI = {Severity.CRITICAL: ":red_circle:", Severity.WARNING: ":warning:", Severity.INFO: ":information_source:"}


class SecretWebhookUrl:
    """The webhook URL, read from Secrets Manager through Powertools' cached provider.

    The secret holds the URL itself or JSON ``{"webhook_url": "..."}``. The
    provider caches for ``max_age`` seconds, so a warm Lambda does not call
    Secrets Manager every run, yet a rotated URL is picked up within minutes.
    """

    def __init__(self, provider: Any, secret_arn: str, *, max_age: int = 300):
        self._provider = provider
        self._secret_arn = secret_arn
        self._max_age = max_age

    def __call__(self) -> str:
        raw = self._provider.get(self._secret_arn, max_age=self._max_age)
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        value = str(raw or "").strip()
        if value.startswith("{"):
            try:
                value = str(json.loads(value).get("webhook_url") or "").strip()
            except (ValueError, AttributeError):
                value = ""
        if not value.lower().startswith(("https://", "http://")):
            # Never echo the value: it is a credential.
            raise ValueError(f"secret {self._secret_arn} holds no webhook URL (plain URL or JSON with webhook_url)")
        return value


class _Outcome(enum.Enum):
    SENT = "sent"
    REJECTED = "rejected"  # this message was refused (4xx): others may still go
    UNAVAILABLE = "unavailable"  # Slack is down or rate limiting: stop for this run


class SlackNotifier:
    """Delivers notifications to one Slack webhook; never raises for a failed post."""

    name = "slack"

    def __init__(
        self,
        webhook_url: Callable[[], str],
        *,
        digest_threshold: int = 10,
        timeout: int = 5,
        max_attempts: int = 3,
        backoff: float = 1.0,
        max_retry_after: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._webhook_url = webhook_url
        self._digest_threshold = digest_threshold
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        # slack_sdk logs the full URL at DEBUG; its logger is kept at WARNING.
        self._sdk_log = logging.getLogger(f"{__name__}.sdk")
        self._sdk_log.setLevel(logging.WARNING)

    def deliver(self, notifications: Sequence[Notification]) -> dict[str, bool]:
        """Post; the result maps each notification's ``state_id`` to success."""
        if not notifications:
            return {}
        results = {n.state_id: False for n in notifications}
        try:
            url = self._webhook_url()
        except Exception as error:  # a missing or malformed secret must not stop SNS
            log.error("Slack webhook URL unavailable", extra={"channel": self.name, "error": str(error)})
            return results
        # No slack_sdk retry handlers: they sleep with time.sleep; _post retries instead.
        client = WebhookClient(url, timeout=self._timeout, retry_handlers=[], logger=self._sdk_log)
        if len(notifications) > self._digest_threshold:
            batches = digest_bodies(notifications)
        else:
            batches = [([n], single_body(n)) for n in notifications]
        for batch, body in batches:
            outcome = self._post(client, body)
            if outcome is _Outcome.SENT:
                results.update({n.state_id: True for n in batch})
            elif outcome is _Outcome.UNAVAILABLE:
                break  # the rest stay pending for the next run
        return results

    def _post(self, client: WebhookClient, body: dict[str, Any]) -> _Outcome:
        for attempt in range(1, self._max_attempts + 1):
            status: int | None = None
            headers: dict[str, Any] = {}
            try:
                response = client.send_dict(body)
                status, headers = response.status_code, dict(response.headers or {})
                detail = str(response.body or "")[:100]
            except Exception as error:  # timeouts, refused connections
                detail = type(error).__name__
            if status is not None and 200 <= status < 300:
                return _Outcome.SENT
            last = attempt == self._max_attempts
            if status == 429:
                wait = _retry_after(headers)
                wait = self._backoff * 2 ** (attempt - 1) if wait is None else wait
                if wait > self._max_retry_after or last:
                    log.warning(
                        "Slack rate limited; left pending for the next run",
                        extra={"channel": self.name, "status": status, "retry_after": wait},
                    )
                    return _Outcome.UNAVAILABLE
                self._sleep(wait)
                continue
            if status is not None and 400 <= status < 500:
                log.warning("Slack rejected a message", extra={"channel": self.name, "status": status, "error": detail})
                return _Outcome.REJECTED
            if last:
                log.warning(
                    "Slack unavailable; left pending for the next run",
                    extra={"channel": self.name, "status": status, "error": detail},
                )
                return _Outcome.UNAVAILABLE
            self._sleep(self._backoff * 2 ** (attempt - 1))
        return _Outcome.UNAVAILABLE


def _retry_after(headers: dict[str, Any]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) and value else value
            try:
                return max(float(str(value).strip()), 0.0)
            except ValueError:
                return None  # an HTTP-date: fall back to our own backoff
    return None


def escape(text: str) -> str:
    """Slack's three control characters; enough to defuse mentions and links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(escaped: str, limit: int) -> str:
    """Cut escaped text to ``limit`` characters without splitting an ``&...;`` entity."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "\u2026"


def _mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": fit(text, limit), "verbatim": True}


def _section(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text, limit)}


def _code(raw: str) -> str:
    # A backtick in DNS-derived text could close the code block early: show it plain then.
    return f"```{escape(raw)}```" if "`" not in raw else escape(raw)


def _footer(n: Notification) -> dict[str, Any]:
    parts = [messages.observed_line(n), f"account {n.account}", "ses-dkim-monitor"]
    if n.reason and n.event is not Event.RESOLVED:
        parts.insert(0, n.reason)
    return {"type": "context", "elements": [_mrkdwn(escape(" \u00b7 ".join(parts)))]}


def single_body(n: Notification) -> dict[str, Any]:
    """The webhook payload for one notification."""
    fallback = fit(escape(messages.headline(n)), 300)
    if n.event is Event.RESOLVED:
        blocks = [
            _section(
                f":white_check_mark: *Resolved*: {escape(messages.title(n.check))} for "
                f"*{escape(n.identity)}* ({escape(n.region)})\n{escape(n.reason or 'resolved')}"
            ),
            _footer(n),
        ]
        return {"text": fallback, "attachments": [{"color": RESOLVED_COLOUR, "blocks": blocks}]}
    label = messages.label(n, reminder="Reminder", sep=SEP)
    subject = messages.subject_of(n.key, n.check)
    blocks = [
        _section(f"{EMOJI[n.severity]} *{escape(label)}*: {escape(messages.title(n.check))}"),
        {
            "type": "section",
            "fields": [
                _mrkdwn(f"*Identity*\n{escape(n.identity)}", MAX_FIELD_TEXT),
                _mrkdwn(f"*Region*\n{escape(n.region)}", MAX_FIELD_TEXT),
                _mrkdwn(f"*Severity*\n{escape(n.severity.value)}", MAX_FIELD_TEXT),
                _mrkdwn(f"*Check*\n{escape(n.check)}" + (f" ({escape(subject)})" if subject else ""), MAX_FIELD_TEXT),
            ],
        },
        _section(f"*What the monitor saw*\n{escape(n.message)}"),
        _section(f"*Fix*\n{_code(n.fix)}"),
        _footer(n),
    ]
    return {"text": fallback, "attachments": [{"color": COLOUR[n.severity], "blocks": blocks}]}


def digest_bodies(notifications: Sequence[Notification]) -> list[tuple[list[Notification], dict[str, Any]]]:
    """Digest payloads of at most ``DIGEST_ITEMS_PER_MESSAGE`` items each, most severe first."""
    ordered = messages.sort_for_digest(notifications)
    chunks = [ordered[i : i + DIGEST_ITEMS_PER_MESSAGE] for i in range(0, len(ordered), DIGEST_ITEMS_PER_MESSAGE)]
    bodies = []
    for part, chunk in enumerate(chunks, start=1):
        heading = escape(messages.digest_subject(chunk, part=part, parts=len(chunks)))
        items = [_section(_digest_item(n), DIGEST_ITEM_TEXT) for n in chunk]
        footer = {
            "type": "context",
            "elements": [_mrkdwn(f"account {escape(chunk[0].account)} \u00b7 ses-dkim-monitor")],
        }
        worst = messages.worst_severity([n for n in chunk if n.event is not Event.RESOLVED] or chunk)
        colour = COLOUR[worst] if any(n.event is not Event.RESOLVED for n in chunk) else RESOLVED_COLOUR
        body = {
            "text": fit(heading, 300),
            "blocks": [_section(f"*{heading}*")],
            "attachments": [{"color": colour, "blocks": [*items, footer]}],
        }
        bodies.append((chunk, body))
    return bodies


def _digest_item(n: Notification) -> str:
    where = f"*{escape(n.identity)}* ({escape(n.region)})"
    if n.event is Event.RESOLVED:
        return (
            f":white_check_mark: *Resolved*: {escape(messages.title(n.check))} - {where}\n"
            f"{escape(n.reason or 'resolved')}"
        )
    label = messages.label(n, reminder="Reminder", sep=SEP)
    return (
        f"{EMOJI[n.severity]} *{escape(label)}*: {escape(messages.title(n.check))} - {where}\n"
        f"{escape(n.message)}\n*Fix:* {escape(n.fix)}"
    )
