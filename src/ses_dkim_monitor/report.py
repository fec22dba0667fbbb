"""Rendering a ScanReport: the JSON contract and the terminal text.

Text from DNS and SES is untrusted. The text report replaces every control
and format character with a visible escape, so a TXT record cannot send
terminal escape sequences to the user's screen; the JSON report is written
with ``ensure_ascii`` so it is valid JSON whatever bytes a record held.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from .models import Finding, IdentityReport, IdentityStatus, ScanReport, Severity

# JSON report shape version: bumped only by additions (fields are never
# renamed or removed; see README "JSON report").
REPORT_VERSION = 1


def summary(report: ScanReport) -> dict[str, Any]:
    statuses = {s.value: 0 for s in IdentityStatus}
    severities = {s.value: 0 for s in Severity}
    for ident in report.identities:
        statuses[ident.status.value] += 1
        for f in ident.findings:
            severities[f.severity.value] += 1
    return {
        "identities": len(report.identities),
        **statuses,
        "findings": severities,
        "regions": list(report.regions),
        "regions_failed": [{"region": e.region, "reason": e.reason} for e in report.errors],
        "complete": not report.errors,
        "dns_lookups": report.dns_lookups,
        "dns_lookups_failed": report.dns_lookups_failed,
        "ses_calls": dict(sorted(report.ses_calls.items())),
        "generated_at": report.generated_at,
    }


def finding_json(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {"check": f.check, "severity": f.severity.value, "message": f.message, "fix": f.fix}
    if f.record is not None:
        out["record"] = {"name": f.record.name, "type": f.record.type, "value": f.record.value}
    return out


def identity_json(r: IdentityReport) -> dict[str, Any]:
    ident = r.identity
    out: dict[str, Any] = {
        "name": ident.name,
        "region": ident.region,
        "type": ident.type.value,
        "status": r.status.value,
        "findings": [finding_json(f) for f in r.findings],
    }
    if ident.type.value == "DOMAIN":
        out["dkim"] = {
            "signing_enabled": ident.dkim_enabled,
            "status": ident.dkim_status.value if ident.dkim_status else None,
            "origin": ident.signing_origin,
            "tokens": list(ident.dkim_tokens),
            "signing_hosted_zone": ident.signing_hosted_zone,
        }
    return out


def to_json(report: ScanReport) -> str:
    document = {
        "version": REPORT_VERSION,
        "identities": [identity_json(r) for r in report.identities],
        "summary": summary(report),
    }
    return json.dumps(document, indent=2, ensure_ascii=True)


def escape_terminal(text: str) -> str:
    """Make untrusted text safe to print: control/format characters become escapes."""
    out = []
    for ch in text:
        if unicodedata.category(ch)[0] == "C" and ch != " ":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


_COLOURS = {"critical": "\033[1;31m", "warning": "\033[33m", "info": "\033[36m",
            "ok": "\033[32m", "problem": "\033[1;31m", "unknown": "\033[35m"}
_RESET = "\033[0m"


def to_text(report: ScanReport, *, colour: bool = False) -> str:
    def paint(label: str, key: str) -> str:
        return f"{_COLOURS[key]}{label}{_RESET}" if colour else label

    lines: list[str] = []
    for r in report.identities:
        ident = r.identity
        head = f"{paint(r.status.value.upper(), r.status.value):<8} {escape_terminal(ident.name)}  [{ident.region}, {ident.type.value}]"
        lines.append(head)
        for f in r.findings:
            lines.append(f"  {paint(f.severity.value.upper(), f.severity.value)} {f.check}")
            lines.append(f"    {escape_terminal(f.message)}")
            lines.append(f"    fix: {escape_terminal(f.fix)}")
    s = summary(report)
    if not report.identities:
        lines.append("no SES identities found in " + ", ".join(report.regions))
    lines.append("")
    lines.append(
        f"{s['identities']} identities in {', '.join(report.regions)}: {s['ok']} ok, {s['problem']} with problems, "
        f"{s['unknown']} unknown; findings: {s['findings']['critical']} critical, {s['findings']['warning']} warning, "
        f"{s['findings']['info']} info; {s['dns_lookups']} DNS lookups ({s['dns_lookups_failed']} failed)"
    )
    for e in report.errors:
        lines.append(paint("INCOMPLETE", "critical") + f" {e.region}: {escape_terminal(e.reason)}")
    return "\n".join(lines) + "\n"
