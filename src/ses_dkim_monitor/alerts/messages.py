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

Each problem is said once: notifications of one check for one identity that
go out in the same run are one message (``bundles``), "3 notifications: A
DKIM CNAME is missing", each record's own sentence and then what they share
(``render.grouping``). Alert state keeps one key per finding, and a channel's
delivery result still maps every notification's ``state_id``.

Every word here is in the current language (``i18n``); check ids, causes,
severities, payload keys and message attributes never are translated.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from .. import catalogue as c
from ..catalogue import CAUSES, CHECKS
from ..fix_command import DNS_FIXABLE, fix_command
from ..i18n import _, ngettext, pgettext
from ..models import Severity
from ..render import grouping
from ..render.text_report import pad, wide
from ..untrusted import visible
from .model import REASON_DELETED, REASON_FIXED, REASON_VERIFIABLE, Event, Notification

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
    return _(entry.title) if entry else check


def subject_of(key: str, check: str) -> str:
    """The part of a finding key after the check id (a DKIM token), or ''."""
    return key[len(check) + 1 :] if key.startswith(check + "#") else ""


def label(n: Notification, *, reminder: str = "REMINDER", sep: str = " ") -> str:
    """The severity label of an open problem, marked when it is a reminder ("REMINDER CRITICAL").

    Every channel builds its label here; Slack asks for ``reminder="Reminder", sep=" · "``.
    """
    severity = grouping.word(n.severity.value)
    if reminder == "REMINDER":
        reminder = pgettext("label", "REMINDER")
    return f"{reminder}{sep}{severity}" if n.event is Event.REMINDER else severity


def headline(n: Notification) -> str:
    """One line naming the event, the severity, the problem and the identity."""
    return bundle_headline([n])


def bundle_headline(bundle: Sequence[Notification]) -> str:
    """``headline`` for one message about several records of one check: the title says how many."""
    n = bundle[0]
    who = f"{visible(n.identity)} ({n.region})"
    what = grouping.headline(n.check, len(bundle))
    if n.event is Event.RESOLVED:
        return _("RESOLVED: {title} - {who}").format(title=what, who=who)
    if n.check == c.MONITOR_CANNOT_VERIFY:
        return _("{label}: monitor cannot verify {who}").format(label=label(n), who=who)
    return _("{label}: {title} - {who}").format(label=label(n), title=what, who=who)


def reason(n: Notification) -> str:
    """Why a notification went out or was resolved, in the current language where it is one of ours."""
    known = {REASON_FIXED, REASON_DELETED, REASON_VERIFIABLE}
    return _(n.reason) if n.reason in known else n.reason


def bundles(notifications: Sequence[Notification]) -> list[list[Notification]]:
    """Notifications of one check, one identity and one event together, in their order: one message each."""
    found: dict[tuple[str, str, str, str, Event], list[Notification]] = {}
    for n in notifications:
        found.setdefault((n.account, n.region, n.identity.lower(), n.check, n.event), []).append(n)
    return list(found.values())


def cause_line(n: Notification) -> str:
    """The cause code and what it means, or "" when the finding has none."""
    if not n.cause:
        return ""
    entry = CAUSES.get(n.cause)
    return f"{n.cause} ({grouping.cause_title(n.cause)})" if entry else n.cause


def fix_command_for(n: Notification) -> str:
    """The exact ``ses-dkim-monitor fix`` command for this notification's identity, or ""."""
    return fix_command(region=n.region, identity=n.identity) if n.check in DNS_FIXABLE else ""


def sns_subject(n: Notification, count: int = 1) -> str:
    """An SNS Subject: UTF-8 text on one line without control characters, under 100 characters.

    The identity and region come first so a truncated subject still says
    which identity is affected; the title is what gets cut. ``count``: the
    records one message is about (``bundles``).
    """
    if n.event is Event.RESOLVED:
        lead = _("RESOLVED {identity} ({region})").format(identity=n.identity, region=n.region)
    else:
        lead = f"{label(n)} {n.identity} ({n.region})"
    return fit_subject(f"{lead}: {grouping.headline(n.check, count)}")


def digest_subject(notifications: Sequence[Notification], *, part: int = 1, parts: int = 1) -> str:
    counts = _event_counts(notifications)
    worst = grouping.severity_word(worst_severity(notifications).value)
    text = _("SES DKIM monitor: {count} notifications ({counts}), worst {worst}").format(
        count=len(notifications), counts=counts, worst=worst
    )
    if parts > 1:
        text += f" [{part}/{parts}]"
    return fit_subject(text)


def fit_subject(text: str) -> str:
    """``text`` as SNS takes a Subject (botocore's model: "UTF-8 text with no line breaks or control
    characters, and less than 100 characters long"): Japanese stays Japanese; controls, format characters and
    line separators become spaces; cut at 99 characters, ending in "..."."""
    shown = "".join(" " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in text)
    clean = " ".join(shown.split())
    if len(clean) > SUBJECT_MAX:
        clean = clean[: SUBJECT_MAX - 3].rstrip() + "..."
    return clean or "SES DKIM monitor"


def observed_line(n: Notification) -> str:
    """When the problem started, and for a reminder how long it has lasted."""
    started = _iso(n.first_seen)
    if n.event is Event.REMINDER:
        return _("open since {started} ({duration})").format(started=started, duration=_duration(n.at - n.first_seen))
    if n.event is Event.RESOLVED:
        return _("first seen {started}, resolved {resolved} ({duration})").format(
            started=started, resolved=_iso(n.at), duration=_duration(n.at - n.first_seen)
        )
    return _("first seen {started}").format(started=started)


def text(n: Notification, *, links: PageLinks | None = None) -> str:
    """Readable plain text, for email subscribers of the SNS topic."""
    return bundle_text([n], links=links)


