"""The terminal report: problems first, each check's findings for an identity said once, with its fix.

Text from DNS and SES is untrusted: every control and format character is
replaced with a visible escape (``untrusted.visible``), so a TXT record cannot
send terminal escape sequences to the user's screen. Labels are in the
current language (``i18n``); check ids, causes and severities never are
translated, and columns are padded by display width (``wide``), so a Japanese
label lines up with an English one in a terminal.
"""

from __future__ import annotations

import unicodedata

from ..fix_command import dns_fixable, fix_command
from ..i18n import _
from ..models import IdentityReport, ScanReport
from ..untrusted import visible
from . import grouping
from .json_report import summary

_COLOURS = {
    "critical": "\033[1;31m",
    "warning": "\033[33m",
    "info": "\033[36m",
    "ok": "\033[32m",
    "problem": "\033[1;31m",
    "unknown": "\033[35m",
}
_RESET = "\033[0m"


def wide(text: str) -> int:
    """Columns ``text`` takes in a terminal: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns."""
    return text + " " * max(width - wide(text), 0)


def status_word(status: str) -> str:
    return grouping.word(status)


def to_text(report: ScanReport, *, colour: bool = False) -> str:
    def paint(label: str, key: str) -> str:
        return f"{_COLOURS[key]}{label}{_RESET}" if colour else label

    lines: list[str] = []
    width = max(wide(status_word(s)) for s in ("ok", "problem", "unknown")) + 1
    for r in report.identities:
        ident = r.identity
        status = paint(pad(status_word(r.status.value), width), r.status.value)
        where = ", ".join(part for part in (ident.account, ident.region, ident.type.value) if part)
        lines.append(f"{status} {visible(ident.name)}  [{where}]")
        lines += _findings(r, paint)
        if any(dns_fixable(f) for f in r.findings):
            command = visible(fix_command(region=ident.region, identity=ident.name))
            lines.append("  " + _("plan the DNS change: {command}").format(command=command))
    s = summary(report)
    if not report.identities:
        lines.append(_("no SES identities found in {regions}").format(regions=", ".join(report.regions)))
    lines.append("")
    counts = {
        "identities": s["identities"],
        "regions": ", ".join(report.regions),
        "ok": s["ok"],
        "problem": s["problem"],
        "unknown": s["unknown"],
        "critical": s["findings"]["critical"],
        "warning": s["findings"]["warning"],
        "info": s["findings"]["info"],
        "lookups": s["dns_lookups"],
        "failed": s["dns_lookups_failed"],
    }
    if len(report.accounts) > 1:
        line = _(
            "{identities} identities in {accounts} accounts, {regions}: {ok} ok, {problem} with problems, {unknown} "
            "unknown; findings: {critical} critical, {warning} warning, {info} info; {lookups} DNS lookups ({failed} "
            "failed)"
        ).format(accounts=len(report.accounts), **counts)
    else:
        line = _(
            "{identities} identities in {regions}: {ok} ok, {problem} with problems, {unknown} unknown; findings: "
            "{critical} critical, {warning} warning, {info} info; {lookups} DNS lookups ({failed} failed)"
        ).format(**counts)
    lines.append(line)
    for e in report.errors:
        shard = f"{e.account}/{e.region}" if e.account else e.region
        lines.append(paint(grouping.word("incomplete"), "critical") + f" {shard}: {visible(e.reason)}")
    return "\n".join(lines) + "\n"


def _findings(r: IdentityReport, paint: object) -> list[str]:
    """The identity's findings, a check's findings for it said once (``grouping``)."""
    assert callable(paint)
    served = grouping.served_line(r)
    lines = [f"  {visible(served)}"] if served else []
    for g in grouping.groups(r.findings, drop=served):
        head = paint(grouping.word(g.severity.value), g.severity.value)
        if len(g.findings) == 1:
            f = g.findings[0]
            cause = f" ({f.cause})" if f.cause else ""
            lines.append(f"  {head} {f.check}{cause}")
            lines.append(f"    {visible(f.message)}")
            lines.append("    " + _("fix:") + f" {visible(g.fixes[0])}")
            continue
        cause = f" ({g.cause})" if g.cause else ""
        count = grouping.headline(g.check, len(g.findings), total=grouping.total_of(r, g.check))
        lines.append(f"  {head} {g.check}{cause}: {visible(count)}")
        if g.cause:
            lines.append("    " + _("cause:") + f" {visible(grouping.cause_title(g.cause))}")
        lines += [f"    - {visible(m)}" for m in g.messages if m]
        if g.message:
            lines.append(f"    {visible(g.message)}")
        if g.fixes or g.fix:  # none: each fix only published its record, which the block below lists
            lines.append("    " + _("fix:"))
            lines += [f"    - {visible(fix)}" for fix in g.fixes if fix]
        if g.fix:
            lines.append(f"    {visible(g.fix)}")
        if g.records:
            lines.append("    " + _("records to publish:"))
            lines += _record_lines(g.records)
    return lines


def _record_lines(records: tuple) -> list[str]:
    """Records as an aligned block: name, type, value (display width, so wide characters line up)."""
    name_width = max(wide(visible(rec.name)) for rec in records)
    return [f"      {pad(visible(rec.name), name_width)}  {rec.type:<5}  {visible(rec.value)}" for rec in records]
