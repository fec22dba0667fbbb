"""SES's own view, side by side with ours: Virtual Deliverability Manager's open recommendations.

Optional (``IMPORT_SES_RECOMMENDATIONS``). Where the account has Virtual
Deliverability Manager enabled (``GetAccount``), each shard's open
recommendations are read (``ListRecommendations``, 100 a page, through the
shard's paced client: SES allows it once per second). Each open DKIM, SPF or
DMARC recommendation that names an identity of the report, and that none of
our findings of the same kind already explains, becomes a
``ses-recommendation`` finding quoting SES's description. Where VDM is not
enabled, that is said once per shard and process in the log, and the scan
carries on. A failed read is logged, and the report says the check was not
evaluated, so an open ``ses-recommendation`` alert is kept, not resolved.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import catalogue as c
from ..aws_errors import error_code
from ..catalogue import finding
from ..models import IdentityReport, IdentityStatus, Severity
from ..untrusted import quoted

log = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("ses:GetAccount", "ses:ListRecommendations")

# A recommendation type -> the check-id prefixes of our findings that already explain it.
EXPLAINED_BY: dict[str, tuple[str, ...]] = {
    "DKIM": ("dkim-",),
    "SPF": ("spf-", "mail-from-"),
    "DMARC": ("dmarc-",),
}
MAX_PAGES = 100  # 10,000 recommendations: a bound, so a broken paging token cannot loop forever

_said_not_enabled: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Recommendation:
    identity: str
    type: str
    description: str
    impact: str


def read(sesv2: Any, *, account: str, region: str) -> list[Recommendation] | None:
    """Open DKIM, SPF and DMARC recommendations about identities ([] without VDM); None when unreadable."""
    try:
        vdm = (sesv2.get_account().get("VdmAttributes") or {}).get("VdmEnabled")
        if vdm != "ENABLED":
            if (account, region) not in _said_not_enabled:
                _said_not_enabled.add((account, region))
                log.info(
                    "Virtual Deliverability Manager is not enabled: SES recommendations not imported",
                    extra={"account": account, "region": region},
                )
            return []
        found: list[Recommendation] = []
        kwargs: dict[str, Any] = {"Filter": {"STATUS": "OPEN"}, "PageSize": 100}
        for _ in range(MAX_PAGES):
            page = sesv2.list_recommendations(**kwargs)
            found += [r for item in page.get("Recommendations", []) if (r := _parse(item)) is not None]
            token = page.get("NextToken")
            if not token or token == kwargs.get("NextToken"):
                break
            kwargs["NextToken"] = token
        return found
    except (ClientError, BotoCoreError) as exc:
        code = error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__
        log.warning(
            "SES recommendations could not be read", extra={"account": account, "region": region, "error": code}
        )
        return None


def _parse(item: dict[str, Any]) -> Recommendation | None:
    kind = item.get("Type")
    arn = item.get("ResourceArn") or ""
    resource = arn.split(":", 5)[-1] if arn.count(":") >= 5 else ""
    prefix, _, name = resource.partition("/")
    if kind not in EXPLAINED_BY or prefix != "identity" or not name or item.get("Status", "OPEN") != "OPEN":
        return None
    return Recommendation(name, kind, str(item.get("Description") or ""), str(item.get("Impact") or "HIGH"))


def merge(reports: Sequence[IdentityReport], recommendations: Sequence[Recommendation]) -> list[IdentityReport]:
    """The reports with a ``ses-recommendation`` finding for each recommendation our findings do not explain."""
    by_name: dict[str, list[Recommendation]] = {}
    for rec in recommendations:
        by_name.setdefault(rec.identity.lower(), []).append(rec)
    merged = []
    for report in reports:
        added = []
        for rec in by_name.get(report.identity.name.lower(), []):
            prefixes = EXPLAINED_BY[rec.type]
            if any(f.check.startswith(prefixes) for f in report.findings):
                continue
            added.append(
                finding(
                    c.SES_RECOMMENDATION,
                    f"SES recommends ({rec.type}, {rec.impact.lower()} impact) for {report.identity.name}: "
                    f"{quoted(rec.description, 300)}",
                    severity=Severity.WARNING if rec.impact == "HIGH" else Severity.INFO,
                    subject=rec.type.lower(),
                    description=quoted(rec.description, 300),
                )
            )
        if not added:
            merged.append(report)
            continue
        status = report.status
        if status is IdentityStatus.OK and any(f.severity.at_least(Severity.WARNING) for f in added):
            status = IdentityStatus.PROBLEM
        merged.append(replace(report, findings=(*report.findings, *added), status=status))
    return merged
