"""The data model shared by every step of the scan.

Values copy the SES v2 API's spelling (``SUCCESS``, ``TEMPORARY_FAILURE``,
``EMAIL_ADDRESS``) so a reader can match them against the API reference.
Everything is frozen: each step of the pipeline builds new values instead of
editing the previous step's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace


def domain_and_parents(domain: str, *, down_to: int = 2) -> list[str]:
    """The domain, then each parent down to ``down_to`` labels (``a.b.example.com`` ... ``example.com``).

    Two labels approximates an organisation's domain (an address identity is
    covered by a domain identity of its domain or a parent); callers that
    must reach a top-level domain pass ``down_to=1``.
    """
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(max(1, len(labels) - down_to + 1))]


class IdentityType(str, enum.Enum):
    DOMAIN = "DOMAIN"
    EMAIL_ADDRESS = "EMAIL_ADDRESS"


class SesStatus(str, enum.Enum):
    """Verification and DKIM status values of SES v2."""

    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    TEMPORARY_FAILURE = "TEMPORARY_FAILURE"
    NOT_STARTED = "NOT_STARTED"

    @classmethod
    def parse(cls, value: str | None) -> SesStatus | None:
        """Accept v2 spelling and v1 spelling (``TemporaryFailure``)."""
        if not value:
            return None
        normal = value.strip()
        for member in cls:
            if normal == member.value or normal.replace("_", "").lower() == member.value.replace("_", "").lower():
                return member
        return None


class SigningOrigin(str, enum.Enum):
    EASY_DKIM = "AWS_SES"
    BYODKIM = "EXTERNAL"


class Severity(str, enum.Enum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"critical": 3, "warning": 2, "info": 1}[self.value]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


class IdentityStatus(str, enum.Enum):
    OK = "ok"
    PROBLEM = "problem"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class MailFrom:
    """Custom MAIL FROM settings from SES v1 GetIdentityMailFromDomainAttributes."""

    domain: str
    status: SesStatus | None
    behavior_on_mx_failure: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SesIdentity:
    """One identity as SES reports it, merged from the list and batch calls.

    ``signing_hosted_zone`` is where Easy DKIM CNAMEs must point. It is
    predicted from the region unless ``zone_confirmed`` says it came from
    GetEmailIdentity.
    """

    name: str
    region: str
    type: IdentityType
    verification_status: SesStatus | None
    account: str = ""
    sending_enabled: bool
    dkim_enabled: bool = False
    dkim_status: SesStatus | None = None
    dkim_tokens: tuple[str, ...] = ()
    signing_origin: str = SigningOrigin.EASY_DKIM.value
    signing_hosted_zone: str | None = None
    zone_confirmed: bool = False
    mail_from: MailFrom | None = None
    # From GetEmailIdentity's VerificationInfo, when it was called: what SES saw and when.
    verification_error: str | None = None
    verification_checked_at: str | None = None

    @property
    def domain(self) -> str:
        """The DNS domain the identity sends from."""
        if self.type is IdentityType.EMAIL_ADDRESS:
            return self.name.rsplit("@", 1)[-1].lower().rstrip(".")
        return self.name.lower().rstrip(".")

    @property
    def is_byodkim(self) -> bool:
        return self.signing_origin == SigningOrigin.BYODKIM.value

    def dkim_target(self, token: str) -> str:
        """Where an Easy DKIM CNAME must point: ``<token>.<SigningHostedZone>``."""
        return f"{token}.{self.signing_hosted_zone}".lower()


@dataclass(frozen=True, slots=True)
class DnsRecord:
    """A record a user should publish: the machine-readable form of a fix."""

    name: str
    type: str
    value: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    """One problem with one identity.

    ``subject`` tells apart several findings of the same check on one
    identity (one per missing DKIM token); with ``check`` it forms the key
    alert state is stored under. ``source`` says whether the finding rests on
    SES's own status ("ses") or on DNS answers ("dns").
    """

    check: str
    severity: Severity
    message: str
    fix: str
    subject: str = ""
    source: str = "ses"
    record: DnsRecord | None = None
    cause: str = ""  # why the check fired: an id of catalogue.CAUSES, or "" when there is nothing more to say
    # A record published in the wrong place or form that the fix deletes (the doubled name, a TXT
    # where the CNAME belongs, a CNAME whose target got the zone appended); ``record`` is the one
    # to publish instead.
    misplaced: DnsRecord | None = None

    @property
    def key(self) -> str:
        return f"{self.check}#{self.subject}" if self.subject else self.check


@dataclass(frozen=True, slots=True)
class DnsZone:
    """The zone a domain's records live in and the name servers its NS records name (who serves it)."""

    apex: str
    nameservers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IdentityReport:
    identity: SesIdentity
    status: IdentityStatus
    findings: tuple[Finding, ...] = ()
    # Asked only when a finding needs a DNS change: the reports then name the DNS provider serving the zone.
    zone: DnsZone | None = None

    @property
    def worst(self) -> Severity | None:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: s.rank)


@dataclass(frozen=True)
class ShardError:
    """An (account, region) whose inventory could not be read (access denied, unreachable, out of time)."""

    region: str
    reason: str
    account: str = ""


@dataclass(frozen=True)
class ScanReport:
    identities: tuple[IdentityReport, ...]
    regions: tuple[str, ...]
    generated_at: str
    dns_lookups: int = 0
    dns_lookups_failed: int = 0
    ses_calls: dict[str, int] = field(default_factory=dict)
    errors: tuple[ShardError, ...] = ()
    accounts: tuple[str, ...] = ()
    ses_throttled: int = 0  # SES responses that said "slow down" (the pacer should keep this near 0)
    out_of_time: int = 0  # identities not checked because the run reached its time budget
    # A targeted re-check covers only some identities: (region, lower-cased name) of each one it
    # looked at, so alerting leaves every other identity's state alone. None: whole shards.
    scope: frozenset[tuple[str, str]] | None = None
    # Checks this report did not run (SES's recommendations on a re-check, or when they could not be
    # read): a finding of theirs that is absent is not gone, so its alert is kept as it is.
    unevaluated: frozenset[str] = frozenset()

    def covers(self, region: str, identity: str) -> bool:
        """True when this report speaks for ``identity`` (absent from it means gone, not unlooked-at)."""
        return self.scope is None or (region, identity.lower()) in self.scope

    def for_account(self, account: str) -> ScanReport:
        """This report restricted to one account's identities and shards (alert state is per account)."""
        return replace(
            self,
            identities=tuple(r for r in self.identities if r.identity.account == account),
            errors=tuple(e for e in self.errors if e.account == account),
            accounts=(account,),
        )
