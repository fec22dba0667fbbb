"""The terminal report: problems first, each with its fix.

Text from DNS and SES is untrusted: every control and format character is
replaced with a visible escape (``untrusted.visible``), so a TXT record cannot
send terminal escape sequences to the user's screen.
"""

from __future__ import annotations

from ..fix_command import dns_fixable, fix_command
from ..models import ScanReport
from ..untrusted import visible
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


def to_text(report: ScanReport, *, colour: bool = False) -> str:
    def paint(label: str, key: str) -> str:
        return f"{_COLOURS[key]}{label}{_RESET}" if colour else label

    lines: list[str] = []
    for r in report.identities:
        ident = r.identity
        status = paint(f"{r.status.value.upper():<8}", r.status.value)
        where = ", ".join(part for part in (ident.account, ident.region, ident.type.value) if part)
        lines.append(f"{status} {visible(ident.name)}  [{where}]")
        for f in r.findings:
            cause = f" ({f.cause})" if f.cause else ""
            lines.append(f"  {paint(f.severity.value.upper(), f.severity.value)} {f.check}{cause}")
            lines.append(f"    {visible(f.message)}")
            lines.append(f"    fix: {visible(f.fix)}")
        if any(dns_fixable(f) for f in r.findings):
            lines.append(f"  plan the DNS change: {visible(fix_command(region=ident.region, identity=ident.name))}")
    s = summary(report)
    if not report.identities:
        lines.append("no SES identities found in " + ", ".join(report.regions))
    lines.append("")
    accounts = f"{len(report.accounts)} accounts, " if len(report.accounts) > 1 else ""
    lines.append(
        f"{s['identities']} identities in {accounts}{', '.join(report.regions)}: {s['ok']} ok, "
        f"{s['problem']} with problems, "
        f"{s['unknown']} unknown; findings: {s['findings']['critical']} critical, {s['findings']['warning']} warning, "
        f"{s['findings']['info']} info; {s['dns_lookups']} DNS lookups ({s['dns_lookups_failed']} failed)"
    )
    for e in report.errors:
        shard = f"{e.account}/{e.region}" if e.account else e.region
        lines.append(paint("INCOMPLETE", "critical") + f" {shard}: {visible(e.reason)}")
    return "\n".join(lines) + "\n"
