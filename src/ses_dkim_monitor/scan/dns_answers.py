"""What the DNS probe learnt: answers sorted into present, absent and unknown.

These are the probe's output and the checks' input. ``Outcome.FAILED`` means
"could not tell" (timeout, SERVFAIL, REFUSED) and is never read as "absent".
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime

from ..models import SesIdentity, SesStatus


class Outcome(str, enum.Enum):
    """What a DNS server said. FAILED is "could not tell", never "absent"."""

    ANSWER = "answer"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Lookup:
    """One DNS question and what came back.

    ``values`` holds CNAME targets (absolute, without trailing dot) or TXT
    strings (each record's strings joined, as DKIM requires).
    ``cname`` is the CNAME a TXT query met at the name, if any.
    """

    name: str
    rdtype: str
    outcome: Outcome
    values: tuple[str, ...] = ()
    error: str | None = None
    cname: str | None = None

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAILED

    @property
    def absent(self) -> bool:
        return self.outcome in (Outcome.NXDOMAIN, Outcome.NODATA)


@dataclass(frozen=True, slots=True)
class DkimTokenDns:
    """What DNS holds for one Easy DKIM token (or one BYODKIM selector)."""

    token: str
    record: Lookup  # CNAME for Easy DKIM, TXT for BYODKIM
    target_txt: Lookup | None = None  # TXT at the CNAME's target (Easy DKIM)
    misplaced: Lookup | None = None  # the same CNAME at <name>.<zone apex>: the provider appended its zone
    other: Lookup | None = None  # what sits at the name instead of the CNAME (a TXT, an A...) when there is no CNAME


@dataclass(frozen=True, slots=True)
class SpfTree:
    """The MAIL FROM domain's SPF record, evaluated as a receiver evaluates mail from a host it does not list.

    A receiver evaluates the terms in order up to the first ``all``, through
    include: and redirect=, and stops at the first error (RFC 7208 4.6.4, 5.2):
    ``permerror`` (a catalogue cause id) with ``detail`` and ``where`` (the name
    involved) when a permanent error comes first; ``failed`` (the lookups that
    failed) when a DNS error comes first, a temperror: the result is unknown,
    never ``spf-invalid``. ``lookups`` counts the DNS-querying terms evaluated
    up to then (None when a lookup failed first); ``void`` the names whose
    lookup came back empty.

    ``authorises_ses`` is decided through the whole include tree, whatever
    error comes first: an evaluated ``+include:`` (directly, or through other
    ``+include:``s and redirect=) reaches amazonses.com. None when a lookup on
    the way failed, so it cannot be told.
    """

    lookups: int | None
    failed: tuple[Lookup, ...] = ()
    void: tuple[str, ...] = ()
    permerror: str | None = None
    detail: str = ""
    where: str = ""
    authorises_ses: bool | None = False


@dataclass(frozen=True, slots=True)
class ServerAnswer:
    """One authoritative server's own answer (asked without recursion) for one DKIM name."""

    server: str  # the NS host name
    address: str
    name: str  # the DKIM name asked
    outcome: Outcome
    # Every record it holds (the CNAME target; each TXT record's strings joined), sorted: a record set has no
    # order, and servers of different software send one set in different orders.
    values: tuple[str, ...] = ()
    error: str | None = None
    # Asked for TXT, the server answered with a CNAME (a BYODKIM selector published as an alias): its target.
    # An authoritative server does not follow it into another zone; the probe does.
    cname: str | None = None

    @property
    def said(self) -> tuple[Outcome, tuple[str, ...], str | None]:
        """What the server said, in the form two servers' answers are compared (the records as a set)."""
        return (self.outcome, tuple(sorted(self.values)), self.cname)


@dataclass(frozen=True, slots=True)
class DomainDns:
    """Everything the probe learned about one domain identity."""

    domain: str
    tokens: tuple[DkimTokenDns, ...] = ()
    dmarc: Lookup | None = None  # the record the DMARCbis tree walk found (or the first answer)
    dmarc_walk: tuple[str, ...] = ()  # the names the walk asked, in order
    dmarc_misplaced: Lookup | None = None  # a DMARC record at _dmarc.<domain>.<zone apex> when the walk found none
    # Names the walk went past because receivers discard what they hold: several DMARC records, or a near miss.
    dmarc_passed: tuple[Lookup, ...] = ()
    mail_from_mx: Lookup | None = None
    mail_from_txt: Lookup | None = None
    spf: SpfTree | None = None
    zone_apex: str | None = None  # the domain's zone apex, from SOA (asked when a record is missing)
    servers: tuple[ServerAnswer, ...] = ()  # the authoritative servers' answers (nameserver check)
    # The zone apex's NS hosts (sorted), asked only when a record needs a DNS change: who serves the zone.
    nameservers: tuple[str, ...] = ()


def points_elsewhere(identity: SesIdentity, tok: DkimTokenDns) -> bool:
    """True when an Easy DKIM CNAME answers with a target other than the expected one.

    The one wrong-target predicate: the engine uses it to decide when to
    confirm the signing zone, the checks to report and to ignore the TXT
    behind such a CNAME.
    """
    if identity.is_byodkim or tok.record.outcome is not Outcome.ANSWER:
        return False
    if identity.signing_hosted_zone is None:
        return True  # no zone to compare with (a partition whose SES zone is unknown): only SES can tell
    return tok.record.values[0] != identity.dkim_target(tok.token)


def servers_may_explain(identity: SesIdentity, dns: DomainDns) -> bool:
    """Where servers that disagree would explain what was seen: SES not at SUCCESS, or a DKIM record wrong."""
    if not dns.tokens:
        return False
    if identity.dkim_status is not SesStatus.SUCCESS:
        return True
    return any(tok.record.outcome is not Outcome.ANSWER for tok in dns.tokens if not identity.is_byodkim) or any(
        points_elsewhere(identity, tok) for tok in dns.tokens
    )


def points_off_zone(identity: SesIdentity, dns: DomainDns) -> bool:
    """A CNAME points somewhere other than the predicted zone: SES must confirm before it is called wrong."""
    return any(points_elsewhere(identity, tok) for tok in dns.tokens)


def fix_needs_real_zone(identity: SesIdentity, dns: DomainDns) -> bool:
    """A CNAME is missing and its fix would name a target built from a predicted zone."""
    return any(tok.record.absent for tok in dns.tokens)


DAY_SECONDS = 86_400


def _turn(name: str) -> int:
    """The identity's place in the UTC day, in seconds: a stable hash of its name (the same on every run)."""
    return int(hashlib.sha256(name.lower().encode()).hexdigest()[:12], 16) % DAY_SECONDS


def sample_window(period: float) -> float:
    """How far back a run's turn reaches: the schedule's period, a tenth more for a late run, a day at most."""
    return min(float(DAY_SECONDS), period + max(60.0, period / 10))


def in_sample(name: str, *, at: datetime, period: float) -> bool:
    """Whether a run at ``at`` compares this identity's authoritative servers (``CHECK_NAMESERVERS=sample``).

    A run takes the identities whose turn (``_turn``) fell in the last
    ``sample_window(period)`` seconds, ``period`` being the longest gap
    between two scheduled runs. So with runs at most ``period`` apart, each up
    to a tenth of it late, every identity's turn is inside some run's window
    every day: each identity is compared at least once in any 24 hours plus
    one period, and an hourly run compares about 1/24 of them (4.6 % with the
    margin). Runs closer together compare some identities twice; a run that
    never happens leaves its turn to the next day.
    """
    elapsed = (int(at.timestamp()) - _turn(name)) % DAY_SECONDS
    return elapsed < sample_window(period)
