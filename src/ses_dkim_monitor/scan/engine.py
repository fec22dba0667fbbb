"""The scan engine: inventory -> DNS probe -> checks, for every region.

One engine behind the CLI and the Lambda. It receives a client factory and a
DNS probe, so the composition roots decide how those are built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ..models import (
    IdentityReport,
    IdentityStatus,
    IdentityType,
    ScanReport,
    SesIdentity,
    ShardError,
)
from .checks import evaluate
from .dns_answers import DomainDns, points_elsewhere
from .dns_probe import DnsProbe, ProbeRequest
from .inventory import InventoryError, SesInventory, with_signing_detail

log = logging.getLogger(__name__)

ClientFactory = Callable[[str, str], Any]  # (service name, region) -> boto3 client


def _probe_request(identity: SesIdentity, check_dmarc: bool) -> ProbeRequest:
    return ProbeRequest(
        domain=identity.domain,
        tokens=identity.dkim_tokens,
        byodkim=identity.is_byodkim,
        mail_from=identity.mail_from.domain if identity.mail_from else None,
        dmarc=check_dmarc,
    )


def _off_zone_targets(identity: SesIdentity, dns: DomainDns) -> bool:
    """True when a CNAME points somewhere other than the predicted zone.

    Before reporting a wrong target from a predicted zone, the engine asks
    GetEmailIdentity for the real SigningHostedZone (Deterministic Easy DKIM
    and new regional zones point elsewhere legitimately).
    """
    if identity.zone_confirmed:
        return False
    return any(points_elsewhere(identity, tok) for tok in dns.tokens)


def _confirm_zone(
    ident: SesIdentity, dns: DomainDns, inventory: SesInventory, learned_zone: dict[str, str]
) -> SesIdentity | None:
    """The identity with its real SigningHostedZone, before a wrong target is reported.

    A zone learnt from an earlier identity of the same region is tried first,
    so a region missing from the prediction table costs one GetEmailIdentity,
    not one per identity. None means the identity was deleted meanwhile.
    """
    learned = learned_zone.get(ident.region)
    if learned and learned != ident.signing_hosted_zone:
        relearned = replace(ident, signing_hosted_zone=learned)
        if not _off_zone_targets(relearned, dns):
            return relearned
    try:
        detail = inventory.signing_detail(ident.name)
    except InventoryError as exc:
        # Report against the predicted zone; the next run tries again.
        log.warning(
            "could not confirm signing zone",
            extra={"identity": ident.name, "region": ident.region, "reason": exc.reason},
        )
        return ident
    if detail is None:
        return None
    if detail.hosted_zone and detail.origin == "AWS_SES":
        learned_zone[ident.region] = detail.hosted_zone
    return with_signing_detail(ident, detail)


def _sort_key(report: IdentityReport) -> tuple[int, int, str, str]:
    order = {IdentityStatus.PROBLEM: 0, IdentityStatus.UNKNOWN: 1, IdentityStatus.OK: 2}[report.status]
    worst = report.worst.rank if report.worst else 0
    return (order, -worst, report.identity.region, report.identity.name)


def run_scan(
    *,
    regions: Iterable[str],
    client: ClientFactory,
    probe: DnsProbe,
    check_dmarc: bool = True,
    only: Iterable[str] = (),
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ScanReport:
    """Scan every region; a region that cannot be read is recorded, not fatal.

    ``only`` restricts the report (and the DNS work) to the named identities;
    the whole region is still listed so an address can find its domain.
    """
    wanted = {name.lower() for name in only}
    regions = tuple(dict.fromkeys(regions))
    errors: list[ShardError] = []
    inventories: dict[str, SesInventory] = {}  # every region's, failed ones too (their calls count)
    identities: list[SesIdentity] = []

    for region in regions:
        inventory = SesInventory(sesv2=client("sesv2", region), ses=client("ses", region), region=region)
        inventories[region] = inventory
        try:
            found = inventory.load()
        except InventoryError as exc:
            log.error("region could not be scanned", extra={"region": region, "reason": exc.reason})
            errors.append(ShardError(region=region, reason=exc.reason))
            continue
        identities.extend(found)

    domains_by_region: dict[str, dict[str, SesIdentity]] = {}
    for ident in identities:
        if ident.type is IdentityType.DOMAIN:
            domains_by_region.setdefault(ident.region, {})[ident.domain] = ident
    selected = [i for i in identities if not wanted or i.name.lower() in wanted]

    domain_idents = [i for i in selected if i.type is IdentityType.DOMAIN]
    requests = {(i.region, i.name): _probe_request(i, check_dmarc) for i in domain_idents}
    answers = probe.probe_all(set(requests.values()))

    reports: list[IdentityReport] = []
    learned_zone: dict[str, str] = {}
    for ident in selected:
        dns = answers.get(requests[(ident.region, ident.name)]) if ident.type is IdentityType.DOMAIN else None
        if dns is not None and _off_zone_targets(ident, dns):
            confirmed = _confirm_zone(ident, dns, inventories[ident.region], learned_zone)
            if confirmed is None:
                continue  # deleted since it was listed
            if confirmed.dkim_tokens != ident.dkim_tokens:
                dns = probe.probe_all([_probe_request(confirmed, check_dmarc)]).popitem()[1]
            ident = confirmed
        report = evaluate(ident, dns, domains_by_region.get(ident.region, {}))
        for f in report.findings:
            log.info(
                "finding",
                extra={"identity": ident.name, "region": ident.region, "check": f.check, "severity": f.severity.value},
            )
        reports.append(report)

    reports.sort(key=_sort_key)
    calls: dict[str, int] = {}
    for inventory in inventories.values():
        for op, count in inventory.calls.items():
            calls[op] = calls.get(op, 0) + count
    return ScanReport(
        identities=tuple(reports),
        regions=regions,
        generated_at=now().isoformat(timespec="seconds"),
        dns_lookups=probe.lookups,
        dns_lookups_failed=probe.failed,
        ses_calls=calls,
        errors=tuple(errors),
    )
