"""Say each problem once: one check's findings for one identity shown as one group. Presentation only.

The JSON report keeps one finding per token and alert state keeps its keys;
the text report, the status page, email and Slack show a check's findings for
an identity together: "3 of 3 DKIM CNAMEs are missing", each record's own
sentence, then what is the same for all of them (the consequence, who serves
the zone, what the provider's form does) once.

Messages and fixes are written with what is the same for every record last
(``i18n.sentences``), so the shared part is the texts' common ending, cut at
the start of a sentence. This works on the texts themselves, in any
language, and so on alerts, which carry only the texts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .. import catalogue as c
from .. import form_advice, i18n
from ..i18n import _, ngettext, pgettext
from ..models import DnsRecord, Finding, IdentityReport, Severity


def split_common(texts: Sequence[str]) -> tuple[list[str], str]:
    """Each text's own part, and the sentences they all end with ("" when none): ``a. X. Y.`` / ``b. X. Y.``."""
    if not texts:
        return [], ""
    if len(texts) == 1:
        return [texts[0]], ""
    first = texts[0]
    common = 0
    while common < min(len(t) for t in texts) and len({t[len(t) - common - 1] for t in texts}) == 1:
        common += 1
    start = len(first) - common
    while start < len(first) and not _starts_sentence(first, start):
        start += 1
    shared = first[start:].strip()
    if not shared:
        return list(texts), ""
    return [t[: len(t) - len(first) + start].strip() for t in texts], shared


def _starts_sentence(text: str, at: int) -> bool:
    """After "。"; after ". " only in English: in Japanese that is the trailing dot of a name (``example.com. を``)."""
    if at == 0:
        return True
    before = text[:at]
    return before.endswith("。") or (i18n.current() != "ja" and before.endswith(". "))


@dataclass(frozen=True)
class Group:
    """One check's findings for one identity, and what they share."""

    check: str
    findings: tuple[Finding, ...]
    messages: tuple[str, ...]  # each finding's own part of its message
    message: str  # what every message ends with ("" when nothing)
    fixes: tuple[str, ...]
    fix: str

    @property
    def severity(self) -> Severity:
        return max((f.severity for f in self.findings), key=lambda s: s.rank)

    @property
    def cause(self) -> str:
        """The cause every finding shares ("" when they differ or have none): explained once."""
        causes = {f.cause for f in self.findings}
        return causes.pop() if len(causes) == 1 else ""

    @property
    def records(self) -> tuple[DnsRecord, ...]:
        return tuple(f.record for f in self.findings if f.record is not None)

    @property
    def misplaced(self) -> tuple[DnsRecord, ...]:
        return tuple(f.misplaced for f in self.findings if f.misplaced is not None)


def groups(findings: Sequence[Finding], *, drop: str = "") -> list[Group]:
    """The findings by check, in their order; ``drop``: a sentence said elsewhere (who serves the zone)."""
    by_check: dict[str, list[Finding]] = {}
    for f in findings:
        by_check.setdefault(f.check, []).append(f)
    out = []
    for check, members in by_check.items():
        fixes: list[str]
        messages, message = split_common([f.message for f in members])
        if len(members) > 1 and all(_only_publishes(f) for f in members):
            fixes, fix = [], ""  # each fix only says to publish its record: the records block says it once
        else:
            fixes, fix = split_common([_without(f.fix, drop) for f in members])
        out.append(Group(check, tuple(members), tuple(messages), message, tuple(fixes), fix))
    return out


def _only_publishes(f: Finding) -> bool:
    """The finding's fix is its check's own template filled with its record, and says nothing more."""
    entry = c.CHECKS.get(f.check)
    if f.record is None or entry is None or f.cause:
        return False
    record = f.record
    return f.fix == _(entry.fix).format(name=record.name, type=record.type, value=record.value)


def _without(text: str, sentence: str) -> str:
    if not sentence or sentence not in text:
        return text
    return re.sub(r"\s{2,}", " ", text.replace(sentence, "")).strip()


def served_line(report: IdentityReport) -> str:
    """Who serves the identity's zone (only known when a finding needs a DNS change), or ""."""
    zone = report.zone
    return form_advice.served_sentence(zone.apex, zone.nameservers) if zone is not None else ""


def word(kind: str) -> str:
    """A status or severity as a label (``CRITICAL``, ``PROBLEM``), in the current language."""
    words = {
        "critical": pgettext("severity", "CRITICAL"),
        "warning": pgettext("severity", "WARNING"),
        "info": pgettext("severity", "INFO"),
        "ok": pgettext("status", "OK"),
        "problem": pgettext("status", "PROBLEM"),
        "unknown": pgettext("status", "UNKNOWN"),
        "incomplete": pgettext("status", "INCOMPLETE"),
    }
    return words.get(kind, kind.upper())


def severity_word(severity: str) -> str:
    """A severity in running text (``worst critical``), in the current language."""
    words = {
        "critical": pgettext("severity", "critical"),
        "warning": pgettext("severity", "warning"),
        "info": pgettext("severity", "info"),
    }
    return words.get(severity, severity)


def title(check: str) -> str:
    entry = c.CHECKS.get(check)
    return _(entry.title) if entry else check


def cause_title(cause: str) -> str:
    entry = c.CAUSES.get(cause)
    return _(entry.title) if entry else cause


def headline(check: str, count: int, *, total: int | None = None) -> str:
    """ "3 of 3 DKIM CNAMEs are missing", or the check's title with the number of records."""
    if check == c.DKIM_RECORD_MISSING and total:
        return ngettext(
            "{count} of {total} DKIM CNAME is missing", "{count} of {total} DKIM CNAMEs are missing", count
        ).format(count=count, total=total)
    if count == 1:
        return title(check)
    return ngettext("{title} ({count} record)", "{title} ({count} records)", count).format(
        title=title(check), count=count
    )


def total_of(report: IdentityReport, check: str) -> int | None:
    """How many records the check looks at for this identity, where that is known (its DKIM tokens)."""
    if check == c.DKIM_RECORD_MISSING and not report.identity.is_byodkim:
        return len(report.identity.dkim_tokens) or None
    return None
