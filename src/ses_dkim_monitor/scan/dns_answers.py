"""What the DNS probe learnt: answers sorted into present, absent and unknown.

These are the probe's output and the checks' input. ``Outcome.FAILED`` means
"could not tell" (timeout, SERVFAIL, REFUSED) and is never read as "absent".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..models import SesIdentity


class Outcome(str, enum.Enum):
    """What a DNS server said. FAILED is "could not tell", never "absent"."""

    ANSWER = "answer"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    FAILED = "failed"


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class DkimTokenDns:
    """What DNS holds for one Easy DKIM token (or one BYODKIM selector)."""

    token: str
    record: Lookup  # CNAME for Easy DKIM, TXT for BYODKIM
    target_txt: Lookup | None = None  # TXT at the CNAME's target (Easy DKIM)
    misplaced: Lookup | None = None  # the same CNAME at <name>.<domain>, the provider-appended-zone mistake


@dataclass(frozen=True)
class DomainDns:
    """Everything the probe learned about one domain identity."""

    domain: str
    tokens: tuple[DkimTokenDns, ...] = ()
    dmarc: Lookup | None = None
    mail_from_mx: Lookup | None = None
    mail_from_txt: Lookup | None = None


def points_elsewhere(identity: SesIdentity, tok: DkimTokenDns) -> bool:
    """True when an Easy DKIM CNAME answers with a target other than the expected one.

    The one wrong-target predicate: the engine uses it to decide when to
    confirm the signing zone, the checks to report and to ignore the TXT
    behind such a CNAME.
    """
    if identity.is_byodkim or tok.record.outcome is not Outcome.ANSWER:
        return False
    return tok.record.values[0] != identity.dkim_target(tok.token)
