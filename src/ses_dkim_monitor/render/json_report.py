"""The JSON report: a public contract (docs/json-report.md).

Written with ``ensure_ascii`` so it is valid JSON whatever bytes a DNS record
held. Fields are only ever added; ``summary`` is also what the Lambda's
metrics and result are built from.
"""

from __future__ import annotations

import io
import json
from typing import Any, TextIO

from .. import i18n, providers
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
        "accounts": list(report.accounts),
        "regions_failed": [{"region": e.region, "reason": e.reason} for e in report.errors],
        "shards_failed": [{"account": e.account, "region": e.region, "reason": e.reason} for e in report.errors],
        "complete": not report.errors,
        "dns_lookups": report.dns_lookups,
        "dns_lookups_failed": report.dns_lookups_failed,
        "ses_calls": dict(sorted(report.ses_calls.items())),
        "ses_throttled": report.ses_throttled,
        "out_of_time": report.out_of_time,
        "generated_at": report.generated_at,
        # The language ``message`` and ``fix`` are written in (en, ja); every other value is the same in both.
        "language": i18n.current(),
    }


def finding_json(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {"check": f.check, "severity": f.severity.value, "message": f.message, "fix": f.fix}
    if f.cause:
        out["cause"] = f.cause
    if f.record is not None:
        out["record"] = {"name": f.record.name, "type": f.record.type, "value": f.record.value}
    if f.misplaced is not None:
        out["misplaced"] = {"name": f.misplaced.name, "type": f.misplaced.type, "value": f.misplaced.value}
    return out


def identity_json(r: IdentityReport) -> dict[str, Any]:
    ident = r.identity
    out: dict[str, Any] = {
        "name": ident.name,
        "account": ident.account,
        "region": ident.region,
        "type": ident.type.value,
        "status": r.status.value,
        "findings": [finding_json(f) for f in r.findings],
    }
    out["dns_provider"] = dns_provider(r)
    if ident.type.value == "DOMAIN":
        out["dkim"] = {
            "signing_enabled": ident.dkim_enabled,
            "status": ident.dkim_status.value if ident.dkim_status else None,
            "origin": ident.signing_origin,
            "tokens": list(ident.dkim_tokens),
            "signing_hosted_zone": ident.signing_hosted_zone,
        }
    return out


def dns_provider(r: IdentityReport) -> dict[str, Any] | None:
    """Who serves the identity's zone: asked only when a finding needs a DNS change, else None.

    ``id`` and ``name`` are None when the name servers are not a provider the
    monitor knows (docs/providers.md); ``name`` is the provider's English name.
    """
    if r.zone is None:
        return None
    served = providers.served_by(r.zone.nameservers)
    return {
        "id": served.provider.id if served else None,
        "name": served.provider.name_en if served else None,
        "zone": r.zone.apex,
        "nameservers": list(r.zone.nameservers),
    }


def to_json(report: ScanReport) -> str:
    out = io.StringIO()
    write_json(report, out)
    return out.getvalue()


def write_json(report: ScanReport, out: TextIO) -> None:
    """The report as one JSON document, written an identity at a time.

    The same document as ``json.dumps`` of the whole would give (indent 2),
    without building it in memory first: 10,000 identities' text would
    otherwise be held twice, as objects and as one string.
    """
    out.write(f'{{\n  "version": {REPORT_VERSION},\n  "identities": [')
    for i, r in enumerate(report.identities):
        body = json.dumps(identity_json(r), indent=2, ensure_ascii=True).replace("\n", "\n    ")
        out.write(("," if i else "") + "\n    " + body)
    out.write("\n  ]," if report.identities else "],")
    body = json.dumps(summary(report), indent=2, ensure_ascii=True).replace("\n", "\n  ")
    out.write(f'\n  "summary": {body}\n}}')
