"""What each notification says, shared by every channel.

The channels differ in markup (SNS email is plain text, Slack is Block Kit)
but not in content: the headline, the observation, the exact fix and the
structured payload are built here once, so an on-call person reads the same
words whichever channel reached them.

Identity names, messages, fixes, reasons and records carry text from DNS and
SES. Every text built here passes it through ``untrusted.visible`` so that it
stays on its line and shows any control or format character it holds; the
structured ``payload`` keeps the raw values for machines. A channel escapes
the result once more for its own markup (Slack's ``&<>``).

With a status page (``STATUS_PAGE_BUCKET``), each notification links to the
page of its account and region and a digest to the index page. The links are
a value the channels receive (``PageLinks``), built by the composition root.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from .. import catalogue as c
from ..catalogue import CAUSES, CHECKS
from ..fix_command import DNS_FIXABLE, fix_command
from ..models import Severity
from ..untrusted import visible
from .model import Event, Notification

SCHEMA_NOTIFICATION = "ses-dkim-monitor/notification/v1"
SCHEMA_DIGEST = "ses-dkim-monitor/digest/v1"
SUBJECT_MAX = 99  # SNS: "less than 100 characters"


class PageLinks(Protocol):
    """Where the status page of an (account, region) and the index are (``status_page.StatusPageLinks``)."""

    def shard(self, account: str, region: str) -> str: ...

    def index(self) -> str: ...


def page_link(n: Notification, links: PageLinks | None) -> str | None:
    """The status page of ``n``'s account and region, or None without a status page."""
    return links.shard(n.account, n.region) if links is not None else None


def index_link(links: PageLinks | None) -> str | None:
    return links.index() if links is not None else None


def title(check: str) -> str:
    """The catalogue's one-line title (the check id for anything unknown)."""
    entry = CHECKS.get(check)
    return entry.title if entry else check


def subject_of(key: str, check: str) -> str:
    """The part of a finding key after the check id (a DKIM token), or ''."""
    return key[len(check) + 1 :] if key.startswith(check + "#") else ""


def label(n: Notification, *, reminder: str = "REMINDER", sep: str = " ") -> str:
    """The severity label of an open problem, marked when it is a reminder ("REMINDER CRITICAL").

    Every channel builds its label here; Slack asks for ``reminder="Reminder", sep=" · "``.
    """
    severity = n.severity.value.upper()
    return f"{reminder}{sep}{severity}" if n.event is Event.REMINDER else severity


def headline(n: Notification) -> str:
    """One line naming the event, the severity, the problem and the identity."""
    who = f"{visible(n.identity)} ({n.region})"
    if n.event is Event.RESOLVED:
        return f"RESOLVED: {title(n.check)} - {who}"
    if n.check == c.MONITOR_CANNOT_VERIFY:
        return f"{label(n)}: monitor cannot verify {who}"
    return f"{label(n)}: {title(n.check)} - {who}"


def cause_line(n: Notification) -> str:
    """The cause code and what it means, or "" when the finding has none."""
    if not n.cause:
        return ""
    entry = CAUSES.get(n.cause)
    return f"{n.cause} ({entry.title})" if entry else n.cause


def fix_command_for(n: Notification) -> str:
    """The exact ``ses-dkim-monitor fix`` command for this notification's identity, or ""."""
    return fix_command(region=n.region, identity=n.identity) if n.check in DNS_FIXABLE else ""


def sns_subject(n: Notification) -> str:
    """An SNS Subject: printable ASCII, one line, under 100 characters.

    The identity and region come first so a truncated subject still says
    which identity is affected; the title is what gets cut.
    """
    if n.event is Event.RESOLVED:
        lead = f"RESOLVED {n.identity} ({n.region})"
    else:
        lead = f"{label(n)} {n.identity} ({n.region})"
    return fit_subject(f"{lead}: {title(n.check)}")


def digest_subject(notifications: Sequence[Notification], *, part: int = 1, parts: int = 1) -> str:
    counts = _event_counts(notifications)
    worst = worst_severity(notifications)
    text = f"SES DKIM monitor: {len(notifications)} notifications ({counts}), worst {worst.value}"
    if parts > 1:
        text += f" [{part}/{parts}]"
    return fit_subject(text)


def fit_subject(text: str) -> str:
    clean = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in " ".join(text.split()))
    if len(clean) > SUBJECT_MAX:
        clean = clean[: SUBJECT_MAX - 3].rstrip() + "..."
    return clean or "SES DKIM monitor"


def observed_line(n: Notification) -> str:
    """When the problem started, and for a reminder how long it has lasted."""
    started = _iso(n.first_seen)
    if n.event is Event.REMINDER:
        return f"open since {started} ({_duration(n.at - n.first_seen)})"
    if n.event is Event.RESOLVED:
        return f"first seen {started}, resolved {_iso(n.at)} ({_duration(n.at - n.first_seen)})"
    return f"first seen {started}"


