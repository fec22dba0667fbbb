"""The JSON report: a public contract (docs/json-report.md).

Written with ``ensure_ascii`` so it is valid JSON whatever bytes a DNS record
held. Fields are only ever added; ``summary`` is also what the Lambda's
metrics and result are built from.
"""

from __future__ import annotations

import json
from typing import Any

from ..models import Finding, IdentityReport, IdentityStatus, ScanReport, Severity

# JSON report shape version: bumped only by additions (fields are never
# renamed or removed; see docs/json-report.md).
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
