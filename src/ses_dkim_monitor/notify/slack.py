"""Posting notifications to a Slack incoming webhook.

Everything that came from DNS or SES (identity names, messages, fixes that
quote TXT content) is made visible (``untrusted.visible``: no line breaks,
no control or bidi characters), escaped for Slack (``&``, ``<``, ``>``), and
placed in ``plain_text`` objects where Slack applies no markup, so a hostile
TXT record cannot start a line, ping ``<!channel>``, forge a
``<https://evil|link>``, get a bare URL auto-linked or turn text bold. Our own
labels are ``mrkdwn`` with ``verbatim: true``.

Retries are written here rather than left to slack_sdk's retry handlers
because those sleep with ``time.sleep`` where tests and the Lambda deadline
need control: the sleep function is injected, a ``Retry-After`` longer than
``max_retry_after`` is not waited for (the notification stays pending and the
next run retries it), and once Slack looks unavailable the rest of this run's
messages are left pending instead of each burning its own retries.

A failed reply is logged by its HTTP status and, when its body is exactly
one of Slack's documented webhook error codes (``SLACK_ERROR_CODES``), that
code; nothing else of a body is ever logged: a proxy or error page may echo
the request path, which holds the token.

With a status page, each message ends with a context link to it (a single
notification: its account and region's page; a digest: the index page). The
URL is ours, not DNS's, and is still escaped for Slack like everything else.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk.webhook import WebhookClient

from ..alerts import messages
from ..alerts.model import Event, Notification
from ..i18n import _, ngettext, pgettext
from ..models import Severity
from ..render import grouping
from ..untrusted import visible
from .slack_errors import SLACK_ERROR_CODES as SLACK_ERROR_CODES
from .slack_errors import slack_error
from .slack_webhook import WebhookUrlError

log = logging.getLogger(__name__)


def _silent_sdk_logger() -> logging.Logger:
    """The logger handed to slack_sdk: it drops everything.

    slack_sdk logs request failures at ERROR and requests at DEBUG with the
    full URL (the webhook's token) in the message. Its own default logger
    propagates to the root logger (the CLI's stderr, the Lambda's log), so
    it gets a logger of ours that neither propagates nor handles anything;
    our own log lines say what failed and never contain the URL.
    """
    sdk = logging.getLogger(f"{__name__}.sdk")
    sdk.propagate = False
    sdk.handlers = [logging.NullHandler()]
    sdk.setLevel(logging.CRITICAL + 1)  # slack_sdk also checks the level before building DEBUG lines
    return sdk


IAM_ACTIONS: tuple[str, ...] = ("secretsmanager:GetSecretValue",)

MAX_SECTION_TEXT = 3000  # Block Kit: section text
MAX_FIELD_TEXT = 2000  # Block Kit: each section field
MAX_BLOCKS = 50  # Block Kit: blocks per message
DIGEST_ITEMS_PER_MESSAGE = 40  # plus a heading, a status page link and a footer, well under MAX_BLOCKS
DIGEST_ITEM_TEXT = 1000  # keeps a 40-item digest a readable, modest payload

COLOUR = {Severity.CRITICAL: "#D40E0D", Severity.WARNING: "#ECB22E", Severity.INFO: "#439FE0"}
RESOLVED_COLOUR = "#2EB67D"
SEP = " \u00b7 "
EMOJI = {Severity.CRITICAL: ":red_circle:", Severity.WARNING: ":warning:", Severity.INFO: ":information_source:"}


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
        links: messages.PageLinks | None = None,
    ):
        self._webhook_url = webhook_url
        self._links = links
        self._digest_threshold = digest_threshold
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._sdk_log = _silent_sdk_logger()

    def deliver(self, notifications: Sequence[Notification]) -> dict[str, bool]:
        """Post; the result maps each notification's ``state_id`` to success."""
        if not notifications:
            return {}
        results = {n.state_id: False for n in notifications}
        try:
            url = self._webhook_url()
        except WebhookUrlError as error:  # a malformed secret must not stop SNS; its message holds no URL
            log.error("Slack webhook URL unusable", extra={"channel": self.name, "error": str(error)})
            return results
        except Exception as error:  # a missing secret, access denied: the error type is enough
            log.error("Slack webhook URL unavailable", extra={"channel": self.name, "error": type(error).__name__})
            return results
        # No slack_sdk retry handlers: they sleep with time.sleep; _post retries instead.
        client = WebhookClient(url, timeout=self._timeout, retry_handlers=[], logger=self._sdk_log)
        if len(notifications) > self._digest_threshold:
            batches = digest_bodies(notifications, links=self._links)
        else:  # one check's notifications for one identity: one message
            batches = [(b, single_body(b, links=self._links)) for b in messages.bundles(notifications)]
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
                detail = slack_error(response.body)
            except Exception as error:  # timeouts, refused connections: the type, never the message (the URL)
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
    """Our own markup (labels, titles). Anything untrusted inside must already be ``_safe``."""
    return {"type": "mrkdwn", "text": fit(text, limit), "verbatim": True}


def _plain(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    """Untrusted text: a plain_text object, which Slack renders without any markup."""
    return _plain_lines([text], limit)


def _plain_lines(lines: list[str], limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    """Lines of untrusted text in one plain_text object: each made ``_safe`` once, joined by our own newlines."""
    return {"type": "plain_text", "text": fit("\n".join(_safe(line) for line in lines), limit), "emoji": False}


def _safe(text: str) -> str:
    """Text from DNS or SES for Slack: on one line, control characters shown, ``&<>`` escaped."""
    return escape(visible(text))


def _section(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text, limit)}


def _plain_section(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    return {"type": "section", "text": _plain(text, limit)}


def _label(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(f"*{text}*")]}


def _code(*lines: str) -> dict[str, Any]:
    """Text to copy: a code block, unless a backtick in it could close the block early. Each line is made
    ``_safe`` on its own and joined by our own newlines, so several records stay one to a line."""
    if any("`" in line for line in lines):
        return {"type": "section", "text": _plain_lines(list(lines))}
    return _section("```" + "\n".join(_safe(line) for line in lines) + "```")


def _footer(n: Notification) -> dict[str, Any]:
    parts = [messages.observed_line(n), _("account {account}").format(account=n.account), "ses-dkim-monitor"]
    if n.reason and n.event is not Event.RESOLVED:
        parts.insert(0, messages.reason(n))
    return {"type": "context", "elements": [_plain(SEP.join(parts))]}


def _page_link(url: str | None, label: str) -> list[dict[str, Any]]:
    """A context block linking to the status page (none without one). Slack's ``<url|label>``, both escaped."""
    if not url:
        return []
    link = f"<{escape(url)}|{escape(label)}>"
    signin = _("(AWS console sign-in)")
    return [{"type": "context", "elements": [_mrkdwn(f":page_facing_up: {link} {escape(signin)}")]}]


def single_body(
    bundle: Notification | Sequence[Notification], *, links: messages.PageLinks | None = None
) -> dict[str, Any]:
    """The webhook payload for one notification, or one check's notifications for one identity together.

    Text from DNS and SES (the message, fix, reason, record) goes into
    plain_text objects, where no Slack markup applies, after ``_safe``; our
    labels and titles are mrkdwn. Several records: each one's own sentence,
    then what they share, once.
    """
    group = [bundle] if isinstance(bundle, Notification) else list(bundle)
    n = group[0]
    fallback = fit(escape(messages.bundle_headline(group)), 300)
    what = grouping.headline(n.check, len(group))
    page_label = _("Status page of {account} · {region}").format(account=n.account, region=n.region)
    if n.event is Event.RESOLVED:
        resolved = _("*Resolved*: {title} for *{identity}* ({region})").format(
            title=escape(what), identity=_safe(n.identity), region=escape(n.region)
        )
        reasons = "; ".join(dict.fromkeys(messages.reason(m) or _("resolved") for m in group))
        blocks = [
            _section(f":white_check_mark: {resolved}"),
            _plain_section(reasons),
            *_page_link(messages.page_link(n, links), page_label),
            _footer(n),
        ]
        return {"text": fallback, "attachments": [{"color": RESOLVED_COLOUR, "blocks": blocks}]}
    worst = messages.grouping_worst(group)
    label = messages.label(n, reminder=pgettext("label", "Reminder"), sep=SEP)
    subjects = ", ".join(_safe(s) for s in (messages.subject_of(m.key, m.check) for m in group) if s)
    identity, where, severity, check = _("Identity"), _("Account · region"), _("Severity"), _("Check")
    fields = [
        _mrkdwn(f"*{identity}*\n{_safe(n.identity)}", MAX_FIELD_TEXT),
        _mrkdwn(f"*{where}*\n{escape(n.account)} · {escape(n.region)}", MAX_FIELD_TEXT),
        _mrkdwn(f"*{severity}*\n{escape(grouping.severity_word(worst.value))}", MAX_FIELD_TEXT),
        _mrkdwn(f"*{check}*\n{escape(n.check)}" + (f" ({subjects})" if subjects else ""), MAX_FIELD_TEXT),
    ]
    causes = list(dict.fromkeys(messages.cause_line(m) for m in group if m.cause))
    if causes:
        cause = _("Cause")
        fields.append(_mrkdwn(f"*{cause}*\n{escape('; '.join(causes))}", MAX_FIELD_TEXT))
    own, shared = grouping.split_common([m.message for m in group])
    fixes, shared_fix = grouping.split_common([m.fix for m in group])
    blocks = [
        _section(f"{EMOJI[worst]} *{escape(label)}*: {escape(what)}"),
        {"type": "section", "fields": fields},
        _label(_("What the monitor saw")),
        {"type": "section", "text": _plain_lines(_listed(own, shared))},
        _label(_("Fix")),
    ]
    if len(group) == 1:
        blocks.append(_code(n.fix))
    else:
        blocks.append({"type": "section", "text": _plain_lines(_listed(fixes, shared_fix))})
        records = [m.record for m in group if m.record is not None]
        if records:
            blocks += [
                _label(ngettext("Record to publish", "Records to publish", len(records))),
                _code(*(f"{r.name}  {r.type}  {r.value}" for r in records)),
            ]
    command = messages.fix_command_for(n)
    if command:
        blocks += [_label(_("Plan the DNS change (add --apply to make it in Route 53)")), _code(command)]
    blocks += _page_link(messages.page_link(n, links), page_label)
    blocks.append(_footer(n))
    return {"text": fallback, "attachments": [{"color": COLOUR[worst], "blocks": blocks}]}


def _listed(own: Sequence[str], shared: str) -> list[str]:
    """Each record's own text (a list when there are several), then what they share."""
    own = [t for t in own if t]
    return ([own[0]] if len(own) == 1 else [f"• {t}" for t in own]) + ([shared] if shared else [])


def digest_bodies(
    notifications: Sequence[Notification], *, links: messages.PageLinks | None = None
) -> list[tuple[list[Notification], dict[str, Any]]]:
    """Digest payloads of at most ``DIGEST_ITEMS_PER_MESSAGE`` items each, most severe first."""
    ordered = messages.sort_for_digest(notifications)
    chunks = [ordered[i : i + DIGEST_ITEMS_PER_MESSAGE] for i in range(0, len(ordered), DIGEST_ITEMS_PER_MESSAGE)]
    bodies = []
    for part, chunk in enumerate(chunks, start=1):
        heading = escape(messages.digest_subject(chunk, part=part, parts=len(chunks)))
        items = [_digest_item(b) for b in messages.bundles(chunk)]
        accounts = ", ".join(sorted({n.account for n in chunk}))
        account_text = _("account {account}").format(account=accounts)
        footer = {"type": "context", "elements": [_plain(f"{account_text}{SEP}ses-dkim-monitor")]}
        worst = messages.worst_severity([n for n in chunk if n.event is not Event.RESOLVED] or chunk)
        colour = COLOUR[worst] if any(n.event is not Event.RESOLVED for n in chunk) else RESOLVED_COLOUR
        body = {
            "text": fit(heading, 300),
            "blocks": [_section(f"*{heading}*")],
            "attachments": [
                {
                    "color": colour,
                    "blocks": [*items, *_page_link(messages.index_link(links), _("Status page")), footer],
                }
            ],
        }
        bodies.append((chunk, body))
    return bodies


def _digest_item(bundle: Sequence[Notification]) -> dict[str, Any]:
    """One section per check and identity: our headline in mrkdwn, what DNS/SES said as a plain_text field."""
    n = bundle[0]
    what = escape(grouping.headline(n.check, len(bundle)))
    account = _("account {account}").format(account=escape(n.account))
    where = f"*{_safe(n.identity)}* ({escape(n.region)}, {account})"
    if n.event is Event.RESOLVED:
        resolved = escape(_("Resolved"))
        head = f":white_check_mark: *{resolved}*: {what} - {where}"
        lines = list(dict.fromkeys(messages.reason(m) or _("resolved") for m in bundle))
    else:
        worst = messages.grouping_worst(bundle)
        label = messages.label(n, reminder=pgettext("label", "Reminder"), sep=SEP)
        head = f"{EMOJI[worst]} *{escape(label)}*: {what} - {where}"
        causes = list(dict.fromkeys(messages.cause_line(m) for m in bundle if m.cause))
        cause = [_("Cause: {cause}").format(cause="; ".join(causes))] if causes else []
        own, shared = grouping.split_common([m.message for m in bundle])
        fixes, shared_fix = grouping.split_common([m.fix for m in bundle])
        saw = " / ".join([*filter(None, own), *filter(None, [shared])])
        fix = " / ".join([*filter(None, fixes), *filter(None, [shared_fix])])
        # Each line escaped once (its own newlines shown as \x0a, as in a single message); the line breaks
        # between them are ours and stay line breaks.
        lines = [*cause, _("Saw: {message}").format(message=saw), _("Fix: {fix}").format(fix=fix)]
    return {
        "type": "section",
        "text": _mrkdwn(head, DIGEST_ITEM_TEXT),
        "fields": [_plain_lines(lines, MAX_FIELD_TEXT)],
    }