def text(n: Notification, *, links: PageLinks | None = None) -> str:
    """Readable plain text, for email subscribers of the SNS topic."""
    subject = subject_of(n.key, n.check)
    lines = [headline(n), ""]
    lines += [
        f"Identity: {visible(n.identity)}",
        f"Region:   {n.region}",
        f"Account:  {n.account}",
        f"Check:    {n.check}" + (f" ({visible(subject)})" if subject else ""),
        f"Severity: {n.severity.value}",
        f"When:     {observed_line(n)}",
    ]
    if n.cause:
        lines.append(f"Cause:    {cause_line(n)}")
    if n.reason:
        lines.append(f"Reason:   {visible(n.reason)}")
    if n.event is Event.RESOLVED:
        lines += ["", "Was:", f"  {visible(n.message)}"]
    else:
        lines += ["", "What the monitor saw:", f"  {visible(n.message)}", "", "Fix:", f"  {visible(n.fix)}"]
        if n.record is not None:
            record = n.record
            lines += ["", "Record to publish:", f"  {visible(f'{record.name}  {record.type}  {record.value}')}"]
        command = fix_command_for(n)
        if command:
            lines += ["", "Plan the DNS change (add --apply to make it in Route 53):", f"  {visible(command)}"]
    page = page_link(n, links)
    if page:
        lines += ["", f"Status page: {page}", "  (the AWS console: sign in to the monitor's account to open it)"]
    return "\n".join(lines) + "\n"


def payload(n: Notification, *, links: PageLinks | None = None) -> dict[str, Any]:
    """The structured form, for SQS/Lambda/HTTPS subscribers. Stable field names, only ever added to."""
    return {
        "schema": SCHEMA_NOTIFICATION,
        "event": n.event.value,
        "account": n.account,
        "region": n.region,
        "identity": n.identity,
        "check": n.check,
        "key": n.key,
        "title": title(n.check),
        "severity": n.severity.value,
        "message": n.message,
        "fix": n.fix,
        "record": None if n.record is None else {"name": n.record.name, "type": n.record.type, "value": n.record.value},
        "cause": n.cause or None,
        "fix_command": fix_command_for(n) or None,
        "reason": n.reason or None,
        "first_seen": _iso(n.first_seen),
        "at": _iso(n.at),
        "status_page": page_link(n, links),
    }


def digest_text(
    notifications: Sequence[Notification], *, part: int = 1, parts: int = 1, links: PageLinks | None = None
) -> str:
    """One email listing many notifications, most severe first."""
    head = digest_subject(notifications, part=part, parts=parts)
    lines = [head, ""]
    index = index_link(links)
    if index:
        lines += [f"Status page: {index}", "  (the AWS console: sign in to the monitor's account to open it)", ""]
    for n in sort_for_digest(notifications):
        lines.append(f"* {headline(n)} [account {n.account}]")
        if n.event is Event.RESOLVED:
            lines.append(f"    Reason: {visible(n.reason or 'resolved')}")
        else:
            if n.cause:
                lines.append(f"    Cause: {cause_line(n)}")
            lines.append(f"    Saw: {visible(n.message)}")
            lines.append(f"    Fix: {visible(n.fix)}")
        lines.append("")
    return "\n".join(lines)


def digest_payload(
    notifications: Sequence[Notification], *, part: int = 1, parts: int = 1, links: PageLinks | None = None
) -> dict[str, Any]:
    return {
        "schema": SCHEMA_DIGEST,
        "count": len(notifications),
        "part": part,
        "parts": parts,
        "notifications": [payload(n, links=links) for n in sort_for_digest(notifications)],
        "status_page": index_link(links),
    }


def sort_for_digest(notifications: Sequence[Notification]) -> list[Notification]:
    """Open problems before resolutions, most severe first, then by identity."""
    order = {Event.OPENED: 0, Event.REMINDER: 1, Event.RESOLVED: 2}
    return sorted(notifications, key=lambda n: (order[n.event], -n.severity.rank, n.identity, n.region, n.key))


def worst_severity(notifications: Sequence[Notification]) -> Severity:
    return max((n.severity for n in notifications), key=lambda s: s.rank, default=Severity.INFO)


def _event_counts(notifications: Sequence[Notification]) -> str:
    parts = []
    for event in (Event.OPENED, Event.REMINDER, Event.RESOLVED):
        count = sum(1 for n in notifications if n.event is event)
        if count:
            parts.append(f"{count} {event.value}")
    return ", ".join(parts)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _duration(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days"
    if hours >= 1:
        return f"{hours} h"
    return f"{max(int(delta.total_seconds() // 60), 0)} min"
