"""One (account, region) shard of a scan: its inputs, its working state while the engine runs, and small helpers.

Kept apart from ``engine`` so the engine reads as the flow it runs; nothing
here calls AWS or DNS.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..models import IdentityReport, IdentityStatus, SesIdentity, ShardError
from .dns_answers import DomainDns
from .inventory import SesInventory
from .zone_memory import ConfirmedZone, tokens_fingerprint


@dataclass(frozen=True)
class Shard:
    """One account and region, with the SES clients (already paced) to read it."""

    account: str
    region: str
    sesv2: Any
    ses: Any
    # Only these identities (an event-driven re-check): read one by one, the region is not listed.
    identities: tuple[str, ...] | None = None


@dataclass
class ShardRun:
    """One shard's working state during a scan."""

    shard: Shard
    inventory: SesInventory
    domains: dict[str, SesIdentity] = field(default_factory=dict)
    emails: list[SesIdentity] = field(default_factory=list)
    reports: list[IdentityReport] = field(default_factory=list)
    off_zone: list[tuple[SesIdentity, DomainDns]] = field(default_factory=list)
    predicted: list[tuple[SesIdentity, DomainDns]] = field(default_factory=list)
    unfinished_domains: set[str] = field(default_factory=set)
    remembered: dict[str, ConfirmedZone] = field(default_factory=dict)
    learned_zone: str | None = None
    error: ShardError | None = None


def remembered(run: ShardRun, ident: SesIdentity) -> SesIdentity:
    """The identity with a zone SES confirmed on an earlier run, if its tokens are the same."""
    memo = run.remembered.get(ident.name)
    if memo is None or memo.tokens != tokens_fingerprint(ident.dkim_tokens) or not memo.zone:
        return ident
    return replace(ident, signing_hosted_zone=memo.zone, signing_origin=memo.origin, zone_confirmed=True)


def unfetched(run: ShardRun, ident: SesIdentity) -> str | None:
    ledger = run.inventory.ledger
    return ledger.unfetched.get(ident.name) if ledger is not None else None


def sort_key(report: IdentityReport) -> tuple[int, int, str, str, str]:
    order = {IdentityStatus.PROBLEM: 0, IdentityStatus.UNKNOWN: 1, IdentityStatus.OK: 2}[report.status]
    worst = report.worst.rank if report.worst else 0
    ident = report.identity
    return (order, -worst, ident.account, ident.region, ident.name)
