"""Which findings a DNS change fixes, which it cannot, and which the plan leaves out. Pure.

A finding is fixed in DNS when it names the record to publish
(``finding.record``) and, for a record in the wrong place or form, the one to
delete (``finding.misplaced``): a missing or wrong DKIM CNAME, a missing
MAIL FROM MX or SPF record, a missing DMARC record. Everything else
(signing turned off, an unverified identity, SES's own status, an address
identity without a DKIM domain, lookups that failed) is listed with the
catalogue's fix text, which holds the exact command, and never run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .. import catalogue as c
from ..fix_command import DNS_FIXABLE
from ..i18n import _
from ..models import DnsRecord, Finding, IdentityReport, ScanReport, SesIdentity, Severity
from ..scan.inventory import predicted_zone
from .records import fqdn, normal_value, txt_value

# Causes the checks set on the findings this package fixes (catalogue.CAUSES; spelled here too
# so the planner does not depend on the order in which the causes land in the catalogue).
DOUBLED_DOMAIN = "doubled-domain"  # the CNAME sits at <expected name>.<zone>; misplaced = that record
PUBLISHED_AS_TXT = "published-as-txt"  # a TXT (or another type) where the CNAME belongs; misplaced = it
TARGET_MISSING_DOT = "target-missing-dot"  # the CNAME's target got the zone appended; misplaced = that CNAME
DNS_CORRECT_NOW = "dns-correct-now"  # dkim-status-not-success: nothing to change in DNS

FIXED_BY_DNS = DNS_FIXABLE  # one list, shared with the alerts and the reports (fix_command.py)

# One report address: mailto:, no separator, quote or space that could end or reshape the record.
_RUA_ITEM = re.compile(r"^mailto:[^\s;,\"'\\@]+@[^\s;,\"'\\@!]+(![0-9]+[kmgt]?)?$", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class Owner:
    """The identity a fix or a finding belongs to."""

    identity: str
    region: str
    account: str


@dataclass(frozen=True, kw_only=True)
class RecordFix:
    """Publish ``publish``; first delete ``remove`` (the misplaced record) when ``safety`` allows it.

    A TXT moved from the doubled name has an empty ``publish.value``: its value
    is copied from the record itself (Route 53's record set, or DNS), never
    re-derived from the finding's display text. ``zone_confirmed`` is False
    when a CNAME's target rests on a signing zone SES did not confirm.
    """

    owner: Owner
    check: str
    cause: str
    publish: DnsRecord
    remove: DnsRecord | None = None
    zone_confirmed: bool = True
    unconfirmed_because: str = ""


@dataclass(frozen=True, kw_only=True)
class NotFixable:
    """A finding no DNS change fixes: shown with its fix text, never run."""

    owner: Owner
    check: str
    cause: str
    message: str
    fix: str


@dataclass(frozen=True, kw_only=True)
class LeftOut:
    """A fix the plan leaves out on purpose, and why (a DMARC record without --dmarc-rua)."""

    owner: Owner
    check: str
    record: DnsRecord
    reason: str


@dataclass(frozen=True, kw_only=True)
class Withheld:
    """A fix this command never applies (``safety.screen``), with the record it would publish and why."""

    owner: Owner
    check: str
    cause: str
    kind: str  # safety.OTHER_ACCOUNT, ZONE_UNCONFIRMED, RECEIVES_MAIL
    record: DnsRecord
    remove: DnsRecord | None
    reason: str


@dataclass(frozen=True)
class Triage:
    fixes: tuple[RecordFix, ...] = ()
    not_fixable: tuple[NotFixable, ...] = ()
    left_out: tuple[LeftOut, ...] = ()
    withheld: tuple[Withheld, ...] = ()
    # Every (MAIL FROM name, region) some scanned identity sends with, healthy or not: an MX at SES's feedback
    # host of one region may be what another region's identity uses today (safety.screen).
    mail_from_in_use: frozenset[tuple[str, str]] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.fixes or self.not_fixable or self.left_out or self.withheld)


def parse_rua(text: str) -> str:
    """Validate ``--dmarc-rua``: one or more ``mailto:`` addresses separated by commas.

    Raises ValueError naming what is wrong; the value goes into a TXT record,
    so nothing that could end the tag (``;``), the string (``"``) or the
    record may pass.
    """
    items = [item.strip() for item in text.split(",")]
    if not items or not all(_RUA_ITEM.match(item) for item in items):
        raise ValueError(
            f"{text!r} is not a DMARC report address list: use mailto:ADDRESS (several separated by commas)"
        )
    return ",".join(items)


def dmarc_starter(domain: str, rua: str) -> DnsRecord:
    """The starter DMARC record: monitor only (``p=none``), aggregate reports to ``rua``."""
    return DnsRecord(fqdn(f"_dmarc.{domain}"), "TXT", txt_value(f"v=DMARC1; p=none; rua={rua}"))


def triage(report: ScanReport, *, dmarc_rua: str | None) -> Triage:
    fixes: list[RecordFix] = []
    not_fixable: list[NotFixable] = []
    left_out: list[LeftOut] = []
    for ident in report.identities:
        f, n, left = triage_identity(ident, dmarc_rua=dmarc_rua)
        fixes += f
        not_fixable += n
        left_out += left
    in_use = frozenset(
        (fqdn(r.identity.mail_from.domain), r.identity.region)
        for r in report.identities
        if r.identity.mail_from is not None and r.identity.mail_from.domain
    )
    return Triage(tuple(fixes), tuple(not_fixable), tuple(left_out), mail_from_in_use=in_use)


def triage_identity(
    report: IdentityReport, *, dmarc_rua: str | None
) -> tuple[list[RecordFix], list[NotFixable], list[LeftOut]]:
    ident = report.identity
    owner = Owner(identity=ident.name, region=ident.region, account=ident.account)
    fixes: list[RecordFix] = []
    not_fixable: list[NotFixable] = []
    left_out: list[LeftOut] = []
    for finding in _actionable(report.findings):
        # A record to move (finding.record and finding.misplaced both named) is fixed by DNS whatever the
        # check: a BYODKIM key or a DMARC record published at the doubled name is moved as it is.
        moved = finding.misplaced is not None
        if finding.record is None or (not moved and finding.check not in FIXED_BY_DNS):
            not_fixable.append(
                NotFixable(
                    owner=owner, check=finding.check, cause=finding.cause, message=finding.message, fix=finding.fix
                )
            )
            continue
        record = finding.record
        if finding.check == c.DMARC_RECORD_MISSING and not moved:
            if not dmarc_rua:
                left_out.append(
                    LeftOut(
                        owner=owner,
                        check=finding.check,
                        record=record,
                        reason=_(
                            "a DMARC record names who receives its reports: pass --dmarc-rua mailto:ADDRESS to publish "
                            "a starter record (p=none, reports only)"
                        ),
                    )
                )
                continue
            record = DnsRecord(record.name, "TXT", dmarc_starter(ident.domain, dmarc_rua).value)
        rtype = record.type.upper()
        remove = _normal(finding.misplaced)
        # A TXT moved from the doubled name is copied from the record itself, byte for byte: the finding's
        # record is display text (shortened, its strings joined), never a value to publish.
        copied = remove is not None and rtype == "TXT" and remove.type == "TXT" and finding.cause == DOUBLED_DOMAIN
        value = "" if copied else normal_value(rtype, record.value)
        cname = rtype == "CNAME" and not ident.is_byodkim
        fixes.append(
            RecordFix(
                owner=owner,
                check=finding.check,
                cause=finding.cause,
                publish=DnsRecord(fqdn(record.name), rtype, value),
                remove=remove,
                zone_confirmed=ident.zone_confirmed or not cname,
                unconfirmed_because="" if ident.zone_confirmed or not cname else _unconfirmed(ident),
            )
        )
    return fixes, not_fixable, left_out


def _unconfirmed(ident: SesIdentity) -> str:
    """Why a predicted signing zone is all there is, as far as the report tells."""
    if ident.signing_hosted_zone and ident.signing_hosted_zone != predicted_zone(ident.region):
        return _("{zone} was learnt from another identity of {region} this run").format(
            zone=ident.signing_hosted_zone, region=ident.region
        )
    return _(
        "GetEmailIdentity was denied or failed, or the run's MAX_ZONE_CONFIRMATIONS budget was spent before this "
        "identity, or the region's DKIM zone is not in the monitor's table"
    )


def _actionable(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity.at_least(Severity.WARNING)]


def _normal(record: DnsRecord | None) -> DnsRecord | None:
    return None if record is None else DnsRecord(fqdn(record.name), record.type.upper(), record.value)
