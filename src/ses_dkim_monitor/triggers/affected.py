"""Which known identities an event puts in doubt: by the names SES events carry, or by the DNS
names a Route 53 change batch touches (in the accounts whose DNS that change is)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..models import domain_and_parents
from .events import EventKind, Recheck
from .fields import dns_name, identity_domain

EVERY_ACCOUNT = "*"  # DNS_ACCOUNT_MAP: a DNS account whose zones serve every monitored account


@dataclass(frozen=True)
class KnownIdentity:
    account: str
    region: str
    name: str
    domain: str
    mail_from: str | None = None


def _sort_key(identity: KnownIdentity) -> tuple[str, str, str, str, str]:
    return (identity.account, identity.region, identity.name, identity.domain, identity.mail_from or "")


def _same_identity(a: str, b: str) -> bool:
    """Domains compare case-insensitively; an address's local part as written."""
    if "@" in a or "@" in b:
        local_a, _, dom_a = a.rpartition("@")
        local_b, _, dom_b = b.rpartition("@")
        return local_a == local_b and identity_domain(dom_a) == identity_domain(dom_b)
    return identity_domain(a) == identity_domain(b)


def dns_accounts(account: str, dns_account_map: Sequence[tuple[str, Sequence[str]]]) -> frozenset[str]:
    """The accounts whose identities a DNS change made in ``account`` can affect.

    Its own, and those ``DNS_ACCOUNT_MAP`` says its zones serve (``*``: every
    monitored account). Anyone can create a hosted zone named like anyone's
    domain, in any account: only configuration says which zones are whose DNS.
    """
    return frozenset({account, *dict(dns_account_map).get(account, ())})


def affected(
    recheck: Recheck, known: Iterable[KnownIdentity], *, dns_accounts: frozenset[str] = frozenset()
) -> list[KnownIdentity]:
    """The identities an event puts in doubt, sorted, each once; [] when none we monitor.

    SES events reach only identities of the event's account, and those with a
    region (SES accounts are regional) only that region. A record change
    reaches identities whose names it holds, in every region (DNS is global),
    of the accounts in ``dns_accounts`` (the event's own when empty; see
    ``dns_accounts()``). A whole-zone event (DeleteHostedZone names no record)
    stays with the account's identities: Route 53 deletes only an empty zone,
    so its records' deletions came first, each an event of its own.
    """
    known = list(known)
    pool = [k for k in known if k.account == recheck.account]
    regional = pool if recheck.region is None else [k for k in pool if k.region == recheck.region]
    if recheck.whole_account:
        return sorted(set(regional), key=_sort_key)
    if recheck.kind is EventKind.ROUTE53:
        reach = dns_accounts or frozenset({recheck.account})
        served = known if EVERY_ACCOUNT in reach else [k for k in known if k.account in reach]
        return _affected_by_dns(recheck.dns_names, served)
    return _affected_by_names(recheck, regional)


def _affected_by_names(recheck: Recheck, regional: list[KnownIdentity]) -> list[KnownIdentity]:
    found: set[KnownIdentity] = set()
    for name in recheck.identities:
        matches = [k for k in regional if _same_identity(k.name, name)]
        if not matches and recheck.region is not None:
            # Not known yet (a new identity): check it all the same.
            matches = [KnownIdentity(recheck.account, recheck.region, name, identity_domain(name))]
        found.update(matches)
        if "@" not in name:
            # An address identity signs with its domain identity's DKIM key in
            # the same region: a change to the domain's DKIM is a change to it.
            domain = identity_domain(name)
            found.update(k for k in regional if "@" in k.name and identity_domain(k.domain) == domain)
    return sorted(found, key=_sort_key)


def _affected_by_dns(names: Iterable[str], pool: list[KnownIdentity]) -> list[KnownIdentity]:
    by_domain: dict[str, list[KnownIdentity]] = {}
    under: dict[str, list[KnownIdentity]] = {}  # a domain or parent -> identities at or below it
    by_mail_from: dict[str, list[KnownIdentity]] = {}
    for k in pool:
        domain = identity_domain(k.domain)
        by_domain.setdefault(domain, []).append(k)
        for parent in domain_and_parents(domain):
            under.setdefault(parent, []).append(k)
        if k.mail_from:
            by_mail_from.setdefault(dns_name(k.mail_from), []).append(k)

    found: set[KnownIdentity] = set()
    for raw in names:
        name = dns_name(raw)
        found.update(by_mail_from.get(name, ()))
        if name.startswith("_dmarc."):
            # Receivers fall back from _dmarc.<domain> to the parents' records.
            found.update(under.get(name[len("_dmarc.") :], ()))
        for domain in _dkim_domains(name, by_domain):
            found.update(by_domain[domain])
        # A change at or above the domain (NS, DNAME, CNAME, a wildcard) can
        # change every answer below it.
        at = name[2:] if name.startswith("*.") else name
        found.update(under.get(at, ()))
    return sorted(found, key=_sort_key)


def _dkim_domains(name: str, by_domain: Mapping[str, list[KnownIdentity]]) -> list[str]:
    """Known domains whose DKIM records ``name`` is or holds.

    ``<selector>._domainkey.<domain>``, the ``_domainkey.<domain>`` node
    itself, and the doubled ``<selector>._domainkey.<domain>.<zone>`` a DNS
    provider makes by appending its zone (the domain or a parent, as the probe
    looks for it) to a pasted full name.
    """
    if name.startswith("_domainkey."):
        rest = name[len("_domainkey.") :]
    else:
        _, sep, rest = name.partition("._domainkey.")
        if not sep:
            return []
    if rest in by_domain:
        return [rest]
    hits = []
    labels = rest.split(".")
    for i in range(1, len(labels)):
        domain, zone = ".".join(labels[:i]), ".".join(labels[i:])
        if domain in by_domain and zone in domain_and_parents(domain):
            hits.append(domain)
    return hits