def _field(name: str, value: str) -> str:
    """``Identity: example.jp``: the field names of the message, padded to one column in any language."""
    return f"{name}: {value}"


def bundle_text(bundle: Sequence[Notification], *, links: PageLinks | None = None) -> str:
    """One email about one check's notifications for one identity: each record once, what they share once."""
    n = bundle[0]
    subjects = [subject_of(m.key, m.check) for m in bundle]
    shown = ", ".join(visible(s) for s in subjects if s)
    fields = [
        (_("Identity"), visible(n.identity)),
        (_("Region"), n.region),
        (_("Account"), n.account),
        (_("Check"), n.check + (f" ({shown})" if shown else "")),
        (_("Severity"), grouping.severity_word(grouping_worst(bundle).value)),
        (_("When"), observed_line(n)),
    ]
    causes = list(dict.fromkeys(cause_line(m) for m in bundle if m.cause))
    if causes:
        fields.append((_("Cause"), "; ".join(causes)))
    reasons = list(dict.fromkeys(visible(reason(m)) for m in bundle if m.reason))
    if reasons:
        fields.append((_("Reason"), "; ".join(reasons)))
    width = max(wide(name) for name, _value in fields) + 1
    lines = [bundle_headline(bundle), "", *(f"{pad(name + ':', width)} {value}" for name, value in fields)]
    messages, shared_message = grouping.split_common([m.message for m in bundle])
    if n.event is Event.RESOLVED:
        lines += ["", _("Was:"), *_items(messages, shared_message)]
    else:
        fixes, shared_fix = grouping.split_common([m.fix for m in bundle])
        lines += ["", _("What the monitor saw:"), *_items(messages, shared_message), "", _("Fix:")]
        lines += _items(fixes, shared_fix)
        records = [m.record for m in bundle if m.record is not None]
        if records:
            lines += ["", ngettext("Record to publish:", "Records to publish:", len(records))]
            lines += [f"  {visible(f'{r.name}  {r.type}  {r.value}')}" for r in records]
        command = fix_command_for(n)
        if command:
            lines += ["", _("Plan the DNS change (add --apply to make it in Route 53):"), f"  {visible(command)}"]
    page = page_link(n, links)
    if page:
        lines += [
            "",
            _field(_("Status page"), page),
            "  " + _("(the AWS console: sign in to the monitor's account to open it)"),
        ]
    return "\n".join(lines) + "\n"


def _items(own: Sequence[str], shared: str) -> list[str]:
    """Each record's own text (a list when there are several), then what they all share, once."""
    own = [t for t in own if t]
    lines = [f"  {visible(own[0])}"] if len(own) == 1 else [f"  - {visible(t)}" for t in own]
    return lines + ([f"  {visible(shared)}"] if shared else [])


def grouping_worst(bundle: Sequence[Notification]) -> Severity:
    return max((m.severity for m in bundle), key=lambda s: s.rank)


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


def bundle_payload(bundle: Sequence[Notification], *, links: PageLinks | None = None) -> dict[str, Any]:
    """``payload`` of the first notification, and with several, ``notifications``: each one's own payload.

    The top-level fields stay those of one notification (the schema is only
    ever added to), so a consumer that reads one notification per message
    still works; one that reads ``notifications`` sees every record.
    """
    out = payload(bundle[0], links=links)
    if len(bundle) > 1:
        out["count"] = len(bundle)
        out["notifications"] = [payload(n, links=links) for n in bundle]
    return out


def digest_text(
    notifications: Sequence[Notification], *, part: int = 1, parts: int = 1, links: PageLinks | None = None
) -> str:
    """One email listing many notifications, most severe first; one check's for one identity said once."""
    head = digest_subject(notifications, part=part, parts=parts)
    lines = [head, ""]
    index = index_link(links)
    if index:
        lines += [
            _field(_("Status page"), index),
            "  " + _("(the AWS console: sign in to the monitor's account to open it)"),
            "",
        ]
    for bundle in bundles(sort_for_digest(notifications)):
        n = bundle[0]
        account = _("account {account}").format(account=n.account)
        lines.append(f"* {bundle_headline(bundle)} [{account}]")
        if n.event is Event.RESOLVED:
            why = "; ".join(dict.fromkeys(reason(m) or _("resolved") for m in bundle))
            lines.append("    " + _field(_("Reason"), visible(why)))
        else:
            causes = list(dict.fromkeys(cause_line(m) for m in bundle if m.cause))
            if causes:
                lines.append("    " + _field(_("Cause"), "; ".join(causes)))
            messages, shared = grouping.split_common([m.message for m in bundle])
            saw = " / ".join([*filter(None, messages), *filter(None, [shared])])
            lines.append("    " + _field(_("Saw"), visible(saw)))
            fixes, shared_fix = grouping.split_common([m.fix for m in bundle])
            fix = " / ".join([*filter(None, fixes), *filter(None, [shared_fix])])
            lines.append("    " + _field(_("Fix"), visible(fix)))
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
    words = {
        Event.OPENED: _("{count} opened"),
        Event.REMINDER: _("{count} reminder"),
        Event.RESOLVED: _("{count} resolved"),
    }
    parts = []
    for event in (Event.OPENED, Event.REMINDER, Event.RESOLVED):
        count = sum(1 for n in notifications if n.event is event)
        if count:
            parts.append(words[event].format(count=count))
    return ", ".join(parts)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _duration(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48:
        return _("{days} days").format(days=hours // 24)
    if hours >= 1:
        return _("{hours} h").format(hours=hours)
    return _("{minutes} min").format(minutes=max(int(delta.total_seconds() // 60), 0))
